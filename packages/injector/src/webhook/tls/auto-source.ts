import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound, LeaseLock, type KubeHttp } from '@vaultbridge/core';
import { isSignedBy, needsRotation, splitPemBundle, certificateTimes, type PemKeyPair } from './certificates.ts';
import { caBundleTrusts, publishCaBundle } from './ca-bundle.ts';
import { inProcessIssuer, type CertificateIssuer } from './certificate-issuer.ts';
import type { CertificateSource, CertificateSourceEvents, ServingCertificate } from './source.ts';

const hour = 3600_000;

export interface AutoCertificateOptions {
  /** The API client (KubeHttp: plain JSON on node:https, so the webhook does not load client-node). */
  kube: KubeHttp;
  namespace: string;
  /** Secret that holds the shared CA and serving pair (upstream: vault-injector-certs). */
  secretName: string;
  /** MutatingWebhookConfiguration whose every webhook gets the CA bundle (upstream: -tls-auto). */
  webhookConfigName: string;
  /** SANs of the serving certificate (upstream: -tls-auto-hosts). */
  hosts: string[];
  /** Unique per replica (the pod name). */
  identity: string;
  caValidityMs?: number;
  leafValidityMs?: number;
  /** Rotate when less than this fraction of a certificate's life is left. */
  rotateFraction?: number;
  /** How long a new CA must be published in the webhook configuration before leaves are signed by it. */
  caPropagationMs?: number;
  pollMs?: number;
  leaseDurationSeconds?: number;
  /**
   * What makes the CA and serving certificates; default in this process. `serve` from the command line
   * passes a child process (issuer-process.ts), so the generator never stays in the webhook's heap.
   */
  issuer?: CertificateIssuer;
}

interface StoredCertificates {
  caBundle: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
  caPublishedAt: number;
  resourceVersion: string | undefined;
}

const publishedAnnotation = 'secrets.vaultbridge.dev/ca-published-at';

/**
 * One CA and serving pair shared by every replica through a Secret, so no two replicas ever serve
 * certificates from different CAs (upstream's per-process CA makes replicas fight, vault-helm #580).
 * The replica holding the Lease creates and rotates them before expiry and patches the CA bundle
 * into every webhook of the configuration; every replica serves what the Secret holds.
 *
 * CA rotation is staged: the new CA is published next to the old one first, and leaves are signed by
 * it only after `caPropagationMs`, so the API server trusts whichever leaf a replica serves meanwhile.
 */
export class AutoCertificateSource extends EventEmitter<CertificateSourceEvents> implements CertificateSource {
  private readonly options: Required<AutoCertificateOptions>;
  private readonly kube: KubeHttp;
  private readonly lock: LeaseLock;
  private served: ServingCertificate | undefined;
  /** The webhook configuration, as last read, holds the CA of the served leaf in every webhook. */
  private published = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: AutoCertificateOptions) {
    super();
    this.options = {
      caValidityMs: 10 * 365 * 24 * hour,
      leafValidityMs: 30 * 24 * hour,
      rotateFraction: 1 / 3,
      caPropagationMs: 30_000,
      pollMs: 5_000,
      leaseDurationSeconds: 15,
      issuer: inProcessIssuer,
      ...options,
    };
    this.kube = options.kube;
    this.lock = new LeaseLock({
      kube: options.kube,
      namespace: options.namespace,
      name: `${options.secretName}-leader`,
      identity: options.identity,
      leaseDurationSeconds: this.options.leaseDurationSeconds,
      retryPeriodMs: Math.min(this.options.pollMs, 2000),
    });
    this.lock.on('error', (error) => this.emit('error', error));
  }

  current(): ServingCertificate | undefined {
    return this.served;
  }

  /**
   * True once every webhook of the configuration carries a caBundle holding the CA that signed the
   * served leaf: before that (a fresh install, the configuration re-created by helm, a new CA not yet
   * patched in) the API server cannot verify this replica, and a pod admitted then under failurePolicy
   * Ignore would be stored without its agent.
   */
  trusted(): boolean {
    return this.published;
  }

  get isLeader(): boolean {
    return this.lock.isLeader;
  }

  async start(): Promise<ServingCertificate> {
    this.running = true;
    this.lock.start();
    for (;;) {
      await this.reconcileSafely();
      if (this.served) break;
      await sleep(Math.min(this.options.pollMs, 500));
      if (!this.running) throw new Error('certificate source stopped before a certificate was available');
    }
    this.schedule();
    return this.served;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.lock.stop();
  }

  /** One round: the leader creates or rotates; everyone serves what the Secret holds. Exposed for tests. */
  async reconcile(now = Date.now()): Promise<void> {
    let stored = await this.readSecret();
    if (this.lock.isLeader) {
      stored = await this.rotateIfNeeded(stored, now);
      if (stored) await this.publishCaBundle(stored.caBundle);
    }
    if (stored && isSignedByAny(stored.certPem, stored.caBundle)) {
      const next: ServingCertificate = { certPem: stored.certPem, keyPem: stored.keyPem, caPem: stored.caBundle };
      if (next.certPem !== this.served?.certPem || next.caPem !== this.served?.caPem) {
        this.served = next;
        this.emit('changed', next);
      }
    }
    // A failed read throws and keeps the last answer: readiness does not flap with the API server.
    this.published =
      this.served !== undefined &&
      (await caBundleTrusts(this.kube, this.options.webhookConfigName, this.served.certPem));
  }

  private schedule(): void {
    if (!this.running) return;
    // Until the CA is seen published, look again every second: readiness waits on it.
    this.timer = setTimeout(
      () => {
        void this.reconcileSafely().then(() => this.schedule());
      },
      this.published ? this.options.pollMs : Math.min(this.options.pollMs, 1000),
    );
    this.timer.unref();
  }

  private async reconcileSafely(): Promise<void> {
    try {
      await this.reconcile();
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async readSecret(): Promise<StoredCertificates | undefined> {
    let secret: V1Secret;
    try {
      secret = await this.kube.get<V1Secret>(this.secretsPath(this.options.secretName));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const field = (key: string): string => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
    const stored = {
      caBundle: field('ca.crt'),
      caKeyPem: field('ca.key'),
      certPem: field('tls.crt'),
      keyPem: field('tls.key'),
      caPublishedAt: Number(secret.metadata?.annotations?.[publishedAnnotation] ?? 0),
      resourceVersion: secret.metadata?.resourceVersion,
    };
    // A Secret someone emptied or broke is treated as absent by the leader, which writes a new one.
    return stored.caBundle && stored.caKeyPem && stored.certPem && stored.keyPem
      ? stored
      : { ...stored, caBundle: '', certPem: '' };
  }

  private async rotateIfNeeded(
    stored: StoredCertificates | undefined,
    now: number,
  ): Promise<StoredCertificates | undefined> {
    const o = this.options;
    const cas = stored?.caBundle ? splitPemBundle(stored.caBundle) : [];
    const newestCa = cas[0];
    let next: StoredCertificates | undefined;

    const issuer = o.issuer;
    if (!stored || !newestCa || !stored.caKeyPem) {
      // First start (or a broken Secret): a fresh CA is trusted at once, nothing else exists yet.
      const ca = await issuer.generateCertificateAuthority(o.caValidityMs / hour, now);
      const leaf = await issuer.issueServingCertificate(ca, o.hosts, o.leafValidityMs / hour, now);
      next = {
        caBundle: ca.certPem,
        caKeyPem: ca.keyPem,
        ...pair(leaf),
        caPublishedAt: now,
        resourceVersion: stored?.resourceVersion,
      };
    } else if (needsRotation(newestCa, o.rotateFraction, now)) {
      // Stage 1 of a CA rotation: publish the new CA beside the still-valid old ones; the leaf stays.
      const ca = await issuer.generateCertificateAuthority(o.caValidityMs / hour, now);
      const stillValid = cas.filter((pem) => certificateTimes(pem).notAfter.getTime() > now);
      next = { ...stored, caBundle: [ca.certPem, ...stillValid].join(''), caKeyPem: ca.keyPem, caPublishedAt: now };
    } else {
      const leafFromNewest = isSignedBy(stored.certPem, newestCa);
      const caSettled = now - stored.caPublishedAt >= o.caPropagationMs;
      const leafDue =
        !isSignedByAny(stored.certPem, stored.caBundle) ||
        needsRotation(stored.certPem, o.rotateFraction, now) ||
        !sameHosts(stored.certPem, o.hosts);
      if ((leafDue || !leafFromNewest) && caSettled) {
        // Stage 2 (or a plain leaf renewal): sign with the newest CA once every API server trusts it.
        const leaf = await issuer.issueServingCertificate(
          { certPem: newestCa, keyPem: stored.caKeyPem },
          o.hosts,
          o.leafValidityMs / hour,
          now,
        );
        const stillValid = cas.filter((pem) => certificateTimes(pem).notAfter.getTime() > now);
        next = { ...stored, ...pair(leaf), caBundle: stillValid.join('') };
      }
    }
    if (!next) return stored;
    await this.writeSecret(next);
    return this.readSecret();
  }

  private async writeSecret(next: StoredCertificates): Promise<void> {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: this.options.secretName,
        namespace: this.options.namespace,
        annotations: { [publishedAnnotation]: String(next.caPublishedAt) },
        labels: { 'app.kubernetes.io/managed-by': 'vaultbridge-injector' },
        ...(next.resourceVersion ? { resourceVersion: next.resourceVersion } : {}),
      },
      type: 'Opaque',
      data: {
        'ca.crt': b64(next.caBundle),
        'ca.key': b64(next.caKeyPem),
        'tls.crt': b64(next.certPem),
        'tls.key': b64(next.keyPem),
      },
    };
    try {
      if (next.resourceVersion) {
        await this.kube.request('PUT', this.secretsPath(this.options.secretName), { body });
      } else {
        await this.kube.request('POST', this.secretsPath(), { body });
      }
    } catch (error) {
      // Someone else wrote first (a leader that has just lost the lease): read again next round.
      if (isConflict(error)) return;
      throw error;
    }
  }

  private async publishCaBundle(caBundle: string): Promise<void> {
    await publishCaBundle(this.kube, this.options.webhookConfigName, caBundle);
  }

  private secretsPath(name?: string): string {
    const base = `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}/secrets`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function pair(leaf: PemKeyPair): { certPem: string; keyPem: string } {
  return { certPem: leaf.certPem, keyPem: leaf.keyPem };
}

function isSignedByAny(leafPem: string, bundle: string): boolean {
  return splitPemBundle(bundle).some((ca) => isSignedBy(leafPem, ca));
}

function sameHosts(leafPem: string, hosts: string[]): boolean {
  const san = new X509Certificate(leafPem).subjectAltName ?? '';
  const present = san.split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
  return hosts.every((host) => present.includes(host));
}
