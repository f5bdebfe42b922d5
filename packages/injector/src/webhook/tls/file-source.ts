import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import type { CertificateSource, CertificateSourceEvents, ServingCertificate } from './source.ts';

export interface FileCertificateOptions {
  certFile: string;
  keyFile: string;
  caFile?: string;
  pollMs?: number;
}

/**
 * Certificate and key files (e.g. from cert-manager), re-read when they change. A half-rotated pair
 * (new cert, old key) is not served: the pair is only swapped when both parse together.
 */
export class FileCertificateSource extends EventEmitter<CertificateSourceEvents> implements CertificateSource {
  private readonly options: Required<Omit<FileCertificateOptions, 'caFile'>> & { caFile?: string };
  private served: ServingCertificate | undefined;
  private lastStamp = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(options: FileCertificateOptions) {
    super();
    this.options = { pollMs: 1000, ...options };
  }

  current(): ServingCertificate | undefined {
    return this.served;
  }

  /** Whoever made the files (cert-manager, an admin) also put their CA where the API server reads it. */
  trusted(): boolean {
    return this.served !== undefined;
  }

  async start(): Promise<ServingCertificate> {
    for (;;) {
      try {
        this.reload();
      } catch (error) {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      }
      if (this.served) break;
      await sleep(this.options.pollMs);
    }
    this.timer = setInterval(() => {
      try {
        this.reload();
      } catch (error) {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      }
    }, this.options.pollMs);
    this.timer.unref();
    return this.served;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  private reload(): void {
    const files = [this.options.certFile, this.options.keyFile, this.options.caFile].filter((f): f is string =>
      Boolean(f),
    );
    const stamp = files.map((f) => `${f}:${fs.statSync(f).mtimeMs}`).join('|');
    if (stamp === this.lastStamp) return;
    const certPem = fs.readFileSync(this.options.certFile, 'utf8');
    const keyPem = fs.readFileSync(this.options.keyFile, 'utf8');
    const caPem = this.options.caFile ? fs.readFileSync(this.options.caFile, 'utf8') : undefined;
    // Throws on a mismatched or unparsable pair, so the previous pair stays in service.
    tls.createSecureContext({ cert: certPem, key: keyPem });
    this.lastStamp = stamp;
    this.served = { certPem, keyPem, ...(caPem ? { caPem } : {}) };
    this.emit('changed', this.served);
  }
}
