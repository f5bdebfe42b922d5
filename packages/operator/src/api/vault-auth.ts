import { NO_GIVEN_VALUE } from '@vaultbridge/core';
import * as z from 'zod/mini';
import { conditionsSchema, type Condition, type ObjectMeta } from './common.ts';
import { described, parseSpec, structuralSchema, transformed, withMeta, type KindSchema } from './kind-schema.ts';
import { vaultAuthGlobalRefSchema } from './vault-auth-global.ts';

// VaultAuth: how to log in to Vault. The spec is described once (vaultAuthSpecSchema); the type, the
// parser and the CRD schema all come from it (kind-schema.ts).

/**
 * The audiences of the service-account tokens minted for Vault; `["vault"]` when none are given (VSO
 * leaves them empty, which mints a token for the API server's own audience: Vault, or whoever the
 * VaultConnection points at, could then use it against the API server as that service account).
 */
export const DEFAULT_TOKEN_AUDIENCES = ['vault'];

const given = { params: NO_GIVEN_VALUE };
const text = z.string({ error: 'expected text' });
const required = (what: string) =>
  z.string({ error: `expected ${what}` }).check(z.minLength(1, { error: `expected ${what}` }));
/** Required for a login, but optional in the CRD: a VaultAuthGlobal (spec.vaultAuthGlobalRef) may give it. */
const mergeable = (what: string) => z.optional(z.string({ error: `expected ${what}` }));
const fromGlobal = ' Required, here or from the VaultAuthGlobal of spec.vaultAuthGlobalRef.';

/** A field required for the login, checked on the spec after any VaultAuthGlobal was merged in. */
function requireAfterMerge(
  context: z.core.$RefinementCtx,
  value: string | undefined,
  path: string[],
  what: string,
): void {
  // `input` undefined: the message ends "got nothing", as for any missing field.
  if (value === undefined || value === '')
    context.addIssue({ code: 'custom', path, message: `expected ${what}`, input: value });
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const withoutSlashes = (value: string): string => value.replace(/^\/+|\/+$/g, '');

const audiences = transformed(
  described(
    z.optional(
      z.array(
        described(
          text.check(z.refine((audience) => audience.trim() !== '', { error: 'an audience is empty' })),
          'An audience.',
        ),
        { error: 'expected a list of audiences' },
      ),
    ),
    'Audiences of the minted token; ["vault"] when empty. The API server\'s own audiences are refused. Set the same audience on the Vault role.',
  ),
  (list) => (list === undefined || list.length === 0 ? [...DEFAULT_TOKEN_AUDIENCES] : list),
);

const tokenExpirationSeconds = withMeta(
  z._default(
    z.int({ error: 'expected an integer >= 600' }).check(z.gte(600, { error: 'expected an integer >= 600' })),
    600,
  ),
  {
    format: 'int64',
    description: 'Lifetime in seconds of the service-account token minted for each login (at least 600).',
  },
);

const serviceAccount = 'Service account, in the namespace of the synced object, whose token (TokenRequest) logs in.';

const kubernetesSchema = transformed(
  described(
    z.object(
      {
        role: described(
          mergeable('the Vault role'),
          `Vault role of the Kubernetes auth method to log in as.${fromGlobal}`,
        ),
        serviceAccount: described(mergeable('a service account name'), `${serviceAccount}${fromGlobal}`),
        audiences,
        tokenExpirationSeconds,
      },
      { error: 'expected an object' },
    ),
    'With method kubernetes: the role and the service account that logs in.',
  ).check(
    z.superRefine((kubernetes, context) => {
      requireAfterMerge(context, kubernetes.role, ['role'], 'the Vault role');
      requireAfterMerge(context, kubernetes.serviceAccount, ['serviceAccount'], 'a service account name');
    }),
  ),
  ({ role, serviceAccount: account, ...rest }) => ({ role: role!, serviceAccount: account!, ...rest }),
);

const jwtSchema = transformed(
  described(
    z.object(
      {
        role: described(mergeable('the Vault role'), `Vault role of the JWT auth method to log in as.${fromGlobal}`),
        serviceAccount: described(z.optional(text), `${serviceAccount} Exactly one of serviceAccount and secretRef.`),
        secretRef: described(
          z.optional(text),
          'Secret in the VaultAuth namespace whose key jwt is the token, instead of serviceAccount.',
        ),
        audiences,
        tokenExpirationSeconds,
      },
      { error: 'expected an object' },
    ),
    'With method jwt: the role and where the JWT comes from.',
  ).check(
    z.superRefine((jwt, context) => {
      requireAfterMerge(context, jwt.role, ['role'], 'the Vault role');
      if (!jwt.serviceAccount === !jwt.secretRef) {
        context.addIssue({
          code: 'custom',
          message:
            'needs exactly one of serviceAccount (a token from TokenRequest) and secretRef (a Secret with key jwt)',
          ...given,
        });
      }
    }),
  ),
  ({ role, serviceAccount: account, secretRef, ...rest }) => ({
    role: role!,
    ...rest,
    ...(account ? { serviceAccount: account } : {}),
    ...(secretRef ? { secretRef } : {}),
  }),
);

const appRoleSchema = transformed(
  described(
    z.object(
      {
        roleId: described(mergeable('the AppRole role_id'), `The AppRole role_id.${fromGlobal}`),
        secretRef: described(
          z.optional(
            z
              .string({ error: 'expected the name of a Secret holding the secret_id under key id' })
              .check(z.regex(DNS_NAME, { error: 'expected a Secret name' })),
          ),
          'Secret in the VaultAuth namespace whose key id is the secret_id (read on every login). Required; left optional in the CRD so a VSO manifest with secretIDPath applies and is refused with a message.',
        ),
        secretIDPath: described(
          z.optional(text),
          'Not supported (it names a file in the operator pod): refused naming the field; use secretRef. Accepted by the CRD so VSO manifests apply.',
        ),
      },
      { error: 'expected an object' },
    ),
    'With method appRole: the role_id and the Secret holding the secret_id.',
  ).check(
    z.superRefine((appRole, context) => {
      requireAfterMerge(context, appRole.roleId, ['roleId'], 'the AppRole role_id');
      if (appRole.secretIDPath) {
        context.addIssue({
          code: 'custom',
          path: ['secretIDPath'],
          message:
            'is not supported (it names a file in the operator pod); put the secret_id in a Secret and name it in spec.appRole.secretRef',
          ...given,
        });
      } else if (!appRole.secretRef) {
        context.addIssue({
          code: 'custom',
          path: ['secretRef'],
          message: 'is required: the Secret whose key id holds the secret_id',
          ...given,
        });
      }
    }),
  ),
  ({ roleId, secretRef }) => ({ roleId: roleId!, secretRef: secretRef ?? '' }),
);

const IMPLEMENTED = ['kubernetes', 'jwt', 'appRole'] as const;

export const vaultAuthSpecSchema = transformed(
  described(
    z.object(
      {
        vaultConnectionRef: described(
          z.optional(text),
          'VaultConnection as name or namespace/name; empty: default in the operator namespace.',
        ),
        namespace: described(z.optional(text), 'Vault namespace to log in to.'),
        allowedNamespaces: described(
          z._default(
            z.array(described(text, 'A namespace, or * for all.'), { error: 'expected a list of namespaces' }),
            [],
          ),
          'Namespaces whose synced objects may use this VaultAuth besides its own; "*" for all.',
        ),
        // aws and gcp are accepted by name so a VSO manifest applies, and refused by the parser naming spec.method.
        method: described(
          z.optional(z.enum([...IMPLEMENTED, 'aws', 'gcp'], { error: `expected one of ${IMPLEMENTED.join(', ')}` })),
          `Auth method: kubernetes, jwt or appRole (aws and gcp are accepted and refused at reconcile, naming this field).${fromGlobal}`,
        ),
        mount: described(mergeable('the auth mount'), `Auth mount; login is POST auth/<mount>/login.${fromGlobal}`),
        vaultAuthGlobalRef: vaultAuthGlobalRefSchema,
        params: described(
          z.optional(z.record(z.string(), described(text, 'Parameter value.'))),
          'Not used yet: extra login parameters, accepted so VSO manifests apply.',
        ),
        headers: described(
          z._default(
            z.record(z.string(), described(text, 'Header value.'), {
              error: 'expected a mapping of header names to text',
            }),
            {},
          ),
          "HTTP headers sent on every Vault request made with this VaultAuth, the login included (over the VaultConnection's header of the same name).",
        ),
        kubernetes: z.optional(kubernetesSchema),
        jwt: z.optional(jwtSchema),
        appRole: z.optional(appRoleSchema),
        storageEncryption: described(
          z.optional(
            z.object(
              {
                mount: described(required('the transit mount'), 'Transit secrets engine mount.'),
                keyName: described(required('the transit key name'), 'Transit key name.'),
              },
              { error: 'expected an object' },
            ),
          ),
          'Keep the Vault token across operator restarts, encrypted with this Vault transit key (the role needs update on <mount>/encrypt/<keyName> and <mount>/decrypt/<keyName>), so leases are not re-issued.',
        ),
      },
      { error: 'expected an object' },
    ),
    'How to log in to Vault.',
  ).check(
    z.superRefine((spec, context) => {
      if (spec.method === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['method'],
          message: `expected one of ${IMPLEMENTED.join(', ')}`,
          input: undefined,
        });
        return;
      }
      requireAfterMerge(context, spec.mount, ['mount'], 'the auth mount');
      if (spec.method === 'aws' || spec.method === 'gcp') {
        context.addIssue({
          code: 'custom',
          path: ['method'],
          message: `"${spec.method}" is not supported yet; "kubernetes", "jwt" and "appRole" are implemented`,
          ...given,
        });
      } else if (spec[spec.method] === undefined) {
        context.addIssue({
          code: 'custom',
          path: [spec.method],
          message: `is required with method ${spec.method}`,
          ...given,
        });
      }
    }),
  ),
  (spec) => {
    const method = spec.method as (typeof IMPLEMENTED)[number];
    return {
      ...(spec.vaultConnectionRef ? { vaultConnectionRef: spec.vaultConnectionRef } : {}),
      ...(spec.namespace ? { namespace: spec.namespace } : {}),
      allowedNamespaces: spec.allowedNamespaces,
      method,
      mount: spec.mount!,
      headers: spec.headers,
      ...(spec.storageEncryption
        ? {
            storageEncryption: {
              mount: withoutSlashes(spec.storageEncryption.mount),
              keyName: spec.storageEncryption.keyName,
            },
          }
        : {}),
      // Only the chosen method's section is kept.
      ...(method === 'kubernetes' && spec.kubernetes ? { kubernetes: spec.kubernetes } : {}),
      ...(method === 'jwt' && spec.jwt ? { jwt: spec.jwt } : {}),
      ...(method === 'appRole' && spec.appRole ? { appRole: spec.appRole } : {}),
    };
  },
);

export type VaultAuthSpec = z.output<typeof vaultAuthSpecSchema>;
export type VaultAuthKubernetes = z.output<typeof kubernetesSchema>;
/** With method jwt: a service account's token (TokenRequest), or a JWT kept in a Secret (key `jwt`). */
export type VaultAuthJwt = z.output<typeof jwtSchema>;
export type VaultAuthAppRole = z.output<typeof appRoleSchema>;

export interface VaultAuth {
  apiVersion: string;
  kind: 'VaultAuth';
  metadata: ObjectMeta;
  spec: VaultAuthSpec;
  status?: { valid?: boolean; error?: string; conditions?: Condition[] };
}

/** The CRD's `spec` and `status` schema, generated when first asked for (kind-table.ts). */
export const vaultAuthSchema = (): KindSchema => ({
  type: 'object',
  properties: {
    spec: structuralSchema(vaultAuthSpecSchema),
    status: {
      type: 'object',
      description: 'What the operator last found, written by it.',
      properties: {
        valid: { type: 'boolean', description: 'Whether the spec is usable (VSO status field).' },
        error: { type: 'string', description: 'Why the spec is not usable, when it is not.' },
        conditions: conditionsSchema,
      },
    },
  },
});

export function parseVaultAuthSpec(raw: unknown): VaultAuthSpec {
  return parseSpec(vaultAuthSpecSchema, raw);
}

/** VSO's rule: same namespace always; others only when listed (or `*`). */
export function vaultAuthAllows(
  auth: { metadata: { namespace: string }; spec: { allowedNamespaces: string[] } },
  namespace: string,
): boolean {
  return (
    auth.metadata.namespace === namespace ||
    auth.spec.allowedNamespaces.includes('*') ||
    auth.spec.allowedNamespaces.includes(namespace)
  );
}
