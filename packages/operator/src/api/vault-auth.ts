import { asInteger, asObject, asString, asStringList, asStringMap, conditionsSchema, SpecError, stringMapSchema, type Condition, type ObjectMeta } from './common.ts';

export interface VaultAuthKubernetes {
  role: string;
  serviceAccount: string;
  audiences: string[];
  tokenExpirationSeconds: number;
}

/** With method jwt: a service account's token (TokenRequest), or a JWT kept in a Secret (key `jwt`). */
export interface VaultAuthJwt {
  role: string;
  serviceAccount?: string;
  secretRef?: string;
  audiences: string[];
  tokenExpirationSeconds: number;
}

export interface VaultAuthAppRole {
  roleId: string;
  /** Secret in the VaultAuth's namespace whose key `id` holds the secret_id (read on every login). */
  secretRef: string;
}

export interface VaultAuthSpec {
  /** `name` or `namespace/name`; empty is `default` in the operator's namespace. */
  vaultConnectionRef?: string;
  /** Vault namespace to log in to. */
  namespace?: string;
  /** Namespaces whose secrets may use this VaultAuth besides its own; `*` is all. */
  allowedNamespaces: string[];
  method: 'kubernetes' | 'jwt' | 'appRole';
  mount: string;
  headers: Record<string, string>;
  /** With method kubernetes. */
  kubernetes?: VaultAuthKubernetes;
  /** With method appRole. */
  appRole?: VaultAuthAppRole;
  /** With method jwt. */
  jwt?: VaultAuthJwt;
  /** Keep this VaultAuth's Vault tokens across operator restarts, encrypted with this transit key. */
  storageEncryption?: { mount: string; keyName: string };
}

export interface VaultAuth {
  apiVersion: string;
  kind: 'VaultAuth';
  metadata: ObjectMeta;
  spec: VaultAuthSpec;
  status?: { valid?: boolean; error?: string; conditions?: Condition[] };
}

export const vaultAuthSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['method', 'mount'],
      properties: {
        vaultConnectionRef: { type: 'string', description: 'VaultConnection as name or namespace/name; empty: default in the operator namespace.' },
        namespace: { type: 'string', description: 'Vault namespace to authenticate in.' },
        allowedNamespaces: { type: 'array', items: { type: 'string' }, description: 'Namespaces allowed to use this VaultAuth besides its own; "*" for all.' },
        // kubernetes and appRole are implemented; the other VSO methods are accepted by name so a
        // manifest validates, and fail at reconcile time with a message naming spec.method.
        method: { type: 'string', enum: ['kubernetes', 'jwt', 'appRole', 'aws', 'gcp'] },
        mount: { type: 'string', minLength: 1, description: 'Auth mount; login is POST auth/<mount>/login.' },
        params: stringMapSchema,
        headers: { ...stringMapSchema, description: 'Headers sent on the login request.' },
        kubernetes: {
          type: 'object',
          required: ['role', 'serviceAccount'],
          properties: {
            role: { type: 'string', minLength: 1 },
            serviceAccount: { type: 'string', minLength: 1, description: 'Service account, in the namespace of the secret object, whose token logs in.' },
            audiences: { type: 'array', items: { type: 'string' }, description: 'Audiences of the minted token; ["vault"] when empty. The API server\'s own audiences are refused. Set the same audience on the Vault role.' },
            tokenExpirationSeconds: { type: 'integer', format: 'int64', minimum: 600, default: 600 },
          },
        },
        jwt: {
          type: 'object',
          required: ['role'],
          properties: {
            role: { type: 'string', minLength: 1 },
            serviceAccount: { type: 'string', description: 'Service account, in the namespace of the secret object, whose token logs in.' },
            secretRef: { type: 'string', description: 'Secret in the VaultAuth namespace whose key `jwt` is the token (instead of serviceAccount).' },
            audiences: { type: 'array', items: { type: 'string' }, description: 'Audiences of the minted token; ["vault"] when empty. The API server\'s own audiences are refused. Set the same audience on the Vault role.' },
            tokenExpirationSeconds: { type: 'integer', format: 'int64', minimum: 600, default: 600 },
          },
        },
        storageEncryption: {
          type: 'object',
          required: ['mount', 'keyName'],
          description: 'Keep the Vault token across operator restarts, encrypted with this Vault transit key (the role needs update on <mount>/encrypt/<keyName> and <mount>/decrypt/<keyName>), so leases are not re-issued.',
          properties: {
            mount: { type: 'string', minLength: 1, description: 'Transit secrets engine mount.' },
            keyName: { type: 'string', minLength: 1, description: 'Transit key name.' },
          },
        },
        appRole: {
          type: 'object',
          required: ['roleId'],
          properties: {
            roleId: { type: 'string', minLength: 1 },
            secretRef: { type: 'string', description: 'Secret in this namespace whose key `id` is the secret_id.' },
            secretIDPath: { type: 'string', description: 'Not supported (a file in the operator pod); use secretRef.' },
          },
        },
      },
    },
    status: { type: 'object', properties: { valid: { type: 'boolean' }, error: { type: 'string' }, conditions: conditionsSchema } },
  },
};

export function parseVaultAuthSpec(raw: unknown): VaultAuthSpec {
  const spec = asObject(raw, 'spec', true)!;
  const method = asString(spec.method, 'spec.method', true);
  if (method !== 'kubernetes' && method !== 'jwt' && method !== 'appRole') throw new SpecError('spec.method', `"${method}" is not supported yet; "kubernetes", "jwt" and "appRole" are implemented`);
  const mount = asString(spec.mount, 'spec.mount', true)!;
  const vaultConnectionRef = asString(spec.vaultConnectionRef, 'spec.vaultConnectionRef');
  const namespace = asString(spec.namespace, 'spec.namespace');
  return {
    ...(vaultConnectionRef ? { vaultConnectionRef } : {}),
    ...(namespace ? { namespace } : {}),
    allowedNamespaces: asStringList(spec.allowedNamespaces, 'spec.allowedNamespaces'),
    method,
    mount,
    headers: asStringMap(spec.headers, 'spec.headers'),
    ...parseStorageEncryption(spec.storageEncryption),
    ...(method === 'kubernetes' ? { kubernetes: parseKubernetes(spec.kubernetes) } : method === 'jwt' ? { jwt: parseJwt(spec.jwt) } : { appRole: parseAppRole(spec.appRole) }),
  };
}

function parseStorageEncryption(raw: unknown): { storageEncryption?: { mount: string; keyName: string } } {
  const encryption = asObject(raw, 'spec.storageEncryption');
  if (encryption === undefined) return {};
  return {
    storageEncryption: {
      mount: asString(encryption.mount, 'spec.storageEncryption.mount', true)!.replace(/^\/+|\/+$/g, ''),
      keyName: asString(encryption.keyName, 'spec.storageEncryption.keyName', true)!,
    },
  };
}

function parseKubernetes(raw: unknown): VaultAuthKubernetes {
  const kubernetes = asObject(raw, 'spec.kubernetes', true)!;
  return {
    role: asString(kubernetes.role, 'spec.kubernetes.role', true)!,
    serviceAccount: asString(kubernetes.serviceAccount, 'spec.kubernetes.serviceAccount', true)!,
    audiences: audiencesOrDefault(kubernetes.audiences, 'spec.kubernetes.audiences'),
    tokenExpirationSeconds: asInteger(kubernetes.tokenExpirationSeconds, 'spec.kubernetes.tokenExpirationSeconds', 600) ?? 600,
  };
}

function parseJwt(raw: unknown): VaultAuthJwt {
  const jwt = asObject(raw, 'spec.jwt', true)!;
  const serviceAccount = asString(jwt.serviceAccount, 'spec.jwt.serviceAccount');
  const secretRef = asString(jwt.secretRef, 'spec.jwt.secretRef');
  if ((serviceAccount === undefined) === (secretRef === undefined)) {
    throw new SpecError('spec.jwt', 'needs exactly one of serviceAccount (a token from TokenRequest) and secretRef (a Secret with key jwt)');
  }
  return {
    role: asString(jwt.role, 'spec.jwt.role', true)!,
    ...(serviceAccount ? { serviceAccount } : {}),
    ...(secretRef ? { secretRef } : {}),
    audiences: audiencesOrDefault(jwt.audiences, 'spec.jwt.audiences'),
    tokenExpirationSeconds: asInteger(jwt.tokenExpirationSeconds, 'spec.jwt.tokenExpirationSeconds', 600) ?? 600,
  };
}

/**
 * The audiences of the service-account tokens minted for Vault; `["vault"]` when none are given (VSO
 * leaves them empty, which mints a token for the API server's own audience: Vault, or whoever the
 * VaultConnection points at, could then use it against the API server as that service account).
 */
export const DEFAULT_TOKEN_AUDIENCES = ['vault'];

function audiencesOrDefault(raw: unknown, field: string): string[] {
  const audiences = asStringList(raw, field);
  if (audiences.some((audience) => audience.trim() === '')) throw new SpecError(field, 'an audience is empty');
  return audiences.length > 0 ? audiences : [...DEFAULT_TOKEN_AUDIENCES];
}

function parseAppRole(raw: unknown): VaultAuthAppRole {
  const appRole = asObject(raw, 'spec.appRole', true)!;
  const roleId = asString(appRole.roleId, 'spec.appRole.roleId', true)!;
  if (asString(appRole.secretIDPath, 'spec.appRole.secretIDPath') !== undefined) {
    throw new SpecError('spec.appRole.secretIDPath', 'is not supported (it names a file in the operator pod); put the secret_id in a Secret and name it in spec.appRole.secretRef');
  }
  const secretRef = asString(appRole.secretRef, 'spec.appRole.secretRef', true)!;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(secretRef)) throw new SpecError('spec.appRole.secretRef', `"${secretRef}" is not a Secret name`);
  return { roleId, secretRef };
}

/** VSO's rule: same namespace always; others only when listed (or `*`). */
export function vaultAuthAllows(auth: { metadata: { namespace: string }; spec: { allowedNamespaces: string[] } }, namespace: string): boolean {
  return auth.metadata.namespace === namespace || auth.spec.allowedNamespaces.includes('*') || auth.spec.allowedNamespaces.includes(namespace);
}
