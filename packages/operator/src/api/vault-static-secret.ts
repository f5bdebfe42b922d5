import { parseDuration } from '@vaultbridge/core';
import {
  asBoolean, asInteger, asObject, asString, asStringMap, conditionsSchema, DURATION_PATTERN, SpecError, stringMapSchema,
  type Condition, type ObjectMeta,
} from './common.ts';

export interface Destination {
  name: string;
  create: boolean;
  overwrite: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Secret type; Opaque when empty. */
  type: string;
}

export interface RolloutRestartTarget {
  kind: 'Deployment' | 'DaemonSet' | 'StatefulSet' | 'argo.Rollout';
  name: string;
}

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
  destination: Destination;
  rolloutRestartTargets: RolloutRestartTarget[];
}

export interface VaultStaticSecretStatus {
  lastGeneration?: number;
  secretMAC?: string;
  conditions?: Condition[];
}

export interface VaultStaticSecret {
  apiVersion: string;
  kind: 'VaultStaticSecret';
  metadata: ObjectMeta;
  spec: unknown;
  status?: VaultStaticSecretStatus;
}

export const destinationSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, description: 'Secret name, in the namespace of this object.' },
    create: { type: 'boolean', default: false, description: 'Create the Secret and own it (ownerReference, labels).' },
    overwrite: { type: 'boolean', default: false, description: 'With create, take over an existing Secret this object does not own.' },
    labels: { ...stringMapSchema, description: 'Labels of the Secret (only with create).' },
    annotations: { ...stringMapSchema, description: 'Annotations of the Secret (only with create).' },
    type: { type: 'string', description: 'Secret type (only with create); Opaque when empty.' },
    transformation: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Accepted for VSO compatibility; not implemented yet.' },
  },
} as const;

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
        rolloutRestartTargets: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kind', 'name'],
            properties: { kind: { type: 'string', enum: ['Deployment', 'DaemonSet', 'StatefulSet', 'argo.Rollout'] }, name: { type: 'string', minLength: 1 } },
          },
        },
        syncConfig: { type: 'object', properties: { instantUpdates: { type: 'boolean' } } },
        destination: destinationSchema,
      },
    },
    status: {
      type: 'object',
      properties: {
        lastGeneration: { type: 'integer', format: 'int64' },
        secretMAC: { type: 'string' },
        vaultClientMeta: { type: 'object', properties: { cacheKey: { type: 'string' }, id: { type: 'string' } } },
        conditions: conditionsSchema,
      },
    },
  },
};

const secretNamePattern = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const labelKeyPattern = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

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
  const refreshAfterText = asString(spec.refreshAfter, 'spec.refreshAfter');
  let refreshAfterMs: number | undefined;
  if (refreshAfterText !== undefined) {
    refreshAfterMs = new RegExp(DURATION_PATTERN).test(refreshAfterText) ? parseDuration(refreshAfterText) : undefined;
    if (refreshAfterMs === undefined) throw new SpecError('spec.refreshAfter', `"${refreshAfterText}" is not a duration like 30s, 5m or 1h`);
  }
  const destination = asObject(spec.destination, 'spec.destination', true)!;
  const name = asString(destination.name, 'spec.destination.name', true)!;
  if (!secretNamePattern.test(name) || name.length > 253) throw new SpecError('spec.destination.name', `"${name}" is not a valid Secret name (lower-case DNS subdomain)`);
  const labels = asStringMap(destination.labels, 'spec.destination.labels');
  for (const key of Object.keys(labels)) {
    if (!labelKeyPattern.test(key)) throw new SpecError(`spec.destination.labels`, `"${key}" is not a valid label key`);
  }
  const targets = spec.rolloutRestartTargets ?? [];
  if (!Array.isArray(targets)) throw new SpecError('spec.rolloutRestartTargets', 'expected a list');
  const rolloutRestartTargets = targets.map((item, index) => {
    const target = asObject(item, `spec.rolloutRestartTargets[${index}]`, true)!;
    const kind = asString(target.kind, `spec.rolloutRestartTargets[${index}].kind`, true)!;
    if (!['Deployment', 'DaemonSet', 'StatefulSet', 'argo.Rollout'].includes(kind)) {
      throw new SpecError(`spec.rolloutRestartTargets[${index}].kind`, `"${kind}" is not one of Deployment, DaemonSet, StatefulSet, argo.Rollout`);
    }
    return { kind: kind as RolloutRestartTarget['kind'], name: asString(target.name, `spec.rolloutRestartTargets[${index}].name`, true)! };
  });
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
    destination: {
      name,
      create: asBoolean(destination.create, 'spec.destination.create', false),
      overwrite: asBoolean(destination.overwrite, 'spec.destination.overwrite', false),
      labels,
      annotations: asStringMap(destination.annotations, 'spec.destination.annotations'),
      type: asString(destination.type, 'spec.destination.type') ?? 'Opaque',
    },
    rolloutRestartTargets,
  };
}
