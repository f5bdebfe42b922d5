// Vault response → file bytes, exactly as vault-csi-provider (internal/provider/provider.go) writes
// them: Go encoding/json for the whole response or non-string values, KV v2 unwrapping, decodings.
import type { VaultResponse } from '@vaultbridge/core';
import type { ObjectEncoding, SecretObject } from './config.ts';
import { SecretContentError } from './errors.ts';

const goEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string as Go's encoding/json writes it (HTML-safe: <, >, & and U+2028/9 escaped). */
function goString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (char) => goEscapes[char] ?? char);
}

/** Go sorts map keys by their UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Go `json.Marshal` of a decoded JSON value (`map[string]interface{}` semantics: keys sorted). */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map((item) => goJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => byteOrder(a, b));
    return `{${entries.map(([key, item]) => `${goString(key)}:${goJson(item)}`).join(',')}}`;
  }
  return 'null';
}

/** A Go struct: fields in declaration order; `omitempty` ones left out when empty. */
function goStruct(fields: Array<[name: string, value: unknown, omitEmpty?: boolean]>): string {
  const parts: string[] = [];
  for (const [name, value, omitEmpty] of fields) {
    if (omitEmpty && (value === undefined || value === null || value === '' || value === 0 || value === false))
      continue;
    parts.push(`${goString(name)}:${goJson(value ?? null)}`);
  }
  return `{${parts.join(',')}}`;
}

function goOptionalStruct(value: unknown, render: (fields: Record<string, unknown>) => string): string | undefined {
  return typeof value === 'object' && value !== null ? render(value as Record<string, unknown>) : undefined;
}

/** Go `json.Marshal(*api.Secret)` (hashicorp/vault api/secret.go field order and omitempty tags). */
export function marshalVaultSecret(response: VaultResponse<unknown>): string {
  const auth = goOptionalStruct(response.auth, (a) =>
    goStruct([
      ['client_token', a.client_token ?? ''],
      ['accessor', a.accessor ?? ''],
      ['policies', a.policies ?? null],
      ['token_policies', a.token_policies ?? null],
      ['identity_policies', a.identity_policies ?? null],
      ['metadata', a.metadata ?? null],
      ['orphan', a.orphan ?? false],
      ['entity_id', a.entity_id ?? ''],
      ['lease_duration', a.lease_duration ?? 0],
      ['renewable', a.renewable ?? false],
      ['mfa_requirement', a.mfa_requirement ?? null],
    ]),
  );
  const wrapInfo = goOptionalStruct(response.wrap_info, (w) =>
    goStruct([
      ['token', w.token ?? ''],
      ['accessor', w.accessor ?? ''],
      ['ttl', w.ttl ?? 0],
      ['creation_time', w.creation_time ?? '0001-01-01T00:00:00Z'],
      ['creation_path', w.creation_path ?? ''],
      ['wrapped_accessor', w.wrapped_accessor ?? ''],
    ]),
  );
  const parts = [
    `"request_id":${goString(response.request_id ?? '')}`,
    `"lease_id":${goString(response.lease_id ?? '')}`,
    `"lease_duration":${goJson(response.lease_duration ?? 0)}`,
    `"renewable":${goJson(response.renewable ?? false)}`,
    `"data":${goJson(response.data ?? null)}`,
    `"warnings":${goJson(response.warnings ?? null)}`,
  ];
  if (auth) parts.push(`"auth":${auth}`);
  if (wrapInfo) parts.push(`"wrap_info":${wrapInfo}`);
  if (response.mount_type) parts.push(`"mount_type":${goString(response.mount_type)}`);
  return `{${parts.join(',')}}`;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What secretKey and templates select from: `data.data` when that is a map (KV v2), else `data` (upstream keyFromData). */
function secretData(data: Record<string, unknown>): Record<string, unknown> {
  return isMap(data.data) ? data.data : data;
}

/**
 * The value of `secretKey`. A key that exists as written is taken, as upstream does; otherwise a dotted
 * key walks into nested maps and lists (`POSTGRES.PGHOST`, `hosts.0`; vault-csi-provider #123), so
 * every key upstream finds is still found the same way.
 */
export function selectKey(
  data: Record<string, unknown>,
  secretKey: string,
): { found: true; value: unknown } | { found: false; keys: string[] } {
  const source = secretData(data);
  if (Object.hasOwn(source, secretKey)) return { found: true, value: source[secretKey] };
  if (secretKey.includes('.')) {
    let current: unknown = source;
    for (const segment of secretKey.split('.')) {
      if (isMap(current) && Object.hasOwn(current, segment)) current = current[segment];
      else if (Array.isArray(current) && /^\d+$/.test(segment) && Number(segment) < current.length)
        current = current[Number(segment)];
      else return { found: false, keys: Object.keys(source).sort() };
    }
    return { found: true, value: current };
  }
  return { found: false, keys: Object.keys(source).sort() };
}

/** Go base64.StdEncoding (padded, standard alphabet; \r and \n ignored) and hex.DecodeString, strictly. */
export function decodeValue(bytes: Buffer, encoding: ObjectEncoding): Buffer | { error: string } {
  if (encoding === 'utf-8') return bytes;
  const text = bytes.toString('latin1');
  if (encoding === 'base64') {
    const compact = text.replace(/[\r\n]/g, '');
    if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
      return {
        error: 'the value is not standard padded base64; remove encoding: base64 or store the value base64-encoded',
      };
    }
    return Buffer.from(compact, 'base64');
  }
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    return {
      error:
        'the value is not hexadecimal (an even number of 0-9a-f digits); remove encoding: hex or store the value hex-encoded',
    };
  }
  return Buffer.from(text, 'hex');
}

/** The bytes of one object's file, given Vault's answer for its path. */
export function objectContent(object: SecretObject, response: VaultResponse<unknown> | null): Buffer {
  if (response === null || response.data === null || response.data === undefined) {
    const warnings = response?.warnings?.length ? `; Vault warnings: ${response.warnings.join('; ')}` : '';
    throw new SecretContentError(object.objectName, `empty response from ${object.secretPath}${warnings}`);
  }
  if (object.template !== undefined) {
    if (!isMap(response.data))
      throw new SecretContentError(
        object.objectName,
        `the response data of ${object.secretPath} is not a map, so the template has nothing to read`,
      );
    try {
      return Buffer.from(object.template(secretData(response.data)), 'utf8');
    } catch (error) {
      // The engine's messages name the template and the missing field, never a value.
      throw new SecretContentError(
        object.objectName,
        `template at ${object.secretPath}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  // Upstream applies no encoding to the whole response.
  if (object.secretKey === undefined) return Buffer.from(marshalVaultSecret(response), 'utf8');
  if (!isMap(response.data))
    throw new SecretContentError(
      object.objectName,
      `the response data of ${object.secretPath} is not a map, so secretKey cannot select from it`,
    );
  const selected = selectKey(response.data, object.secretKey);
  if (!selected.found) {
    throw new SecretContentError(
      object.objectName,
      `key "${object.secretKey}" does not exist at ${object.secretPath} (keys: ${selected.keys.join(', ') || 'none'}); fix secretKey (a dotted key reaches into nested maps) or leave it out for the whole response`,
    );
  }
  const raw =
    typeof selected.value === 'string'
      ? Buffer.from(selected.value, 'utf8')
      : Buffer.from(goJson(selected.value), 'utf8');
  const decoded = decodeValue(raw, object.encoding);
  if (!Buffer.isBuffer(decoded))
    throw new SecretContentError(
      object.objectName,
      `secretKey "${object.secretKey}" at ${object.secretPath}: ${decoded.error}`,
    );
  return decoded;
}
