// VaultAuthGlobal (VSO ≥ 0.8): login defaults shared by many VaultAuths. A VaultAuth names one in
// `spec.vaultAuthGlobalRef` and leaves out what the global provides (method, mount, Vault namespace,
// connection, the method's role and service account, headers and params). The merge runs where the
// VaultAuth is used (vault-clients.ts) and in `convert`, with VSO's precedence (its common.go,
// MergeInVaultAuthGlobal): the VaultAuth's own value, then the global's per-method block, then the
// global's defaults; headers and params only by the VaultAuth's mergeStrategy (default none).
import * as z from 'zod/mini';
import { SpecError, type Condition, type ObjectMeta, type ObjectRef } from './common.ts';
import {
  described,
  parseSpec,
  statusStructuralSchema,
  structuralSchema,
  transformed,
  withMeta,
  type KindSchema,
} from './kind-schema.ts';

const text = z.string({ error: 'expected text' });
const textMap = (what: string, description: string) =>
  described(
    z.optional(
      z.record(z.string(), described(text, `${what} value.`), { error: `expected a mapping of ${what} names to text` }),
    ),
    description,
  );
/** Optional text with a description. */
const optionalText = (description: string) => described(z.optional(text), description);

/** The methods VSO knows; kubernetes, jwt and appRole are implemented here (aws and gcp are refused at use). */
export const VSO_AUTH_METHODS = ['kubernetes', 'jwt', 'appRole', 'aws', 'gcp'] as const;
export type VsoAuthMethod = (typeof VSO_AUTH_METHODS)[number];

/** What every per-method block adds to the method's own fields (VSO's VaultAuthGlobalConfig*). */
const blockCommon = {
  namespace: optionalText('Vault namespace to log in to, when the VaultAuth sets none.'),
  mount: optionalText('Auth mount, when the VaultAuth sets none (before spec.defaultMount).'),
  params: textMap('Parameter', "Login parameters, merged by the VaultAuth's mergeStrategy.params (not used yet)."),
  headers: textMap('Header', "Headers on the login request, merged by the VaultAuth's mergeStrategy.headers."),
};

const audiences = described(
  z.optional(z.array(described(text, 'An audience.'), { error: 'expected a list of audiences' })),
  'Audiences of the minted token, when the VaultAuth gives none.',
);
const tokenExpirationSeconds = withMeta(
  z.optional(z.int({ error: 'expected an integer >= 600' }).check(z.gte(600, { error: 'expected an integer >= 600' }))),
  { format: 'int64', description: 'Lifetime in seconds of the minted token, when the VaultAuth gives none.' },
);

const kubernetesBlock = described(
  z.optional(
    z.object(
      {
        role: optionalText('Vault role, when the VaultAuth gives none.'),
        serviceAccount: optionalText(
          "Service account (in the synced object's namespace), when the VaultAuth gives none.",
        ),
        audiences,
        tokenExpirationSeconds,
        ...blockCommon,
      },
      { error: 'expected an object' },
    ),
  ),
  'Defaults for VaultAuths with method kubernetes.',
);

const jwtBlock = described(
  z.optional(
    z.object(
      {
        role: optionalText('Vault role, when the VaultAuth gives none.'),
        serviceAccount: optionalText('Service account whose token is the JWT, when the VaultAuth gives none.'),
        secretRef: optionalText('Secret (key jwt) holding the JWT, when the VaultAuth gives none.'),
        audiences,
        tokenExpirationSeconds,
        ...blockCommon,
      },
      { error: 'expected an object' },
    ),
  ),
  'Defaults for VaultAuths with method jwt.',
);

const appRoleBlock = described(
  z.optional(
    z.object(
      {
        roleId: optionalText('AppRole role_id, when the VaultAuth gives none.'),
        secretRef: optionalText('Secret (key id) holding the secret_id, when the VaultAuth gives none.'),
        secretIDPath: optionalText(
          'Not supported (a file in the operator pod): a merged VaultAuth with it is refused; use secretRef.',
        ),
        ...blockCommon,
      },
      { error: 'expected an object' },
    ),
  ),
  'Defaults for VaultAuths with method appRole.',
);

export const vaultAuthGlobalSpecSchema = transformed(
  described(
    z.optional(
      z.object(
        {
          allowedNamespaces: described(
            z._default(
              z.array(described(text, 'A namespace, or * for all.'), { error: 'expected a list of namespaces' }),
              [],
            ),
            'Namespaces whose VaultAuths may use this VaultAuthGlobal besides its own; "*" for all. The one named default in the operator namespace serves every namespace.',
          ),
          vaultConnectionRef: optionalText(
            "VaultConnection (name or namespace/name, a bare name in the VaultAuth's namespace), when the VaultAuth names none.",
          ),
          defaultVaultNamespace: optionalText(
            'Vault namespace to log in to, when neither the VaultAuth nor the method block sets one.',
          ),
          defaultAuthMethod: described(
            z.optional(z.enum(VSO_AUTH_METHODS, { error: `expected one of ${VSO_AUTH_METHODS.join(', ')}` })),
            'Auth method of VaultAuths that set none (aws and gcp are refused where used).',
          ),
          defaultMount: optionalText('Auth mount, when neither the VaultAuth nor the method block sets one.'),
          params: textMap(
            'Parameter',
            "Default login parameters (merged by the VaultAuth's mergeStrategy.params; not used yet).",
          ),
          headers: textMap('Header', "Default login headers (merged by the VaultAuth's mergeStrategy.headers)."),
          kubernetes: kubernetesBlock,
          jwt: jwtBlock,
          appRole: appRoleBlock,
        },
        { error: 'expected an object' },
      ),
    ),
    'Login defaults shared by the VaultAuths that name this object in spec.vaultAuthGlobalRef.',
  ),
  (spec) => spec ?? { allowedNamespaces: [] as string[] },
);

export type VaultAuthGlobalSpec = z.output<typeof vaultAuthGlobalSpecSchema>;

export const vaultAuthGlobalStatusSchema = described(
  z.object({
    valid: described(z.optional(z.boolean()), 'Whether the spec is usable (VSO status field).'),
    error: described(z.optional(z.string()), 'Why the spec is not usable, naming the field, when it is not.'),
  }),
  'What the operator last found, written by it.',
);

export interface VaultAuthGlobal {
  apiVersion: string;
  kind: 'VaultAuthGlobal';
  metadata: ObjectMeta;
  spec?: unknown;
  status?: z.output<typeof vaultAuthGlobalStatusSchema> & { conditions?: Condition[] };
}

/** The CRD's `spec` and `status` schema, generated when first asked for (kind-table.ts). */
export const vaultAuthGlobalSchema = (): KindSchema => ({
  type: 'object',
  properties: {
    spec: structuralSchema(vaultAuthGlobalSpecSchema),
    status: statusStructuralSchema(vaultAuthGlobalStatusSchema),
  },
});

export function parseVaultAuthGlobalSpec(raw: unknown): VaultAuthGlobalSpec {
  return parseSpec(vaultAuthGlobalSpecSchema, raw);
}

// --- The reference (VaultAuth spec.vaultAuthGlobalRef) ---

const MERGE_STRATEGIES = ['union', 'replace', 'none'] as const;
type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/** The VaultAuth's `spec.vaultAuthGlobalRef`, as the VaultAuth CRD describes it. */
const mergeStrategy = (description: string) =>
  described(z.optional(z.enum(MERGE_STRATEGIES, { error: 'expected union, replace or none' })), description);

export const vaultAuthGlobalRefSchema = described(
  z.optional(
    z.object(
      {
        name: described(
          z.optional(
            z
              .string({ error: 'expected a VaultAuthGlobal name' })
              .check(z.regex(/^([a-z0-9.-]{1,253})$/, { error: 'expected a VaultAuthGlobal name' })),
          ),
          'VaultAuthGlobal to merge in. Empty with allowDefault: the one named default.',
        ),
        namespace: described(
          z.optional(
            z
              .string({ error: 'expected a namespace' })
              .check(z.regex(/^([a-z0-9-]{1,63})$/, { error: 'expected a namespace' })),
          ),
          "Its namespace; the VaultAuth's when empty.",
        ),
        allowDefault: described(
          z.optional(z.boolean({ error: 'expected true or false' })),
          "With no name: use the VaultAuthGlobal named default, from namespace if set, else the VaultAuth's namespace, then the operator's.",
        ),
        mergeStrategy: described(
          z.optional(
            z.object(
              {
                headers: mergeStrategy(
                  "union: the global's default, then method headers, overridden by the VaultAuth's; replace: the first non-empty of VaultAuth, method block, defaults; none (default): the VaultAuth's only.",
                ),
                params: mergeStrategy('As headers, for params.'),
              },
              { error: 'expected an object' },
            ),
          ),
          'How headers and params of the VaultAuth and the VaultAuthGlobal combine.',
        ),
      },
      { error: 'expected an object' },
    ),
  ),
  'A VaultAuthGlobal whose defaults fill what this VaultAuth leaves out (method, mount, namespace, connection, the method block, headers and params).',
);

type GlobalRef = NonNullable<z.output<typeof vaultAuthGlobalRefSchema>>;

/** Where to look for the referenced VaultAuthGlobal, in order (more than one only for the default search). */
export function vaultAuthGlobalCandidates(
  ref: GlobalRef,
  authNamespace: string,
  operatorNamespace: string,
): ObjectRef[] {
  if (ref.name) return [{ namespace: ref.namespace || authNamespace, name: ref.name }];
  if (ref.allowDefault !== true)
    throw new SpecError(
      'spec.vaultAuthGlobalRef.name',
      'is required unless allowDefault is true (then the VaultAuthGlobal named default is used)',
    );
  if (ref.namespace) return [{ namespace: ref.namespace, name: 'default' }];
  const namespaces = [...new Set([authNamespace, operatorNamespace])];
  return namespaces.map((namespace) => ({ namespace, name: 'default' }));
}

/** VSO's rule: the global's namespace, the `default` global of the operator namespace, or listed (or `*`). */
export function vaultAuthGlobalAllows(
  globalRef: ObjectRef,
  spec: VaultAuthGlobalSpec,
  authNamespace: string,
  operatorNamespace: string,
): boolean {
  return (
    globalRef.namespace === authNamespace ||
    (globalRef.name === 'default' && globalRef.namespace === operatorNamespace) ||
    spec.allowedNamespaces.includes('*') ||
    spec.allowedNamespaces.includes(authNamespace)
  );
}

/** The raw `spec.vaultAuthGlobalRef` of a VaultAuth spec, checked; undefined when absent. */
export function vaultAuthGlobalRefOf(authSpec: unknown): GlobalRef | undefined {
  if (typeof authSpec !== 'object' || authSpec === null) return undefined;
  const raw = (authSpec as { vaultAuthGlobalRef?: unknown }).vaultAuthGlobalRef;
  if (raw === undefined || raw === null) return undefined;
  return parseSpec(vaultAuthGlobalRefSchema, raw, 'spec.vaultAuthGlobalRef');
}

// --- The merge ---

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const nonEmpty = (value: unknown): boolean =>
  value !== undefined &&
  value !== null &&
  value !== '' &&
  value !== 0 &&
  !(Array.isArray(value) && value.length === 0) &&
  !(isRecord(value) && Object.keys(value).length === 0);
const first = <T>(...values: T[]): T | undefined => values.find(nonEmpty);

function mergeMaps(
  strategy: MergeStrategy,
  own: Record<string, string> | undefined,
  block: Record<string, string> | undefined,
  defaults: Record<string, string> | undefined,
): Record<string, string> | undefined {
  switch (strategy) {
    case 'union':
      return { ...defaults, ...block, ...own };
    case 'replace':
      return first(own, block, defaults);
    case 'none':
      return own;
  }
}

const stringMap = (value: unknown): Record<string, string> | undefined =>
  isRecord(value) ? (value as Record<string, string>) : undefined;

/**
 * The VaultAuth spec `authSpec` (raw, as stored) with the defaults of VaultAuthGlobal `global` merged in
 * (VSO's precedence; see the top of this file). `globalName` names it in errors. The result is parsed
 * by parseVaultAuthSpec as any VaultAuth spec; what the merge itself cannot do throws a SpecError.
 */
export function mergeVaultAuthGlobal(authSpec: Json, global: VaultAuthGlobalSpec, globalName: string): Json {
  const ref = vaultAuthGlobalRefOf(authSpec) ?? {};
  const method = first(authSpec.method as string | undefined, global.defaultAuthMethod);
  if (method === undefined)
    throw new SpecError(
      'spec.method',
      `is not set, and VaultAuthGlobal ${globalName} has no spec.defaultAuthMethod; set one of them`,
    );
  const merged: Json = { ...authSpec, method };
  const own = isRecord(authSpec[method]) ? (authSpec[method] as Json) : undefined;
  const block = (global as Record<string, unknown>)[method] as Json | undefined;
  if (own === undefined && block === undefined)
    throw new SpecError(
      `spec.${method}`,
      `is required with method ${method}: neither this VaultAuth nor VaultAuthGlobal ${globalName} (spec.${method}) configures it`,
    );
  let blockMount: string | undefined;
  let blockNamespace: string | undefined;
  let blockParams: Record<string, string> | undefined;
  let blockHeaders: Record<string, string> | undefined;
  if (block !== undefined) {
    const { mount, namespace, params, headers, ...config } = block;
    blockMount = mount as string | undefined;
    blockNamespace = namespace as string | undefined;
    blockParams = stringMap(params);
    blockHeaders = stringMap(headers);
    // The VaultAuth's own non-empty fields win, field by field (VSO's VaultAuthConfig*.Merge).
    const filled: Json = { ...config };
    for (const [key, value] of Object.entries(own ?? {})) if (nonEmpty(value)) filled[key] = value;
    merged[method] = filled;
  }
  const mount = first(authSpec.mount as string | undefined, blockMount, global.defaultMount);
  if (mount === undefined)
    throw new SpecError(
      'spec.mount',
      `is not set, and VaultAuthGlobal ${globalName} sets neither spec.${method}.mount nor spec.defaultMount`,
    );
  merged.mount = mount;
  const namespace = first(authSpec.namespace as string | undefined, blockNamespace, global.defaultVaultNamespace);
  if (namespace !== undefined) merged.namespace = namespace;
  const params = mergeMaps(ref.mergeStrategy?.params ?? 'none', stringMap(authSpec.params), blockParams, global.params);
  if (params !== undefined) merged.params = params;
  const headers = mergeMaps(
    ref.mergeStrategy?.headers ?? 'none',
    stringMap(authSpec.headers),
    blockHeaders,
    global.headers,
  );
  if (headers !== undefined) merged.headers = headers;
  const connection = first(authSpec.vaultConnectionRef as string | undefined, global.vaultConnectionRef);
  if (connection !== undefined) merged.vaultConnectionRef = connection;
  return merged;
}
