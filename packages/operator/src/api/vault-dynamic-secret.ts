// VaultDynamicSecret: leased credentials (database, cloud, …) synced into a Secret, renewed while the
// lease allows and re-issued before it ends. Field names and defaults are VSO's (§1.5 of the reference).
import {
  asBoolean, asInteger, asObject, asString, asStringMap, conditionsSchema, vaultClientMetaSchema, SpecError, stringMapSchema,
  type Condition, type ObjectMeta, type VaultClientMeta,
} from './common.ts';
import {
  destinationSchema, parseDestination, parseOptionalDuration, parseRolloutRestartTargets, rolloutRestartTargetsSchema,
  type Destination, type RolloutRestartTarget,
} from './sync-target.ts';

export type { VaultClientMeta } from './common.ts';

export type RequestMethod = 'GET' | 'POST' | 'PUT';

export interface VaultDynamicSecretSpec {
  vaultAuthRef?: string;
  namespace?: string;
  mount: string;
  path: string;
  /** GET reads; POST/PUT write `params` (VSO: any params force PUT). */
  requestHTTPMethod: RequestMethod;
  params: Record<string, string>;
  /** Renew (or re-issue) at this percentage of the lease duration, 0..90. */
  renewalPercent: number;
  /** Revoke the lease when the object is deleted. */
  revoke: boolean;
  allowStaticCreds: boolean;
  /** Re-issue period for answers without a lease duration; none when unset. */
  refreshAfterMs?: number;
  destination: Destination;
  rolloutRestartTargets: RolloutRestartTarget[];
}

export interface SecretLease {
  id: string;
  /** seconds */
  duration: number;
  renewable: boolean;
  requestID: string;
}

export interface StaticCredsMetaData {
  /** Unix seconds of the password's last rotation by Vault. */
  lastVaultRotation: number;
  /** Seconds; 0 with a schedule. */
  rotationPeriod: number;
  rotationSchedule: string;
  /** Seconds until the next rotation, when read. */
  ttl: number;
}

export interface VaultDynamicSecretStatus {
  lastGeneration?: number;
  /** Unix seconds of the last issue or renewal. */
  lastRenewalTime?: number;
  secretLease?: SecretLease;
  /** HMAC of the synced data: drift in the Secret is told by it without keeping credentials anywhere else. */
  secretMAC?: string;
  /** The force-sync annotation value handled last. */
  lastForceSync?: string;
  /** With allowStaticCreds, what Vault said of a static role's rotation at the last read. */
  staticCredsMetaData?: StaticCredsMetaData;
  /** Which client synced (`cacheKey`) and which token owns the lease (`id`, a hash of its accessor): a different id means the lease dies with the old token. */
  vaultClientMeta?: VaultClientMeta;
  /** UID of the operator pod that synced last (VSO's field). */
  lastRuntimePodUID?: string;
  conditions?: Condition[];
}

export interface VaultDynamicSecret {
  apiVersion: string;
  kind: 'VaultDynamicSecret';
  metadata: ObjectMeta & { finalizers?: string[] };
  spec: unknown;
  status?: VaultDynamicSecretStatus;
}

export const DEFAULT_RENEWAL_PERCENT = 67;
export const MAX_RENEWAL_PERCENT = 90;

export const vaultDynamicSecretSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['mount', 'path', 'destination'],
      properties: {
        vaultAuthRef: { type: 'string', description: 'VaultAuth as name or namespace/name; empty: default in the operator namespace.' },
        namespace: { type: 'string', description: 'Vault namespace of the mount.' },
        mount: { type: 'string', minLength: 1 },
        path: { type: 'string', minLength: 1, description: 'Request path under the mount, e.g. creds/app.' },
        requestHTTPMethod: { type: 'string', enum: ['GET', 'POST', 'PUT'], default: 'GET' },
        params: { ...stringMapSchema, description: 'Body of a POST/PUT request; any params make it a PUT.' },
        renewalPercent: { type: 'integer', minimum: 0, maximum: MAX_RENEWAL_PERCENT, default: DEFAULT_RENEWAL_PERCENT },
        revoke: { type: 'boolean', default: false, description: 'Revoke the lease when this object is deleted.' },
        allowStaticCreds: { type: 'boolean', default: false },
        refreshAfter: { type: 'string', description: 'Re-issue period when Vault answers without a lease duration.' },
        rolloutRestartTargets: rolloutRestartTargetsSchema,
        destination: destinationSchema,
      },
    },
    status: {
      type: 'object',
      properties: {
        lastGeneration: { type: 'integer', format: 'int64' },
        lastRenewalTime: { type: 'integer', format: 'int64' },
        secretLease: {
          type: 'object',
          properties: { id: { type: 'string' }, duration: { type: 'integer' }, renewable: { type: 'boolean' }, requestID: { type: 'string' } },
        },
        secretMAC: { type: 'string' },
        vaultClientMeta: vaultClientMetaSchema,
        lastRuntimePodUID: { type: 'string' },
        lastForceSync: { type: 'string' },
        staticCredsMetaData: {
          type: 'object',
          properties: { lastVaultRotation: { type: 'integer', format: 'int64' }, rotationPeriod: { type: 'integer' }, rotationSchedule: { type: 'string' }, ttl: { type: 'integer' } },
        },
        conditions: conditionsSchema,
      },
    },
  },
};

function cleanPath(value: string, field: string): string {
  const cleaned = value.replace(/^\/+|\/+$/g, '');
  if (!cleaned) throw new SpecError(field, 'is empty');
  if (cleaned.split('/').some((segment) => segment === '..' || segment === '.')) throw new SpecError(field, 'may not contain "." or ".." segments');
  return cleaned;
}

/** The spec as the controller uses it; the API server's schema is not trusted to have run. */
export function parseVaultDynamicSecretSpec(raw: unknown): VaultDynamicSecretSpec {
  const spec = asObject(raw, 'spec', true)!;
  const mount = cleanPath(asString(spec.mount, 'spec.mount', true)!, 'spec.mount');
  const path = cleanPath(asString(spec.path, 'spec.path', true)!, 'spec.path');
  const params = asStringMap(spec.params, 'spec.params');
  const method = asString(spec.requestHTTPMethod, 'spec.requestHTTPMethod') ?? 'GET';
  if (method !== 'GET' && method !== 'POST' && method !== 'PUT') throw new SpecError('spec.requestHTTPMethod', `"${method}" is not one of GET, POST, PUT`);
  // 0 means unset, as in VSO (omitempty): renewing at 0% would renew on every reconcile.
  const renewalPercent = asInteger(spec.renewalPercent, 'spec.renewalPercent', 0) || DEFAULT_RENEWAL_PERCENT;
  if (renewalPercent > MAX_RENEWAL_PERCENT) throw new SpecError('spec.renewalPercent', `${renewalPercent} is above ${MAX_RENEWAL_PERCENT}; renewing later leaves no time to retry`);
  const refreshAfterMs = parseOptionalDuration(spec.refreshAfter, 'spec.refreshAfter');
  const vaultAuthRef = asString(spec.vaultAuthRef, 'spec.vaultAuthRef');
  const namespace = asString(spec.namespace, 'spec.namespace');
  return {
    ...(vaultAuthRef ? { vaultAuthRef } : {}),
    ...(namespace ? { namespace } : {}),
    mount,
    path,
    // As VSO: parameters are a write, whatever the method says.
    requestHTTPMethod: Object.keys(params).length > 0 ? 'PUT' : method,
    params,
    renewalPercent,
    revoke: asBoolean(spec.revoke, 'spec.revoke', false),
    allowStaticCreds: asBoolean(spec.allowStaticCreds, 'spec.allowStaticCreds', false),
    ...(refreshAfterMs !== undefined ? { refreshAfterMs } : {}),
    destination: parseDestination(spec.destination),
    rolloutRestartTargets: parseRolloutRestartTargets(spec.rolloutRestartTargets),
  };
}
