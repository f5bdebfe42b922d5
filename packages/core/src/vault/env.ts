// Reads the standard VAULT_* variables the Vault CLI and Go client use, so a service configured for
// `vault` works unchanged. Each malformed value is reported with the variable's name.
import { parseDuration } from '../runtime/config-values.ts';
import { VaultConfigError } from './errors.ts';
import type { VaultTlsOptions } from './tls.ts';

/** Vault's own default when VAULT_ADDR is unset. */
export const defaultVaultAddress = 'https://127.0.0.1:8200';

export interface VaultEnvSettings {
  address: string;
  token?: string;
  namespace?: string;
  tls: VaultTlsOptions;
  timeoutMs?: number;
  maxRetries?: number;
}

/** A Go duration ("1m30s", "500ms") or a bare number of seconds ("60"), in milliseconds. */
export function parseDurationMs(text: string, setting: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new VaultConfigError(
      `${setting}="${text.trim()}" is not a duration; use seconds ("60") or a Go duration ("1m30s", "500ms")`,
      { setting },
    );
  }
  return ms;
}

/**
 * Go's strconv.ParseBool, which the Vault CLI uses for VAULT_SKIP_VERIFY. Deliberately stricter than
 * the runtime's parseBoolean (no yes/no/on/off): the same variable must mean the same to both CLIs.
 */
export function parseGoBool(text: string, setting: string): boolean {
  const value = text.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False', ''].includes(value)) return false;
  throw new VaultConfigError(`${setting}="${value}" is not a boolean; use true or false`, { setting });
}

function parseCount(text: string, setting: string): number {
  const value = text.trim();
  if (!/^\d+$/.test(value)) throw new VaultConfigError(`${setting}="${value}" is not a whole number ≥ 0`, { setting });
  return Number(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function vaultSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): VaultEnvSettings {
  const settings: VaultEnvSettings = { address: nonEmpty(env.VAULT_ADDR) ?? defaultVaultAddress, tls: {} };
  const token = nonEmpty(env.VAULT_TOKEN);
  if (token) settings.token = token;
  const namespace = nonEmpty(env.VAULT_NAMESPACE);
  if (namespace) settings.namespace = namespace;
  const tls = settings.tls;
  const caFile = nonEmpty(env.VAULT_CACERT);
  if (caFile) tls.caFile = caFile;
  const caPath = nonEmpty(env.VAULT_CAPATH);
  if (caPath) tls.caPath = caPath;
  const clientCert = nonEmpty(env.VAULT_CLIENT_CERT);
  if (clientCert) tls.clientCert = clientCert;
  const clientKey = nonEmpty(env.VAULT_CLIENT_KEY);
  if (clientKey) tls.clientKey = clientKey;
  const serverName = nonEmpty(env.VAULT_TLS_SERVER_NAME);
  if (serverName) tls.tlsServerName = serverName;
  if (env.VAULT_SKIP_VERIFY !== undefined) tls.skipVerify = parseGoBool(env.VAULT_SKIP_VERIFY, 'VAULT_SKIP_VERIFY');
  const timeout = nonEmpty(env.VAULT_CLIENT_TIMEOUT);
  if (timeout) settings.timeoutMs = parseDurationMs(timeout, 'VAULT_CLIENT_TIMEOUT');
  const retries = nonEmpty(env.VAULT_MAX_RETRIES);
  if (retries) settings.maxRetries = parseCount(retries, 'VAULT_MAX_RETRIES');
  return settings;
}
