// Every kind the operator serves, one row each: its names, API group and version, what `kubectl
// explain` says of it, its schema (from the kind's zod description), its printer columns, and whether
// it syncs a Secret or only reports on itself. The CRDs (crds.ts), the chart's RBAC check
// (crds.test.ts) and the operator's wiring (../kinds.ts, which must have a row for each kind here or
// the type-check fails) all read this table, so adding a kind — or serving one under another group —
// starts with one row here. See CONTRIBUTING.md, "A new CRD kind".
import { GROUP, healthyReadyColumns, VERSION, type ApiGroup } from './common.ts';
import type { KindSchema } from './kind-schema.ts';
import { secretTransformationSchema } from './secret-transformation.ts';
import { vaultAuthSchema } from './vault-auth.ts';
import { vaultAuthGlobalSchema } from './vault-auth-global.ts';
import { vaultConnectionSchema } from './vault-connection.ts';
import { vaultDynamicSecretSchema } from './vault-dynamic-secret.ts';
import { vaultPkiSecretSchema } from './vault-pki-secret.ts';
import { vaultStaticSecretSchema } from './vault-static-secret.ts';

export interface KindNames {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
}

export interface KindDefinition extends KindNames {
  group: string;
  version: string;
  /** The CRD's top-level description (`kubectl explain <kind>`). */
  description: string;
  /**
   * `spec` and `status` of the CRD's openAPIV3Schema, generated from the kind's zod schemas on the first
   * call (then kept): only the CRDs need it (`--install-crds`, `convert`, `npm run crds`), and a running
   * operator parses specs without it, so it does not pay for generating them at start (z.toJSONSchema
   * over every kind: ~3 MiB RSS at import; README, Memory).
   */
  schema: () => KindSchema;
  printerColumns: PrinterColumn[];
  /**
   * `synced`: reads Vault and writes a destination Secret it may own (the destination watch repairs
   * drift for it); `status`: only checks itself and writes its own status.
   */
  role: 'synced' | 'status';
}

const syncedColumns: PrinterColumn[] = [
  { name: 'Synced', type: 'string', jsonPath: '.status.conditions[?(@.type=="SecretSynced")].status' },
  ...healthyReadyColumns,
];

/** A row of the table: the names follow from the kind (`VaultAuth` → `vaultauths`, `VaultAuthList`). */
function row<Kind extends string>(
  kind: Kind,
  role: KindDefinition['role'],
  description: string,
  generate: () => KindSchema,
): KindDefinition & { kind: Kind } {
  const singular = kind.toLowerCase();
  let schema: KindSchema | undefined;
  return {
    kind,
    plural: `${singular}s`,
    singular,
    listKind: `${kind}List`,
    group: GROUP,
    version: VERSION,
    description,
    schema: () => (schema ??= generate()),
    printerColumns: role === 'synced' ? syncedColumns : healthyReadyColumns,
    role,
  };
}

export const KIND_TABLE = [
  row('VaultConnection', 'status', 'VaultConnection: how to reach a Vault server.', vaultConnectionSchema),
  row('VaultAuth', 'status', 'VaultAuth: how to log in to Vault.', vaultAuthSchema),
  row(
    'VaultStaticSecret',
    'synced',
    'VaultStaticSecret: a KV secret synced into a Kubernetes Secret.',
    vaultStaticSecretSchema,
  ),
  row(
    'VaultDynamicSecret',
    'synced',
    'VaultDynamicSecret: leased Vault credentials synced into a Kubernetes Secret, renewed and rotated.',
    vaultDynamicSecretSchema,
  ),
  row(
    'VaultPKISecret',
    'synced',
    'VaultPKISecret: a certificate from a Vault PKI role in a Kubernetes Secret, re-issued before it expires.',
    vaultPkiSecretSchema,
  ),
  row(
    'SecretTransformation',
    'status',
    'SecretTransformation: templates and include/exclude rules shared by synced objects (transformationRefs).',
    secretTransformationSchema,
  ),
  row(
    'VaultAuthGlobal',
    'status',
    'VaultAuthGlobal: login defaults (method, mount, role, headers...) shared by the VaultAuths that name it in spec.vaultAuthGlobalRef.',
    vaultAuthGlobalSchema,
  ),
] as const;

export type KindName = (typeof KIND_TABLE)[number]['kind'];

/** The table as served under `api` (VSO group mode: every row under VSO's group; names and schemas unchanged). */
export function servedKinds(api: ApiGroup): Array<(typeof KIND_TABLE)[number]> {
  return KIND_TABLE.map((definition) => ({ ...definition, group: api.group, version: api.version }));
}

/** The row of `kind`. */
export function kindDefinition(kind: KindName): KindDefinition {
  return KIND_TABLE.find((definition) => definition.kind === kind)!;
}

/** Names by kind (`kinds.VaultAuth.plural`), for API calls. */
export const kinds = Object.fromEntries(
  KIND_TABLE.map(({ kind, plural, singular, listKind }) => [kind, { kind, plural, singular, listKind }]),
) as { readonly [K in KindName]: KindNames & { kind: K } };
