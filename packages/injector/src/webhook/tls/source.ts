import type { EventEmitter } from 'node:events';

/** What the HTTPS server serves. `caPem` is the bundle clients should trust (newest CA first). */
export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  caPem?: string;
}

export interface CertificateSourceEvents {
  changed: [ServingCertificate];
  error: [Error];
}

/** Where the webhook's serving certificate comes from: files on disk or the shared Secret. */
export interface CertificateSource extends EventEmitter<CertificateSourceEvents> {
  /** Resolves once a certificate is available: the server never listens without one. */
  start(): Promise<ServingCertificate>;
  current(): ServingCertificate | undefined;
  /**
   * Whether the API server is known to trust the served certificate, so a review sent now succeeds.
   * Readiness waits for it: with failurePolicy Ignore a review the API server cannot verify is skipped
   * and the pod is stored without its agent.
   */
  trusted(): boolean;
  stop(): Promise<void>;
}
