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
  stop(): Promise<void>;
}
