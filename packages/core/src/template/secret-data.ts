// How templates see a secret: the key/value data, not Vault's envelope. A KV v2 read nests the data
// as `data.data` beside `data.metadata`; users of vault-k8s had to write `.Data.data.password` and
// got `data: map[...]` from the default template. Here every method unwraps it the same way.

export type SecretRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is SecretRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Fields of a Vault API response envelope; their presence tells a response from a secret's own data.
const ENVELOPE_FIELDS = ['request_id', 'lease_id', 'lease_duration', 'renewable'];

/**
 * The secret data inside `value`, in this order: a KV v2 response (`data.data` beside `data.metadata`)
 * → `data.data` (null for a deleted version); another Vault response (KV v1, dynamic, PKI) → `data`; a KV v2 `data` payload
 * (`data` beside `metadata` with `version`) → `data`; anything else as it is.
 */
export function secretData(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const data = value.data;
  if (isRecord(data) && isRecord(data.metadata) && Object.hasOwn(data, 'data')) {
    // A deleted or destroyed KV v2 version reads as `data: null`: there is no data, say so.
    if (isRecord(data.data)) return data.data;
    if (data.data === null) return null;
  }
  if (isRecord(data) && ENVELOPE_FIELDS.some((field) => Object.hasOwn(value, field))) return data;
  if (isRecord(data) && isRecord(value.metadata) && Object.hasOwn(value.metadata, 'version')) return data;
  return value;
}

/**
 * The value at `path` inside `source`, reading own properties only (never the prototype chain), or
 * undefined. One path string is split on dots, but keys that themselves contain dots (`tls.crt`) are
 * matched whole first; several strings are taken as exact keys each. List elements are addressed by
 * index (`hosts.0`).
 */
export function lookupPath(source: unknown, path: readonly string[]): unknown {
  const segments = path.length === 1 ? (path[0] ?? '').split('.') : path;
  return lookupSegments(source, segments, path.length === 1);
}

function lookupSegments(node: unknown, segments: readonly string[], joinable: boolean): unknown {
  if (segments.length === 0) return node;
  if (typeof node !== 'object' || node === null) return undefined;
  // Longest key first, so `tls.crt` wins over `tls` → `crt`.
  for (let take = joinable ? segments.length : 1; take >= 1; take--) {
    const key = segments.slice(0, take).join('.');
    if (Object.hasOwn(node, key)) {
      const found = lookupSegments((node as SecretRecord)[key], segments.slice(take), joinable);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
