// Typed Vault errors. Messages name the request (method and path) and Vault's own `errors[]`, and
// never a token or a response body: Vault answers can hold secret values, and error messages end up in
// logs, Kubernetes events and status conditions.

import { defaultSecretRedactor, REDACTED } from '../runtime/secret-redactor.ts';
export interface VaultErrorDetails {
  /** HTTP status, when Vault answered. */
  status?: number;
  /** Vault's `errors` array, as sent. */
  errors?: string[];
  /** API path without `/v1/`, e.g. `secret/data/app`. */
  path?: string;
  method?: string;
  cause?: unknown;
}

export class VaultError extends Error {
  readonly code: string = 'VAULT_ERROR';
  readonly status: number | undefined;
  readonly errors: string[];
  readonly path: string | undefined;
  readonly method: string | undefined;

  constructor(message: string, details: VaultErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
    this.errors = details.errors ?? [];
    this.path = details.path;
    this.method = details.method;
  }
}

/** 403: the token is not allowed this path (or it was revoked / expired). */
export class VaultPermissionError extends VaultError {
  override readonly code = 'VAULT_PERMISSION_DENIED';
}

/** 404: nothing at this path (or no such route). */
export class VaultNotFoundError extends VaultError {
  override readonly code = 'VAULT_NOT_FOUND';
}

/** Vault could not be reached or answered 5xx/429, after the client's retries. Worth retrying later. */
export class VaultUnavailableError extends VaultError {
  override readonly code = 'VAULT_UNAVAILABLE';
  /** How many attempts were made before giving up (set by the client once retries are spent). */
  attempts = 1;
}

/**
 * The client's own configuration is wrong (bad address, unreadable CA file, unknown mount, TLS that
 * cannot be verified…). Retrying does not help; the message says what to change.
 */
export class VaultConfigError extends VaultError {
  override readonly code = 'VAULT_CONFIG';
  /** The setting at fault, e.g. `VAULT_ADDR` or `address`, when there is one. */
  readonly setting: string | undefined;

  constructor(message: string, details: VaultErrorDetails & { setting?: string } = {}) {
    super(message, details);
    this.setting = details.setting;
  }
}

export type SecretVersionState = 'deleted' | 'destroyed';

/** A KV v2 version exists but was soft-deleted or destroyed, so it has no data to return. */
export class VaultSecretVersionError extends VaultError {
  override readonly code = 'VAULT_SECRET_VERSION';
  readonly state: SecretVersionState;
  readonly version: number | undefined;
  /** When the version was deleted (soft delete only). */
  readonly deletionTime: string | undefined;

  constructor(
    message: string,
    details: VaultErrorDetails & { state: SecretVersionState; version?: number; deletionTime?: string },
  ) {
    super(message, details);
    this.state = details.state;
    this.version = details.version;
    this.deletionTime = details.deletionTime;
  }
}

/** Vault answered with something the client cannot use (not JSON, missing fields). */
export class VaultProtocolError extends VaultError {
  override readonly code = 'VAULT_PROTOCOL';
}

const maxErrorLength = 300;

const maxErrors = 10;

// Credentials Vault (or a plugin behind it) may echo in an error: a URL's password, `password=…`.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/@:]*):[^\s/@]*@/gi;
const SECRET_NAME = '(?:[a-z]+_)?(?:password|passwd|pwd|secret|token|private_key|api_key|secret_id|credentials?)';
// `password=x` (query strings, DSNs) and `"password":"x"` (echoed JSON).
const SECRET_ASSIGNMENT = new RegExp(
  `\\b(${SECRET_NAME})(=)([^\\s,;&)]+)|("${SECRET_NAME}"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*")`,
  'gi',
);

/**
 * One of Vault's error strings made safe for statuses, Events, gRPC details and logs, where they end
 * up: a URL's password, `password=…`-style assignments, registered secret values and token shapes are
 * replaced by [REDACTED], and the text is cut at 300 characters.
 */
export function redactVaultErrorText(text: string): string {
  // Cut first: the patterns then run on a bounded text.
  const bounded = text.slice(0, maxErrorLength * 4);
  const redacted = defaultSecretRedactor.redact(
    bounded
      .replace(URL_PASSWORD, `$1:${REDACTED}@`)
      .replace(SECRET_ASSIGNMENT, (_match, name?: string, equals?: string, _value?: string, jsonKey?: string) =>
        jsonKey ? `${jsonKey}"${REDACTED}"` : `${name}${equals}${REDACTED}`,
      ),
  );
  return redacted.length > maxErrorLength ? `${redacted.slice(0, maxErrorLength)}…` : redacted;
}

/**
 * Vault's error strings, trimmed and redacted (see redactVaultErrorText), at most 10; Vault wraps
 * multi-errors as "1 error occurred:\n\t* x\n\n".
 */
export function vaultErrorStrings(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || !('errors' in body) || !Array.isArray(body.errors)) return [];
  return body.errors
    .filter((e): e is string => typeof e === 'string')
    .slice(0, maxErrors)
    .map((e) =>
      e
        .replace(/^\d+ errors? occurred:\s*/, '')
        .replace(/\s*\n\s*\*\s*/g, '; ')
        .replace(/^\*\s*/, '')
        .trim(),
    )
    .map(redactVaultErrorText);
}

function describe(errors: string[]): string {
  return errors.length > 0 ? `: ${errors.join('; ')}` : '';
}

/**
 * The typed error for a non-2xx Vault answer. Only Vault's `errors[]` is read from the body: other
 * fields (`data` of a 4xx) are never copied into the error.
 */
export function errorFromResponse(method: string, path: string, status: number, body: unknown): VaultError {
  const errors = vaultErrorStrings(body);
  const details = { status, errors, path, method };
  const request = `${method} ${path}`;
  if (status === 403) {
    return new VaultPermissionError(
      `Vault denied ${request} (403${describe(errors)}): the token is invalid, expired or revoked, or its policies do not allow this path`,
      details,
    );
  }
  if (status === 404) {
    return new VaultNotFoundError(`Vault has nothing at ${request} (404${describe(errors)})`, details);
  }
  if (status === 429 || (status >= 500 && status !== 501)) {
    return new VaultUnavailableError(`Vault is unavailable for ${request} (${status}${describe(errors)})`, details);
  }
  return new VaultError(`Vault rejected ${request} (${status}${describe(errors)})`, details);
}

/** TLS verification failures: the configuration is wrong, retrying does not help. */
const tlsCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** The part of a transport error that is safe to keep: its code and message, not the request config (which holds the token). */
export interface TransportFailure {
  code: string | undefined;
  message: string;
}

export function errorFromTransport(
  method: string,
  path: string,
  address: string,
  failure: TransportFailure,
): VaultError {
  const details = { path, method, cause: new TransportCause(failure) };
  const code = failure.code ?? 'unknown';
  if (tlsCodes.has(code)) {
    return new VaultConfigError(
      `TLS to Vault at ${address} failed for ${method} ${path} (${code}: ${failure.message}); set VAULT_CACERT/VAULT_CAPATH (caFile/caPath) to the CA that signed Vault's certificate and VAULT_TLS_SERVER_NAME (tlsServerName) to a name in it`,
      { ...details, setting: 'VAULT_CACERT' },
    );
  }
  if (code === 'ERR_CANCELED') {
    return new VaultError(`${method} ${path} to Vault was cancelled`, details);
  }
  const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? ' (timed out)' : '';
  return new VaultUnavailableError(
    `Vault at ${address} is unreachable for ${method} ${path}${timeout} (${code}: ${failure.message})`,
    details,
  );
}

/**
 * Vault unreachable, sealed or rate limiting, as opposed to Vault answering (even with a 500, as for
 * "past the max TTL, cannot renew") that an operation cannot be done. Background loops wait for the
 * first and take another route (log in again, re-issue) on the second.
 */
export function isVaultDown(error: unknown): boolean {
  return (
    error instanceof VaultUnavailableError &&
    (error.status === undefined || [429, 502, 503, 504].includes(error.status))
  );
}

/** A plain cause without the axios request config, so logging `error.cause` never prints headers. */
export class TransportCause extends Error {
  readonly code: string | undefined;

  constructor(failure: TransportFailure) {
    super(failure.message);
    this.name = 'TransportCause';
    this.code = failure.code;
  }
}
