// VaultDynamicSecret: leased credentials (database, cloud, …) synced into a Secret, renewed while the
// lease allows and re-issued before it ends. The spec and status are described once in zod: type,
// parser and CRD schema come from them (kind-schema.ts). Field names and defaults are VSO's (§1.5 of
// the reference).
import * as z from 'zod/mini';
import type { Condition, ObjectMeta } from './common.ts';
import {
  described,
  parseSpec,
  statusStructuralSchema,
  structuralSchema,
  transformed,
  withMeta,
  type KindSchema,
} from './kind-schema.ts';
import {
  destinationSchema,
  int64,
  lastForceSyncField,
  lastGenerationField,
  refreshDuration,
  rolloutRestartTargetsSchema,
  secretMacField,
  stringMap,
  vaultAuthRefField,
  vaultClientMetaField,
  vaultNamespaceField,
  vaultPath,
  withoutEmpty,
} from './sync-target.ts';

export type { VaultClientMeta } from './sync-target.ts';

export const DEFAULT_RENEWAL_PERCENT = 67;
export const MAX_RENEWAL_PERCENT = 90;

export const vaultDynamicSecretSpecSchema = transformed(
  described(
    z.object(
      {
        vaultAuthRef: vaultAuthRefField,
        namespace: vaultNamespaceField,
        mount: vaultPath('the secrets engine mount', 'Secrets engine mount, e.g. database.'),
        path: vaultPath('the request path', 'Request path under the mount, e.g. creds/app.'),
        requestHTTPMethod: described(
          z._default(z.enum(['GET', 'POST', 'PUT'], { error: 'expected one of GET, POST, PUT' }), 'GET'),
          'GET reads the path; POST or PUT write params to it. Any params make it a PUT, as VSO.',
        ),
        params: stringMap(
          'Body of the write request (e.g. ttl); any params make the request a PUT.',
          'Parameter value.',
        ),
        renewalPercent: described(
          z._default(
            z.int({ error: `expected an integer from 0 to ${MAX_RENEWAL_PERCENT}` }).check(
              z.gte(0, { error: `expected an integer from 0 to ${MAX_RENEWAL_PERCENT}` }),
              z.lte(MAX_RENEWAL_PERCENT, {
                error: `expected at most ${MAX_RENEWAL_PERCENT}: renewing later leaves no time to retry`,
              }),
            ),
            DEFAULT_RENEWAL_PERCENT,
          ),
          `Renew (or re-issue) the lease at this percentage of its duration; 0 means the default ${DEFAULT_RENEWAL_PERCENT}, as VSO.`,
        ),
        revoke: described(
          z._default(z.boolean({ error: 'expected true or false' }), false),
          'Revoke the lease in Vault when this object is deleted.',
        ),
        allowStaticCreds: described(
          z._default(z.boolean({ error: 'expected true or false' }), false),
          'The path is a static role (e.g. database static-creds) whose password Vault rotates: sync after each rotation instead of renewing a lease.',
        ),
        refreshAfter: refreshDuration(
          'Re-issue period when Vault answers without a lease duration, e.g. 1h; unset: not re-issued. Shorter than 1s is raised to 1s.',
        ),
        rolloutRestartTargets: rolloutRestartTargetsSchema,
        destination: destinationSchema,
      },
      { error: 'expected an object' },
    ),
    'Which Vault credentials to request, how to keep them fresh, and where to write them.',
  ),
  (spec) => {
    const params = spec.params ?? {};
    return {
      ...withoutEmpty({ vaultAuthRef: spec.vaultAuthRef, namespace: spec.namespace }),
      mount: spec.mount,
      path: spec.path,
      // As VSO: parameters are a write, whatever the method says.
      requestHTTPMethod: Object.keys(params).length > 0 ? ('PUT' as const) : spec.requestHTTPMethod,
      params,
      // 0 means unset, as in VSO (omitempty): renewing at 0% would renew on every reconcile.
      renewalPercent: spec.renewalPercent || DEFAULT_RENEWAL_PERCENT,
      revoke: spec.revoke,
      allowStaticCreds: spec.allowStaticCreds,
      ...(spec.refreshAfter === undefined ? {} : { refreshAfterMs: spec.refreshAfter }),
      destination: spec.destination,
      rolloutRestartTargets: spec.rolloutRestartTargets,
    };
  },
);

export type VaultDynamicSecretSpec = z.output<typeof vaultDynamicSecretSpecSchema>;
export type RequestMethod = VaultDynamicSecretSpec['requestHTTPMethod'];

const secretLeaseField = described(
  z.object({
    id: described(z.string(), 'The Vault lease id.'),
    duration: described(z.int(), 'Lease duration in seconds, as Vault last gave it.'),
    renewable: described(z.boolean(), 'Whether Vault allows renewing the lease.'),
    requestID: described(z.string(), 'The Vault request id of the answer that issued or renewed the lease.'),
  }),
  'The lease of the synced credentials.',
);

const staticCredsMetaDataField = described(
  z.object({
    lastVaultRotation: withMeta(z.int(), {
      format: 'int64',
      description: "Unix seconds of the password's last rotation by Vault.",
    }),
    rotationPeriod: described(z.int(), 'Seconds between rotations; 0 with a schedule.'),
    rotationSchedule: described(z.string(), 'Cron schedule of the rotations, when the role has one.'),
    ttl: described(z.int(), 'Seconds until the next rotation, when read.'),
  }),
  "With allowStaticCreds: what Vault said of the static role's rotation at the last read.",
);

export const vaultDynamicSecretStatusSchema = described(
  z.object({
    lastGeneration: lastGenerationField,
    lastRenewalTime: int64('Unix seconds of the last issue or renewal.'),
    secretLease: z.optional(secretLeaseField),
    secretMAC: secretMacField,
    vaultClientMeta: vaultClientMetaField,
    lastRuntimePodUID: described(z.optional(z.string()), 'UID of the operator pod that synced last.'),
    lastForceSync: lastForceSyncField,
    staticCredsMetaData: z.optional(staticCredsMetaDataField),
  }),
  'What the operator last synced, written by it.',
);

export type SecretLease = z.output<typeof secretLeaseField>;
export type StaticCredsMetaData = z.output<typeof staticCredsMetaDataField>;
export type VaultDynamicSecretStatus = z.output<typeof vaultDynamicSecretStatusSchema> & { conditions?: Condition[] };

export interface VaultDynamicSecret {
  apiVersion: string;
  kind: 'VaultDynamicSecret';
  metadata: ObjectMeta & { finalizers?: string[] };
  spec: unknown;
  status?: VaultDynamicSecretStatus;
}

/** The CRD's `spec` and `status` schema, generated when first asked for (kind-table.ts). */
export const vaultDynamicSecretSchema = (): KindSchema => ({
  type: 'object',
  properties: {
    spec: structuralSchema(vaultDynamicSecretSpecSchema),
    status: statusStructuralSchema(vaultDynamicSecretStatusSchema),
  },
});

/** The spec as the controller uses it; the API server's schema is not trusted to have run. */
export function parseVaultDynamicSecretSpec(raw: unknown): VaultDynamicSecretSpec {
  return parseSpec(vaultDynamicSecretSpecSchema, raw);
}
