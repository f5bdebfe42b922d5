// VaultStaticSecret: a KV secret synced into a Kubernetes Secret. The spec and status are described
// once in zod (vaultStaticSecretSpecSchema, vaultStaticSecretStatusSchema): type, parser and CRD schema
// come from them (kind-schema.ts). Field names and defaults are VSO's (§1.4 of the reference).
import * as z from 'zod/mini';
import type { Condition, ObjectMeta } from './common.ts';
import {
  described,
  parseSpec,
  statusStructuralSchema,
  structuralSchema,
  transformed,
  type KindSchema,
} from './kind-schema.ts';
import {
  destinationSchema,
  given,
  lastGenerationField,
  refreshDuration,
  rolloutRestartTargetsSchema,
  secretMacField,
  vaultAuthRefField,
  vaultClientMetaField,
  vaultNamespaceField,
  vaultPath,
  withoutEmpty,
} from './sync-target.ts';

export type { Destination, RolloutRestartTarget } from './sync-target.ts';

export const vaultStaticSecretSpecSchema = transformed(
  described(
    z.object(
      {
        vaultAuthRef: vaultAuthRefField,
        namespace: vaultNamespaceField,
        mount: vaultPath('the KV mount', 'KV secrets engine mount, e.g. secret.'),
        path: vaultPath('the secret path', 'Path of the secret under the mount, e.g. app/db.'),
        version: described(
          z.optional(
            z.int({ error: 'expected an integer >= 0' }).check(z.gte(0, { error: 'expected an integer >= 0' })),
          ),
          'KV v2 version to read (?version=N); the current version when 0 or unset. Only with type kv-v2.',
        ),
        type: described(
          z.enum(['kv-v1', 'kv-v2'], { error: 'expected kv-v1 or kv-v2' }),
          'KV secrets engine version of the mount: kv-v1 or kv-v2.',
        ),
        refreshAfter: refreshDuration(
          'Re-read Vault this often (at a jittered 80-90% of it), e.g. 30s, 5m, 1h; unset or 0s: every 60s with hmacSecretData, else only on changes. Shorter than 1s is raised to 1s.',
        ),
        hmacSecretData: described(
          z._default(z.boolean({ error: 'expected true or false' }), true),
          'Keep an HMAC of the synced data in status.secretMAC, to tell drift and changes (rollout restarts need it).',
        ),
        rolloutRestartTargets: rolloutRestartTargetsSchema,
        syncConfig: described(
          z.optional(
            z.object(
              {
                instantUpdates: described(
                  z._default(z.boolean({ error: 'expected true or false' }), false),
                  'Sync as soon as Vault publishes a KV event for the path (Vault 1.13 with -experiment events.alpha1); refreshAfter stays the safety net.',
                ),
              },
              { error: 'expected an object' },
            ),
          ),
          'How changes in Vault reach the Secret besides refreshAfter.',
        ),
        destination: destinationSchema,
      },
      { error: 'expected an object' },
    ),
    'Which KV secret to read and where to write it.',
  ).check(
    z.superRefine((spec, context) => {
      if (spec.version && spec.type === 'kv-v1')
        context.addIssue({ code: 'custom', path: ['version'], message: 'is only valid with type kv-v2', ...given });
    }),
  ),
  (spec) => ({
    ...withoutEmpty({ vaultAuthRef: spec.vaultAuthRef, namespace: spec.namespace }),
    mount: spec.mount,
    path: spec.path,
    ...(spec.version ? { version: spec.version } : {}),
    type: spec.type,
    ...(spec.refreshAfter === undefined ? {} : { refreshAfterMs: spec.refreshAfter }),
    hmacSecretData: spec.hmacSecretData,
    /** spec.syncConfig.instantUpdates: also sync when Vault publishes a KV event for the path. */
    instantUpdates: spec.syncConfig?.instantUpdates ?? false,
    destination: spec.destination,
    rolloutRestartTargets: spec.rolloutRestartTargets,
  }),
);

export type VaultStaticSecretSpec = z.output<typeof vaultStaticSecretSpecSchema>;

export const vaultStaticSecretStatusSchema = described(
  z.object({
    lastGeneration: lastGenerationField,
    secretMAC: secretMacField,
    vaultClientMeta: vaultClientMetaField,
  }),
  'What the operator last synced, written by it.',
);

export type VaultStaticSecretStatus = z.output<typeof vaultStaticSecretStatusSchema> & { conditions?: Condition[] };

export interface VaultStaticSecret {
  apiVersion: string;
  kind: 'VaultStaticSecret';
  metadata: ObjectMeta;
  spec: unknown;
  status?: VaultStaticSecretStatus;
}

/** The CRD's `spec` and `status` schema, generated when first asked for (kind-table.ts). */
export const vaultStaticSecretSchema = (): KindSchema => ({
  type: 'object',
  properties: {
    spec: structuralSchema(vaultStaticSecretSpecSchema),
    status: statusStructuralSchema(vaultStaticSecretStatusSchema),
  },
});

/** The spec as the controller uses it; the API server's schema is not trusted to have run (or to be this version). */
export function parseVaultStaticSecretSpec(raw: unknown): VaultStaticSecretSpec {
  return parseSpec(vaultStaticSecretSpecSchema, raw);
}
