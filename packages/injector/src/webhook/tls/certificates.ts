// Reading the webhook's certificates (validity, who signed them, PEM bundles) with node:crypto; the
// generation, which needs @peculiar/x509, is in issuer.ts and loaded only when a certificate is made.
import { X509Certificate as NodeX509 } from 'node:crypto';

export interface PemKeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateTimes {
  notBefore: Date;
  notAfter: Date;
}

/** Validity of the first certificate in a PEM bundle. */
export function certificateTimes(pem: string): CertificateTimes {
  const cert = new NodeX509(pem);
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** True when less than `fraction` of the certificate's lifetime is left (or it is already expired). */
export function needsRotation(pem: string, fraction: number, now = Date.now()): boolean {
  const { notBefore, notAfter } = certificateTimes(pem);
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return notAfter.getTime() - now < lifetime * fraction;
}

/** Splits a PEM bundle into its certificates. */
export function splitPemBundle(bundle: string): string[] {
  return (
    bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((pem) => pem.trim() + '\n') ??
    []
  );
}

/** True when `leafPem` is signed by `caPem`. */
export function isSignedBy(leafPem: string, caPem: string): boolean {
  try {
    return new NodeX509(leafPem).verify(new NodeX509(caPem).publicKey);
  } catch {
    return false;
  }
}
