// PKI secrets engine: issue a certificate from a role and read what is in it.
import { X509Certificate } from 'node:crypto';
import type { VaultClient } from './client.ts';
import { dynamicSecretFromResponse, type DynamicSecret } from './dynamic.ts';
import { VaultProtocolError } from './errors.ts';

export interface IssueCertificateOptions {
  /** PKI mount. Default `pki`. */
  mount?: string;
  role: string;
  /** Issue with this issuer (`<mount>/issuer/<ref>/issue/<role>`); the mount's default issuer when absent. */
  issuerRef?: string;
  /** Common name; the role decides whether one is required. */
  commonName?: string;
  altNames?: string[];
  ipSans?: string[];
  uriSans?: string[];
  /** `<oid>;<type>:<value>` each. */
  otherSans?: string[];
  userIds?: string[];
  /** Vault duration ("24h", "7d") or seconds. */
  ttl?: string | number;
  /** Expiry as `YYYY-MM-ddTHH:MM:SSZ`, instead of ttl. */
  notAfter?: string;
  excludeCnFromSans?: boolean;
  /** Encoding of `certificate`. Default `pem`. */
  format?: 'pem' | 'der' | 'pem_bundle';
  /** E.g. `pkcs8`; Vault's default when absent. */
  privateKeyFormat?: string;
  /** Leave the root CA out of `ca_chain` (as VSO asks). */
  removeRootsFromChain?: boolean;
  signal?: AbortSignal;
}

/** The fields `pki/issue/<role>` returns, as Vault names them (templates use these names). */
export interface PkiIssueData {
  certificate: string;
  issuing_ca: string;
  ca_chain?: string[];
  private_key: string;
  private_key_type: string;
  serial_number: string;
  /** Unix seconds. */
  expiration: number;
}

export interface ParsedCertificate {
  subject: string;
  issuer: string;
  commonName: string | undefined;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emails: string[];
  fingerprint256: string;
  isCa: boolean;
}

export interface IssuedCertificate {
  certificate: string;
  issuingCa: string;
  caChain: string[];
  privateKey: string;
  privateKeyType: string;
  serialNumber: string;
  expiration: Date;
  /** What the certificate says, read with node's X509Certificate. */
  parsed: ParsedCertificate;
  /** The raw answer with its lease fields, for templates and the LeaseManager. */
  secret: DynamicSecret<PkiIssueData>;
}

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate PEM block in `pem`, in order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(pemBlock) ?? [];
}

/** Splits node's subjectAltName text ("DNS:a, IP Address:1.2.3.4"); values with ", " come JSON-quoted. */
function parseSubjectAltName(
  text: string | undefined,
): Pick<ParsedCertificate, 'dnsNames' | 'ipAddresses' | 'uris' | 'emails'> {
  const result = {
    dnsNames: [] as string[],
    ipAddresses: [] as string[],
    uris: [] as string[],
    emails: [] as string[],
  };
  if (!text) return result;
  const entries = text.match(/(?:[^,"]|"(?:\\.|[^"\\])*")+/g) ?? [];
  for (const raw of entries) {
    const entry = raw.trim();
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const kind = entry.slice(0, colon);
    let value = entry.slice(colon + 1);
    if (value.startsWith('"')) value = JSON.parse(value) as string;
    if (kind === 'DNS') result.dnsNames.push(value);
    else if (kind === 'IP Address') result.ipAddresses.push(value);
    else if (kind === 'URI') result.uris.push(value);
    else if (kind === 'email') result.emails.push(value);
  }
  return result;
}

/** Reads the first certificate of a PEM. */
export function parseCertificate(pem: string): ParsedCertificate {
  const first = splitPemCertificates(pem)[0];
  if (!first) throw new VaultProtocolError('no PEM certificate block found');
  return describeCertificate(first);
}

function describeCertificate(encoded: string | Buffer): ParsedCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(encoded);
  } catch (error) {
    throw new VaultProtocolError(`the certificate cannot be read: ${(error as Error).message}`);
  }
  const commonName = cert.subject
    .split('\n')
    .find((line) => line.startsWith('CN='))
    ?.slice(3);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonName,
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    ...parseSubjectAltName(cert.subjectAltName),
    fingerprint256: cert.fingerprint256,
    isCa: cert.ca,
  };
}

/** Vault's issue path: `<mount>/issue/<role>`, or `<mount>/issuer/<ref>/issue/<role>` with an issuer. */
export function pkiIssuePath(options: Pick<IssueCertificateOptions, 'mount' | 'role' | 'issuerRef'>): string {
  const mount = (options.mount ?? 'pki').replace(/^\/+|\/+$/g, '');
  return options.issuerRef
    ? `${mount}/issuer/${options.issuerRef}/issue/${options.role}`
    : `${mount}/issue/${options.role}`;
}

/** The request body: lists comma-joined, and only what is set (Vault takes absent and empty alike). */
export function pkiIssueBody(options: IssueCertificateOptions): Record<string, unknown> {
  const list = (name: string, values: string[] | undefined) => (values?.length ? { [name]: values.join(',') } : {});
  return {
    ...(options.commonName ? { common_name: options.commonName } : {}),
    ...list('alt_names', options.altNames),
    ...list('ip_sans', options.ipSans),
    ...list('uri_sans', options.uriSans),
    ...list('other_sans', options.otherSans),
    ...list('user_ids', options.userIds),
    ...(options.ttl === undefined || options.ttl === ''
      ? {}
      : { ttl: typeof options.ttl === 'number' ? `${options.ttl}s` : options.ttl }),
    ...(options.notAfter ? { not_after: options.notAfter } : {}),
    ...(options.excludeCnFromSans ? { exclude_cn_from_sans: true } : {}),
    ...(options.privateKeyFormat ? { private_key_format: options.privateKeyFormat } : {}),
    ...(options.removeRootsFromChain ? { remove_roots_from_chain: true } : {}),
    format: options.format ?? 'pem',
  };
}

/**
 * `POST <mount>/issue/<role>` (or through an issuer): a new key and certificate. The private key is
 * registered with the log redactor before this returns.
 */
export async function issueCertificate(
  client: VaultClient,
  options: IssueCertificateOptions,
): Promise<IssuedCertificate> {
  const path = pkiIssuePath(options);
  const response = await client.write<PkiIssueData>(
    path,
    pkiIssueBody(options),
    options.signal ? { signal: options.signal } : {},
  );
  if (!response?.data?.certificate)
    throw new VaultProtocolError(`Vault's answer to POST ${path} holds no certificate`, { method: 'POST', path });
  const data = response.data;
  const secret = dynamicSecretFromResponse(path, response);
  if (!data.serial_number || typeof data.expiration !== 'number') {
    throw new VaultProtocolError(`Vault's answer to POST ${path} has no serial_number or expiration`, {
      method: 'POST',
      path,
    });
  }
  return {
    certificate: data.certificate,
    issuingCa: data.issuing_ca,
    caChain: data.ca_chain ?? (data.issuing_ca ? [data.issuing_ca] : []),
    privateKey: data.private_key,
    privateKeyType: data.private_key_type,
    serialNumber: data.serial_number,
    expiration: new Date(data.expiration * 1000),
    // DER comes base64-encoded; PEM and pem_bundle (key first) hold PEM blocks.
    parsed:
      options.format === 'der'
        ? describeCertificate(Buffer.from(data.certificate, 'base64'))
        : parseCertificate(data.certificate),
    secret,
  };
}

/** `POST <mount>/revoke`: revokes the certificate with this serial (`aa:bb:…`). */
export async function revokeCertificate(
  client: VaultClient,
  options: { mount?: string; serialNumber: string; signal?: AbortSignal },
): Promise<void> {
  const mount = (options.mount ?? 'pki').replace(/^\/+|\/+$/g, '');
  await client.write(
    `${mount}/revoke`,
    { serial_number: options.serialNumber },
    options.signal ? { signal: options.signal } : {},
  );
}
