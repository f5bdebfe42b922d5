// What the webhook server tests share: a serving certificate as the files -tls-cert-file and -tls-key-file
// read, and an AdmissionReview POSTed to /mutate over HTTPS as the API server sends it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority, issueCertificate } from '@vaultbridge/testenv';

export interface ServingCertificateFiles {
  /** The CA that signed the certificate: what a client (or a webhook configuration's caBundle) trusts. */
  caPem: string;
  certFile: string;
  keyFile: string;
}

/** A fresh CA named `name` and a server certificate for 127.0.0.1, written as tls.crt/tls.key in a new temp dir. */
export async function servingCertificateFiles(name: string, commonName: string): Promise<ServingCertificateFiles> {
  const ca = await createCertificateAuthority(name);
  const serving = await issueCertificate(ca, { commonName, usage: 'server', ipAddresses: ['127.0.0.1'] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  fs.writeFileSync(certFile, serving.certPem);
  fs.writeFileSync(keyFile, serving.keyPem);
  return { caPem: ca.certPem, certFile, keyFile };
}

/** POSTs `body` to /mutate on 127.0.0.1:`port`; resolves with the status once the whole answer is read. */
export function postReview(
  port: number,
  body: string | Buffer,
  options: { ca?: string; agent?: https.Agent; contentType?: string } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/mutate',
        method: 'POST',
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        headers: {
          'content-type': options.contentType ?? 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Collects a spawned webhook's stdout and stderr and resolves once its /health/ready answers 2xx over
 * HTTPS (its own certificate is not checked: readiness, not trust, is the question); fails with what
 * it printed if it exits first or is not ready within `timeoutMs`. `output()` reads what it printed.
 */
export async function untilWebhookReady(
  child: ChildProcess,
  port: number,
  label: string,
  timeoutMs = 60_000,
): Promise<{ output: () => string }> {
  let printed = '';
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const readyStatus = () =>
    new Promise<number>((resolve) => {
      https
        .get({ host: '127.0.0.1', port, path: '/health/ready', rejectUnauthorized: false, timeout: 2_000 }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        })
        .on('timeout', function (this: { destroy(): void }) {
          this.destroy();
        })
        .on('error', () => resolve(0));
    });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited (${child.exitCode}): ${printed}`);
    const status = await readyStatus();
    if (status >= 200 && status < 300) return { output: () => printed };
    if (Date.now() > deadline) throw new Error(`${label} was not ready within ${timeoutMs / 1000} s: ${printed}`);
    await sleep(200);
  }
}

/** A Pod CREATE AdmissionReview as the API server sends it, as JSON. */
export function podCreateReview(object: object, uid = '00000000-0000-0000-0000-000000000001'): string {
  const metadata = (object as { metadata?: { namespace?: string } }).metadata;
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: metadata?.namespace ?? 'default',
      operation: 'CREATE',
      object,
    },
  });
}
