import fs from 'node:fs';
import path from 'node:path';
import { VaultConfigError } from './errors.ts';

export interface VaultTlsOptions {
  /** PEM file of the CA(s) that sign Vault's certificate (VAULT_CACERT). */
  caFile?: string;
  /** Directory of PEM CA files; every regular file in it is loaded (VAULT_CAPATH). */
  caPath?: string;
  /** CA PEM given inline, e.g. read from a Kubernetes Secret. */
  caPem?: string;
  /** Client certificate PEM file for TLS client auth (VAULT_CLIENT_CERT). */
  clientCert?: string;
  /** Its private key PEM file (VAULT_CLIENT_KEY). */
  clientKey?: string;
  /** Name to send as SNI and to verify Vault's certificate against (VAULT_TLS_SERVER_NAME). */
  tlsServerName?: string;
  /** Skip certificate verification (VAULT_SKIP_VERIFY). Default false; for development only. */
  skipVerify?: boolean;
}

/** Names of the settings, so errors from `fromEnv` name the variable and errors from options the option. */
export interface TlsSettingNames {
  caFile: string;
  caPath: string;
  clientCert: string;
  clientKey: string;
}

export const tlsOptionNames: TlsSettingNames = {
  caFile: 'tls.caFile',
  caPath: 'tls.caPath',
  clientCert: 'tls.clientCert',
  clientKey: 'tls.clientKey',
};

/** What node's `https.Agent` needs. */
export interface AgentTlsOptions {
  ca?: string[];
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

function readPem(file: string, setting: string, what: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new VaultConfigError(
      `${setting} names ${what} "${file}" that cannot be read (${reason}); point it at a readable PEM file`,
      { setting },
    );
  }
  if (!text.includes('-----BEGIN ')) {
    throw new VaultConfigError(
      `${setting} names ${what} "${file}" that holds no PEM block; it must contain "-----BEGIN …-----"`,
      { setting },
    );
  }
  return text;
}

function readCaDirectory(dir: string, setting: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new VaultConfigError(
      `${setting} names the CA directory "${dir}" that cannot be read (${reason}); point it at a directory of PEM files`,
      { setting },
    );
  }
  // Like Vault's Go client (go-rootcerts): every regular file (or link to one) in the directory.
  const pems = entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => path.join(dir, entry.name))
    .filter((file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true)
    .sort()
    .map((file) => fs.readFileSync(file, 'utf8'))
    .filter((text) => text.includes('-----BEGIN CERTIFICATE-----'));
  if (pems.length === 0) {
    throw new VaultConfigError(`${setting} names the CA directory "${dir}" that holds no PEM certificate`, { setting });
  }
  return pems;
}

/** Reads the files the TLS options name, once, at client construction. */
export function loadTlsOptions(
  options: VaultTlsOptions = {},
  names: TlsSettingNames = tlsOptionNames,
): AgentTlsOptions {
  const ca: string[] = [];
  if (options.caFile) ca.push(readPem(options.caFile, names.caFile, 'the CA file'));
  if (options.caPath) ca.push(...readCaDirectory(options.caPath, names.caPath));
  if (options.caPem) ca.push(options.caPem);
  if (Boolean(options.clientCert) !== Boolean(options.clientKey)) {
    const missing = options.clientCert ? names.clientKey : names.clientCert;
    throw new VaultConfigError(`TLS client authentication needs both a certificate and a key; set ${missing} too`, {
      setting: missing,
    });
  }
  return {
    ...(ca.length > 0 ? { ca } : {}),
    ...(options.clientCert ? { cert: readPem(options.clientCert, names.clientCert, 'the client certificate') } : {}),
    ...(options.clientKey ? { key: readPem(options.clientKey, names.clientKey, 'the client key') } : {}),
    ...(options.tlsServerName ? { servername: options.tlsServerName } : {}),
    rejectUnauthorized: options.skipVerify !== true,
  };
}
