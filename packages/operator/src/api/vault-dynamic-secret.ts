// VaultDynamicSecret: leased credentials (database, cloud, …) synced into a Secret, renewed while the
// lease allows and re-issued before it ends. The spec and status are described once in zod: type,
// parser and CRD schema come from them (kind-schema.ts). Field names and defaults are VSO's (§1.5 of
// the reference).
import { z } from 'zod';
import type { Condition, ObjectMeta } from './common.ts';
import { parseSpec, statusStructuralSchema, structuralSchema } from './kind-schema.ts';
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

export const vaultDynamicSecretSpecSchema = z
  .object(
    {
      vaultAuthRef: vaultAuthRefField,
      namespace: vaultNamespaceField,
      mount: vaultPath('the secrets engine mount', 'Secrets engine mount, e.g. database.'),
      path: vaultPath('the request path', 'Request path under the mount, e.g. creds/app.'),
      requestHTTPMethod: z
        .enum(['GET', 'POST', 'PUT'], { error: 'expected one of GET, POST, PUT' })
        .default('GET')
        .describe('GET reads the path; POST or PUT write params to it. Any params make it a PUT, as VSO.'),
      params: stringMap('Body of the write request (e.g. ttl); any params make the request a PUT.', 'Parameter value.'),
      renewalPercent: z
        .int({ error: `expected an integer from 0 to ${MAX_RENEWAL_PERCENT}` })
        .min(0, { error: `expected an integer from 0 to ${MAX_RENEWAL_PERCENT}` })
        .max(MAX_RENEWAL_PERCENT, {
          error: `expected at most ${MAX_RENEWAL_PERCENT}: renewing later leaves no time to retry`,
        })
        .default(DEFAULT_RENEWAL_PERCENT)
        .describe(
          `Renew (or re-issue) the lease at this percentage of its duration; 0 means the default ${DEFAULT_RENEWAL_PERCENT}, as VSO.`,
        ),
      revoke: z
        .boolean({ error: 'expected true or false' })
        .default(false)
        .describe('Revoke the lease in Vault when this object is deleted.'),
      allowStaticCreds: z
        .boolean({ error: 'expected true or false' })
        .default(false)
        .describe(
          'The path is a static role (e.g. database static-creds) whose password Vault rotates: sync after each rotation instead of renewing a lease.',
        ),
      refreshAfter: refreshDuration(
        'Re-issue period when Vault answers without a lease duration, e.g. 1h; unset: not re-issued. Shorter than 1s is raised to 1s.',
      ),
      rolloutRestartTargets: rolloutRestartTargetsSchema,
      destination: destinationSchema,
    },
    { error: 'expected an object' },
  )
  .describe('Which Vault credentials to request, how to keep them fresh, and where to write them.')
  .transform((spec) => {
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
  });

export type VaultDynamicSecretSpec = z.output<typeof vaultDynamicSecretSpecSchema>;
export type RequestMethod = VaultDynamicSecretSpec['requestHTTPMethod'];

const secretLeaseField = z
  .object({
    id: z.string().describe('The Vault lease id.'),
    duration: z.int().describe('Lease duration in seconds, as Vault last gave it.'),
    renewable: z.boolean().describe('Whether Vault allows renewing the lease.'),
    requestID: z.string().describe('The Vault request id of the answer that issued or renewed the lease.'),
  })
  .describe('The lease of the synced credentials.');

const staticCredsMetaDataField = z
  .object({
    lastVaultRotation: z
      .int()
      .meta({ format: 'int64', description: "Unix seconds of the password's last rotation by Vault." }),
    rotationPeriod: z.int().describe('Seconds between rotations; 0 with a schedule.'),
    rotationSchedule: z.string().describe('Cron schedule of the rotations, when the role has one.'),
    ttl: z.int().describe('Seconds until the next rotation, when read.'),
  })
  .describe("With allowStaticCreds: what Vault said of the static role's rotation at the last read.");

export const vaultDynamicSecretStatusSchema = z
  .object({
    lastGeneration: lastGenerationField,
    lastRenewalTime: int64('Unix seconds of the last issue or renewal.'),
    secretLease: secretLeaseField.optional(),
    secretMAC: secretMacField,
    vaultClientMeta: vaultClientMetaField,
    lastRuntimePodUID: z.string().optional().describe('UID of the operator pod that synced last.'),
    lastForceSync: lastForceSyncField,
    staticCredsMetaData: staticCredsMetaDataField.optional(),
  })
  .describe('What the operator last synced, written by it.');

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

export const vaultDynamicSecretSchema = {
  type: 'object',
  properties: {
    spec: structuralSchema(vaultDynamicSecretSpecSchema),
    status: statusStructuralSchema(vaultDynamicSecretStatusSchema),
  },
};

/** The spec as the controller uses it; the API server's schema is not trusted to have run. */
export function parseVaultDynamicSecretSpec(raw: unknown): VaultDynamicSecretSpec {
  return parseSpec(vaultDynamicSecretSpecSchema, raw);
}
