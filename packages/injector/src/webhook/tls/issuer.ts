// Generation of the TLS-auto CA and serving certificates with @peculiar/x509: imported only when one is
// made (certificate-issuer.ts), and by the shipped webhook only in its `issue-certificate` child, since
// x509 with tsyringe and reflect-metadata costs ~2 MiB RSS (tools/bench/import-cost.ts) and stays in a
// heap once imported. Reading certificates (validity, signatures) is node:crypto, in certificates.ts.
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect polyfill first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import net from 'node:net';
import * as x509 from '@peculiar/x509';
import type { PemKeyPair } from './certificates.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

// ECDSA P-256 as upstream's generated webhook certificates.
const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const hour = 60 * 60 * 1000;

/** Back-date a little for clock skew, but never so much that a short-lived certificate looks old. */
function notBeforeFor(now: number, validityHours: number): Date {
  return new Date(now - Math.min(60_000, (validityHours * hour) / 10));
}

/** PEM blocks must start on a line of their own, or Go (the API server) cannot parse a bundle of them. */
function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error('no PEM block in the CA private key');
  return webcrypto.subtle.importKey('pkcs8', der, ecdsa, true, ['sign']);
}

export async function generateCertificateAuthority(validityHours: number, now = Date.now()): Promise<PemKeyPair> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Vaultbridge Injector CA',
    notBefore: notBeforeFor(now, validityHours),
    notAfter: new Date(now + validityHours * hour),
    keys,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: withNewline(cert.toString('pem')), keyPem: withNewline(await exportKey(keys.privateKey)) };
}

/** A serving certificate for the webhook's hosts (DNS names and IPs), signed by `ca`. */
export async function issueServingCertificate(
  ca: PemKeyPair,
  hosts: string[],
  validityHours: number,
  now = Date.now(),
): Promise<PemKeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKey(ca.keyPem);
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const names = hosts.map((host) =>
    net.isIP(host) ? { type: 'ip' as const, value: host } : { type: 'dns' as const, value: host },
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=Vaultbridge Injector',
    issuer: caCert.subject,
    notBefore: notBeforeFor(now, validityHours),
    notAfter: new Date(now + validityHours * hour),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: withNewline(cert.toString('pem')), keyPem: withNewline(await exportKey(keys.privateKey)) };
}
