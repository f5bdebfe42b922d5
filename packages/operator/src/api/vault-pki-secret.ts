// VaultPKISecret: a certificate issued by a Vault PKI role into a Secret, re-issued before it expires.
// Field names and defaults are VSO's (§1.6 of the reference).
import {
  asBoolean, asObject, asString, asStringList, conditionsSchema, SpecError,
  type Condition, type ObjectMeta,
} from './common.ts';
import {
  destinationSchema, parseDestination, parseRolloutRestartTargets, rolloutRestartTargetsSchema,
  type Destination, type RolloutRestartTarget,
} from './sync-target.ts';

/** VSO's pattern for `ttl` and `expiryOffset`: Go durations, plus days. */
export const PKI_DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(s|m|h|d))$';
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface VaultPkiSecretSpec {
  vaultAuthRef?: string;
  namespace?: string;
  mount: string;
  role: string;
  issuerRef?: string;
  /** Revoke the certificate on deletion, and the previous one on each rotation. */
  revoke: boolean;
  /** On deletion, empty the data of a Secret this object did not create. */
  clear: boolean;
  /** Re-issue this long before expiry; unset: at two thirds of the certificate's life. */
  expiryOffsetMs?: number;
  commonName?: string;
  altNames: string[];
  ipSans: string[];
  uriSans: string[];
  otherSans: string[];
  userIDs: string[];
  /** Vault duration string as written (`24h`, `7d`). */
  ttl?: string;
  format?: 'pem' | 'der' | 'pem_bundle';
  privateKeyFormat?: string;
  notAfter?: string;
  excludeCNFromSans: boolean;
  destination: Destination;
  rolloutRestartTargets: RolloutRestartTarget[];
}

export interface VaultPkiSecretStatus {
  lastGeneration?: number;
  serialNumber?: string;
  /** Unix seconds. */
  expiration?: number;
  /** Unix seconds of the last issue. */
  lastRotation?: number;
  secretMAC?: string;
  valid?: boolean;
  error?: string;
  /** The force-sync annotation value handled last. */
  lastForceSync?: string;
  conditions?: Condition[];
}

export interface VaultPkiSecret {
  apiVersion: string;
  kind: 'VaultPKISecret';
  metadata: ObjectMeta & { finalizers?: string[] };
  spec: unknown;
  status?: VaultPkiSecretStatus;
}

const stringList = { type: 'array', items: { type: 'string' } } as const;

export const vaultPkiSecretSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['mount', 'role', 'destination'],
      properties: {
        vaultAuthRef: { type: 'string', description: 'VaultAuth as name or namespace/name; empty: default in the operator namespace.' },
        namespace: { type: 'string', description: 'Vault namespace of the mount.' },
        mount: { type: 'string', minLength: 1 },
        role: { type: 'string', minLength: 1 },
        issuerRef: { type: 'string' },
        revoke: { type: 'boolean', default: false, description: 'Revoke the certificate on deletion and the previous one on rotation.' },
        clear: { type: 'boolean', default: false, description: 'On deletion, empty a Secret this object did not create.' },
        expiryOffset: { type: 'string', pattern: PKI_DURATION_PATTERN, description: 'Re-issue this long before expiry; unset: at two thirds of the lifetime.' },
        commonName: { type: 'string' },
        altNames: stringList,
        ipSans: stringList,
        uriSans: stringList,
        otherSans: stringList,
        userIDs: stringList,
        ttl: { type: 'string', pattern: PKI_DURATION_PATTERN },
        format: { type: 'string', enum: ['pem', 'der', 'pem_bundle'] },
        privateKeyFormat: { type: 'string' },
        notAfter: { type: 'string' },
        excludeCNFromSans: { type: 'boolean' },
        rolloutRestartTargets: rolloutRestartTargetsSchema,
        destination: destinationSchema,
      },
    },
    status: {
      type: 'object',
      properties: {
        lastGeneration: { type: 'integer', format: 'int64' },
        serialNumber: { type: 'string' },
        expiration: { type: 'integer', format: 'int64' },
        lastRotation: { type: 'integer', format: 'int64' },
        secretMAC: { type: 'string' },
        valid: { type: 'boolean' },
        error: { type: 'string' },
        lastForceSync: { type: 'string' },
        conditions: conditionsSchema,
      },
    },
  },
};

/** `30s`, `12h`, `7d` → milliseconds. */
export function parsePkiDuration(raw: unknown, field: string): number | undefined {
  const text = asString(raw, field);
  if (text === undefined) return undefined;
  const match = new RegExp(PKI_DURATION_PATTERN).exec(text);
  if (!match) throw new SpecError(field, `"${text}" is not a duration like 30s, 12h or 7d`);
  return Math.round(Number.parseFloat(text) * UNIT_MS[text.slice(-1)]!);
}

const safeSegment = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseVaultPkiSecretSpec(raw: unknown): VaultPkiSecretSpec {
  const spec = asObject(raw, 'spec', true)!;
  const mount = asString(spec.mount, 'spec.mount', true)!.replace(/^\/+|\/+$/g, '');
  if (!mount || mount.split('/').some((segment) => segment === '..' || segment === '.')) throw new SpecError('spec.mount', 'must be a mount path without "." or ".." segments');
  const role = asString(spec.role, 'spec.role', true)!;
  if (!safeSegment.test(role)) throw new SpecError('spec.role', `"${role}" is not a PKI role name`);
  const issuerRef = asString(spec.issuerRef, 'spec.issuerRef');
  if (issuerRef !== undefined && !safeSegment.test(issuerRef)) throw new SpecError('spec.issuerRef', `"${issuerRef}" is not an issuer name or id`);
  const ttl = asString(spec.ttl, 'spec.ttl');
  if (ttl !== undefined) parsePkiDuration(ttl, 'spec.ttl');
  const format = asString(spec.format, 'spec.format');
  if (format !== undefined && format !== 'pem' && format !== 'der' && format !== 'pem_bundle') throw new SpecError('spec.format', `"${format}" is not one of pem, der, pem_bundle`);
  const expiryOffsetMs = parsePkiDuration(spec.expiryOffset, 'spec.expiryOffset');
  const vaultAuthRef = asString(spec.vaultAuthRef, 'spec.vaultAuthRef');
  const namespace = asString(spec.namespace, 'spec.namespace');
  const commonName = asString(spec.commonName, 'spec.commonName');
  const privateKeyFormat = asString(spec.privateKeyFormat, 'spec.privateKeyFormat');
  const notAfter = asString(spec.notAfter, 'spec.notAfter');
  if (notAfter !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(notAfter)) throw new SpecError('spec.notAfter', `"${notAfter}" is not YYYY-MM-ddTHH:MM:SSZ`);
  return {
    ...(vaultAuthRef ? { vaultAuthRef } : {}),
    ...(namespace ? { namespace } : {}),
    mount,
    role,
    ...(issuerRef ? { issuerRef } : {}),
    revoke: asBoolean(spec.revoke, 'spec.revoke', false),
    clear: asBoolean(spec.clear, 'spec.clear', false),
    ...(expiryOffsetMs !== undefined ? { expiryOffsetMs } : {}),
    ...(commonName ? { commonName } : {}),
    altNames: asStringList(spec.altNames, 'spec.altNames'),
    ipSans: asStringList(spec.ipSans, 'spec.ipSans'),
    uriSans: asStringList(spec.uriSans, 'spec.uriSans'),
    otherSans: asStringList(spec.otherSans, 'spec.otherSans'),
    userIDs: asStringList(spec.userIDs, 'spec.userIDs'),
    ...(ttl ? { ttl } : {}),
    ...(format ? { format } : {}),
    ...(privateKeyFormat ? { privateKeyFormat } : {}),
    ...(notAfter ? { notAfter } : {}),
    excludeCNFromSans: asBoolean(spec.excludeCNFromSans, 'spec.excludeCNFromSans', false),
    destination: parseDestination(spec.destination),
    rolloutRestartTargets: parseRolloutRestartTargets(spec.rolloutRestartTargets),
  };
}

/** Vault's issue path. VSO 1.4.1 left out `/issue/` with an issuerRef (fixed upstream in #1336). */
export function pkiIssuePath(spec: VaultPkiSecretSpec): string {
  return spec.issuerRef ? `${spec.mount}/issuer/${spec.issuerRef}/issue/${spec.role}` : `${spec.mount}/issue/${spec.role}`;
}

/** The request body, as VSO's GetIssuerAPIData: lists comma-joined, optional fields only when set. */
export function pkiIssueBody(spec: VaultPkiSecretSpec): Record<string, unknown> {
  return {
    common_name: spec.commonName ?? '',
    alt_names: spec.altNames.join(','),
    ip_sans: spec.ipSans.join(','),
    uri_sans: spec.uriSans.join(','),
    other_sans: spec.otherSans.join(','),
    user_ids: spec.userIDs.join(','),
    ttl: spec.ttl ?? '',
    not_after: spec.notAfter ?? '',
    exclude_cn_from_sans: spec.excludeCNFromSans,
    remove_roots_from_chain: true,
    ...(spec.format ? { format: spec.format } : {}),
    ...(spec.privateKeyFormat ? { private_key_format: spec.privateKeyFormat } : {}),
  };
}
