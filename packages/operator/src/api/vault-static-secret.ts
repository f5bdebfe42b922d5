import {
  asBoolean, asInteger, asObject, asString, conditionsSchema, vaultClientMetaSchema, DURATION_PATTERN, SpecError,
  type Condition, type ObjectMeta, type VaultClientMeta,
} from './common.ts';
import {
  destinationSchema, parseDestination, parseOptionalDuration, parseRolloutRestartTargets, rolloutRestartTargetsSchema,
  type Destination, type RolloutRestartTarget,
} from './sync-target.ts';

export type { Destination, RolloutRestartTarget } from './sync-target.ts';

export interface VaultStaticSecretSpec {
  vaultAuthRef?: string;
  /** Vault namespace of the mount. */
  namespace?: string;
  mount: string;
  path: string;
  /** KV v2 version; the current one when absent. */
  version?: number;
  type: 'kv-v1' | 'kv-v2';
  /** Milliseconds; undefined when not set. */
  refreshAfterMs?: number;
  hmacSecretData: boolean;
  /** spec.syncConfig.instantUpdates: also sync when Vault publishes a KV event for the path. */
  instantUpdates: boolean;
  destination: Destination;
  rolloutRestartTargets: RolloutRestartTarget[];
}

export interface VaultStaticSecretStatus {
  lastGeneration?: number;
  secretMAC?: string;
  vaultClientMeta?: VaultClientMeta;
  conditions?: Condition[];
}

export interface VaultStaticSecret {
  apiVersion: string;
  kind: 'VaultStaticSecret';
  metadata: ObjectMeta;
  spec: unknown;
  status?: VaultStaticSecretStatus;
}

export const vaultStaticSecretSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['mount', 'path', 'type', 'destination'],
      properties: {
        vaultAuthRef: { type: 'string', description: 'VaultAuth as name or namespace/name; empty: default in the operator namespace.' },
        namespace: { type: 'string', description: 'Vault namespace of the mount.' },
        mount: { type: 'string', minLength: 1 },
        path: { type: 'string', minLength: 1 },
        version: { type: 'integer', minimum: 0, description: 'KV v2 version to read; current when 0 or absent.' },
        type: { type: 'string', enum: ['kv-v1', 'kv-v2'] },
        refreshAfter: { type: 'string', pattern: DURATION_PATTERN, description: 'Re-read Vault at a jittered 80-90% of this.' },
        hmacSecretData: { type: 'boolean', default: true, description: 'Keep an HMAC of the data in status.secretMAC.' },
        rolloutRestartTargets: rolloutRestartTargetsSchema,
        syncConfig: {
          type: 'object',
          properties: { instantUpdates: { type: 'boolean', description: "Sync as soon as Vault publishes a KV event for the path (Vault 1.13 with -experiment events.alpha1); refreshAfter stays the safety net." } },
        },
        destination: destinationSchema,
      },
    },
    status: {
      type: 'object',
      properties: {
        lastGeneration: { type: 'integer', format: 'int64' },
        secretMAC: { type: 'string' },
        vaultClientMeta: vaultClientMetaSchema,
        conditions: conditionsSchema,
      },
    },
  },
};

/** The spec as the controller uses it; the API server's schema is not trusted to have run (or to be this version). */
export function parseVaultStaticSecretSpec(raw: unknown): VaultStaticSecretSpec {
  const spec = asObject(raw, 'spec', true)!;
  const type = asString(spec.type, 'spec.type', true);
  if (type !== 'kv-v1' && type !== 'kv-v2') throw new SpecError('spec.type', `"${type}" is not one of kv-v1, kv-v2`);
  const mount = asString(spec.mount, 'spec.mount', true)!.replace(/^\/+|\/+$/g, '');
  const path = asString(spec.path, 'spec.path', true)!.replace(/^\/+|\/+$/g, '');
  if (!mount) throw new SpecError('spec.mount', 'is empty');
  if (!path) throw new SpecError('spec.path', 'is empty');
  for (const [field, value] of [['spec.mount', mount], ['spec.path', path]] as const) {
    if (value.split('/').some((segment) => segment === '..' || segment === '.')) throw new SpecError(field, 'may not contain "." or ".." segments');
  }
  const version = asInteger(spec.version, 'spec.version', 0);
  if (version && type === 'kv-v1') throw new SpecError('spec.version', 'is only valid with type kv-v2');
  const refreshAfterMs = parseOptionalDuration(spec.refreshAfter, 'spec.refreshAfter');
  const vaultAuthRef = asString(spec.vaultAuthRef, 'spec.vaultAuthRef');
  const namespace = asString(spec.namespace, 'spec.namespace');
  return {
    ...(vaultAuthRef ? { vaultAuthRef } : {}),
    ...(namespace ? { namespace } : {}),
    mount,
    path,
    ...(version ? { version } : {}),
    type,
    ...(refreshAfterMs !== undefined ? { refreshAfterMs } : {}),
    hmacSecretData: asBoolean(spec.hmacSecretData, 'spec.hmacSecretData', true),
    instantUpdates: asBoolean(asObject(spec.syncConfig, 'spec.syncConfig')?.instantUpdates, 'spec.syncConfig.instantUpdates', false),
    destination: parseDestination(spec.destination),
    rolloutRestartTargets: parseRolloutRestartTargets(spec.rolloutRestartTargets),
  };
}
