// Key-based redaction of log objects. pino's own `redact` paths only reach fixed depths, so every
// object logged is also walked here (copied, never mutated) and any field whose name says "secret"
// is replaced at any depth, in any letter case. Errors are turned into plain objects on the way, keeping
// only what helps to debug: HTTP client errors carry request headers and bodies (the Vault token, the
// login JWT) that must never be written.
import { types } from 'node:util';
import { REDACTED } from './secret-redactor.ts';

/** pino `redact` paths: the common places of tokens and secret values, censored before serializing. */
export const REDACT_PATHS: readonly string[] = [
  'token',
  'client_token',
  'password',
  'secret',
  'secret_id',
  'jwt',
  'authorization',
  'private_key',
  'data',
  'headers',
  '["x-vault-token"]',
  '*.token',
  '*.client_token',
  '*.password',
  '*.secret',
  '*.secret_id',
  '*.jwt',
  '*.authorization',
  '*.private_key',
  '*.data',
  '*.headers',
  '*["x-vault-token"]',
];

// Field names compared after lower-casing and dropping '-', '_' and '.'.
const SENSITIVE_NAMES = new Set([
  'data', // a Vault response's data is the secret itself
  'headers', // Authorization, X-Vault-Token, cookies
  'authorization',
  'xvaulttoken',
  'cookie',
  'setcookie',
  'plaintext', // transit
  'privatekey',
  'signingkey',
  'hmackey',
  'encryptionkey',
  'tlskey',
  'clientkey',
  'apikey',
  'secretid',
  'wrappingtoken',
  'credentials',
]);

// Any name ending like this is sensitive: clientToken, serviceAccountToken, dbPassword, clientSecret,
// the CSI attribute `csi.storage.k8s.io/serviceAccount.tokens`, a token accessor.
const SENSITIVE_SUFFIXES = ['token', 'tokens', 'password', 'passwd', 'secret', 'secrets', 'jwt', 'accessor'];

/** Whether a field of this name holds a token or a secret value and is never logged. */
export function isSensitiveKey(key: string): boolean {
  const name = key.toLowerCase().replace(/[-_.]/g, '');
  if (SENSITIVE_NAMES.has(name)) return true;
  return SENSITIVE_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

const MAX_DEPTH = 10;

// Error fields never copied: HTTP clients (axios) put the request configuration with its headers and
// body, the raw request and the response (with the body) there.
const DROPPED_ERROR_FIELDS = new Set(['config', 'request', 'response', 'socket', 'agent', 'req', 'res']);

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * A log-safe plain copy of an error: type, message, code, stack, its own fields except the HTTP
 * client's request/response, `cause` and `errors` recursively, and every sensitive field redacted.
 * Values that are not errors are returned as they are.
 */
export function serializeError(error: unknown): unknown {
  if (!isErrorLike(error)) return error;
  return scrubForLog(error);
}

function errorToObject(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const result: Record<string, unknown> = {
    type: error.constructor?.name && error.constructor.name !== 'Error' ? error.constructor.name : error.name,
    message: error.message,
  };
  for (const [key, value] of Object.entries(error)) {
    if (DROPPED_ERROR_FIELDS.has(key) || key in result) continue;
    result[key] = scrubField(key, value, depth + 1, seen);
  }
  // The HTTP status is worth keeping even though the response itself is dropped.
  const response: unknown = (error as { response?: unknown }).response;
  if (
    typeof response === 'object' &&
    response !== null &&
    typeof (response as { status?: unknown }).status === 'number'
  ) {
    result.status ??= (response as { status: number }).status;
  }
  if (error.cause !== undefined) result.cause = scrubField('cause', error.cause, depth + 1, seen);
  if (error instanceof AggregateError) result.errors = scrubField('errors', error.errors, depth + 1, seen);
  result.stack = error.stack;
  return result;
}

function scrubField(key: string, value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === undefined || value === null) return value;
  return isSensitiveKey(key) ? REDACTED : walk(value, depth, seen);
}

/** A copy of `value` safe to log: sensitive fields redacted at any depth, errors serialized safely. */
export function scrubForLog(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return '[Truncated]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (isErrorLike(value)) return errorToObject(value, depth, seen);
    // Bytes may be key material; their content is never logged.
    if (ArrayBuffer.isView(value)) return `[binary ${value.byteLength} bytes]`;
    if (value instanceof ArrayBuffer) return `[binary ${value.byteLength} bytes]`;
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, seen));
    if (value instanceof Map) {
      const result: Record<string, unknown> = {};
      for (const [key, item] of value) result[String(key)] = scrubField(String(key), item, depth + 1, seen);
      return result;
    }
    if (value instanceof Set) return [...value].map((item) => walk(item, depth + 1, seen));
    const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      // e.g. axios's header objects and URL: log what JSON.stringify would, still scrubbed.
      let json: unknown;
      try {
        json = toJSON.call(value);
      } catch {
        return '[Unserializable]';
      }
      return typeof json === 'object' && json !== null ? walk(json, depth + 1, seen) : json;
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = scrubField(key, item, depth + 1, seen);
    return result;
  } finally {
    // Only ancestors count as cycles; the same object twice side by side is logged twice.
    seen.delete(value);
  }
}
