// PKI secrets engine: issue a certificate from a role and read what is in it.
import { X509Certificate } from 'node:crypto';
import type { VaultClient } from './client.ts';
import { dynamicSecretFromResponse, type DynamicSecret } from './dynamic.ts';
import { VaultProtocolError } from './errors.ts';

export interface IssueCertificateOptions {
  /** PKI mount. Default `pki`. */
  mount?: string;
  role: string;
  commonName: string;
  altNames?: string[];
  ipSans?: string[];
  uriSans?: string[];
  /** Vault duration ("24h") or seconds. */
  ttl?: string | number;
  excludeCnFromSans?: boolean;
  privateKeyFormat?: 'der' | 'pkcs8';
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
function parseSubjectAltName(text: string | undefined): Pick<ParsedCertificate, 'dnsNames' | 'ipAddresses' | 'uris' | 'emails'> {
  const result = { dnsNames: [] as string[], ipAddresses: [] as string[], uris: [] as string[], emails: [] as string[] };
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
  const cert = new X509Certificate(first);
  const commonName = cert.subject.split('\n').find((line) => line.startsWith('CN='))?.slice(3);
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

/** `POST <mount>/issue/<role>`: a new key and certificate. */
export async function issueCertificate(client: VaultClient, options: IssueCertificateOptions): Promise<IssuedCertificate> {
  const mount = (options.mount ?? 'pki').replace(/^\/+|\/+$/g, '');
  const path = `${mount}/issue/${options.role}`;
  const body = {
    common_name: options.commonName,
    ...(options.altNames?.length ? { alt_names: options.altNames.join(',') } : {}),
    ...(options.ipSans?.length ? { ip_sans: options.ipSans.join(',') } : {}),
    ...(options.uriSans?.length ? { uri_sans: options.uriSans.join(',') } : {}),
    ...(options.ttl === undefined ? {} : { ttl: typeof options.ttl === 'number' ? `${options.ttl}s` : options.ttl }),
    ...(options.excludeCnFromSans ? { exclude_cn_from_sans: true } : {}),
    ...(options.privateKeyFormat ? { private_key_format: options.privateKeyFormat } : {}),
    format: 'pem',
  };
  const response = await client.write<PkiIssueData>(path, body, options.signal ? { signal: options.signal } : {});
  if (!response?.data?.certificate) throw new VaultProtocolError(`Vault's answer to POST ${path} holds no certificate`, { method: 'POST', path });
  const data = response.data;
  const secret = dynamicSecretFromResponse(path, response);
  return {
    certificate: data.certificate,
    issuingCa: data.issuing_ca,
    caChain: data.ca_chain ?? (data.issuing_ca ? [data.issuing_ca] : []),
    privateKey: data.private_key,
    privateKeyType: data.private_key_type,
    serialNumber: data.serial_number,
    expiration: new Date(data.expiration * 1000),
    parsed: parseCertificate(data.certificate),
    secret,
  };
}
