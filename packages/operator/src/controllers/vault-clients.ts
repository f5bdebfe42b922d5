// One Vault client per (VaultAuth, service account), shared by every secret that uses it.
import { createHash } from 'node:crypto';
import { CoreApi, CustomApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import {
  AppRoleAuth,
  JwtAuth,
  KubernetesAuth,
  TokenManagerCache,
  TokenRequestSource,
  VaultClient,
  registerSecret,
  type Logger,
  type ServiceAccountTokenSource,
  type TokenManager,
  type TokenManagerOptions,
  type VaultAuthMethod,
} from '@vaultbridge/core';
import type { StoredClient, TokenStorage } from './token-storage.ts';
import { OUR_API, parseObjectRef, SpecError, type ApiGroup, type ObjectRef } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import { parseVaultAuthSpec, vaultAuthAllows, type VaultAuthSpec } from '../api/vault-auth.ts';
import { parseVaultConnectionSpec, type VaultConnectionSpec } from '../api/vault-connection.ts';
import {
  mergeVaultAuthGlobal,
  parseVaultAuthGlobalSpec,
  vaultAuthGlobalAllows,
  vaultAuthGlobalCandidates,
  vaultAuthGlobalRefOf,
  type VaultAuthGlobalSpec,
} from '../api/vault-auth-global.ts';
import { isNotFound } from '@vaultbridge/core';
import { ReconcileError } from '../runtime/reconcile-error.ts';
import { VaultAddressNotAllowedError, VaultAddressPolicy } from '../guards/vault-address.ts';
import { ParsedSpecs } from '../runtime/parsed-specs.ts';

export interface ResolvedClient {
  manager: TokenManager;
  authRef: ObjectRef;
  connectionRef: ObjectRef;
  role: string;
  /** VSO's `status.vaultClientMeta.cacheKey` shape: `<method>-<22 hex>`, new when the VaultAuth or VaultConnection changes. */
  cacheKey: string;
}

/** The last id worked out per token manager: every reconcile asks, and the accessor changes only at a login. */
const tokenIds = new WeakMap<TokenManager, { accessor: string; id: string }>();

/** A short, non-reversible id of the token that owns the leases (VSO's vaultClientMeta.id: a hash of the accessor). */
export function tokenId(manager: TokenManager): string | undefined {
  const accessor = manager.info?.accessor;
  if (!accessor) return undefined;
  const known = tokenIds.get(manager);
  if (known?.accessor === accessor) return known.id;
  const id = createHash('sha256').update(accessor).digest('hex').slice(0, 16);
  tokenIds.set(manager, { accessor, id });
  return id;
}

/** Which token was stored under which key: a hash, never the token. */
function persistedMark(stored: StoredClient, token: string): string {
  return `${stored.cacheKey}|${createHash('sha256').update(token).digest('hex')}`;
}

type CachedKind = 'VaultAuth' | 'VaultConnection' | 'VaultAuthGlobal';

export interface KubeObject {
  metadata?: { uid?: string; generation?: number; resourceVersion?: string; name?: string; namespace?: string };
  spec?: unknown;
}

function cacheKeyInput(auth: KubeObject, connection: KubeObject, provider: string): string {
  return `${auth.metadata?.uid ?? ''}-${auth.metadata?.generation ?? 0}.${connection.metadata?.uid ?? ''}-${connection.metadata?.generation ?? 0}.${provider}`;
}

/**
 * VSO's cache key: `<method>-<hash>` over the VaultAuth and VaultConnection UIDs and generations and
 * the credential provider (VSO hashes with sha256 and keeps bytes 0-6 and the last 4, 22 hex digits).
 * The provider is the service account (or Secret) by namespace and name where VSO uses its UID, which
 * would cost an API read per client.
 */
export function clientCacheKey(method: string, auth: KubeObject, connection: KubeObject, provider: string): string {
  const input = cacheKeyInput(auth, connection, provider);
  const digest = createHash('sha256').update(input).digest();
  return `${method}-${digest.subarray(0, 7).toString('hex')}${digest.subarray(-4).toString('hex')}`.toLowerCase();
}

/** clientCacheKey, hashed again only when its input differs from the slot's last. */
function cachedClientCacheKey(
  slot: Slot,
  method: string,
  auth: KubeObject,
  connection: KubeObject,
  provider: string,
): string {
  const input = cacheKeyInput(auth, connection, provider);
  if (slot.cacheKey?.method === method && slot.cacheKey.input === input) return slot.cacheKey.key;
  const key = clientCacheKey(method, auth, connection, provider);
  slot.cacheKey = { method, input, key };
  return key;
}

interface Slot {
  identity: string;
  /** The parsed specs and CA the identity was made from: the same objects (ParsedSpecs) need no new identity. */
  madeFrom: { auth: VaultAuthSpec; connection: VaultConnectionSpec; caPem: string | undefined };
  /** The last cacheKey and what it was hashed from (a sha256 per reconcile otherwise). */
  cacheKey?: { method: string; input: string; key: string };
  client: VaultClient;
  auth: VaultAuthMethod;
  /** Set while the VaultAuth asks for its tokens to be kept (spec.storageEncryption). */
  storage?: StoredClient;
  /** `cacheKey|token hash` last stored, so a token is stored once. */
  persisted?: string;
}

/**
 * Sockets to one Vault at once. Without a bound the keep-alive pool holds one socket per reconcile in
 * flight (100 by default), each with its buffers and TLS state for as long as it is pooled; 32 keeps the
 * sync time at 1,000 objects (README, "Memory (issue 14)").
 */
export const VAULT_MAX_SOCKETS = 32;

function connectionClient(
  connectionRef: ObjectRef,
  connection: VaultConnectionSpec,
  caPem: string | undefined,
  vaultNamespace: string | undefined,
  authHeaders: Record<string, string> = {},
): VaultClient {
  return new VaultClient({
    address: connection.address,
    ...(vaultNamespace ? { namespace: vaultNamespace } : {}),
    // VSO sends a VaultAuth's headers on all of its client's requests, the login included; the more
    // specific VaultAuth wins over its VaultConnection for a header both set.
    headers: { ...connection.headers, ...authHeaders },
    tls: {
      skipVerify: connection.skipTLSVerify,
      ...(caPem ? { caPem } : {}),
      ...(connection.tlsServerName ? { tlsServerName: connection.tlsServerName } : {}),
    },
    settingNames: { address: `VaultConnection ${connectionRef.namespace}/${connectionRef.name} spec.address` },
    maxSockets: VAULT_MAX_SOCKETS,
  });
}

export class VaultClientFactory {
  private readonly operatorNamespace: string;
  private readonly custom: CustomApi;
  private readonly core: CoreApi;
  private readonly tokens = new TokenManagerCache();
  /** Keyed by VaultAuth and service-account namespace; replaced when the configuration behind it changes. */
  private readonly slots = new Map<string, Slot>();
  private readonly addressPolicy: VaultAddressPolicy;
  private readonly apiAudiences: () => Promise<ReadonlySet<string>>;

  private readonly storage: TokenStorage | undefined;
  private readonly logger: Logger | undefined;

  /** Informer-backed lookups by `namespace/name`; a miss falls back to the API server. */
  private readonly api: ApiGroup;
  private readonly cached: Partial<Record<CachedKind, (key: string) => KubeObject | undefined>>;
  /** Parsed once per version of each object (not per reconcile); see runtime/parsed-specs.ts. */
  private readonly authSpecs = new ParsedSpecs<VaultAuthSpec>();
  private readonly connectionSpecs = new ParsedSpecs<VaultConnectionSpec>();
  private readonly globalSpecs = new ParsedSpecs<VaultAuthGlobalSpec>();

  constructor(options: {
    kube: KubeJson;
    operatorNamespace: string;
    logger?: Logger;
    storage?: TokenStorage;
    cached?: Partial<Record<CachedKind, (key: string) => KubeObject | undefined>>;
    /** Where VaultConnections may point; default anywhere. */
    addressPolicy?: VaultAddressPolicy;
    /** The API server's own audiences, refused in VaultAuth token audiences; default none. */
    apiAudiences?: () => Promise<ReadonlySet<string>>;
    /** The API group VaultAuths and VaultConnections are read from; ours when absent. */
    api?: ApiGroup;
  }) {
    this.api = options.api ?? OUR_API;
    this.cached = options.cached ?? {};
    this.storage = options.storage;
    this.logger = options.logger;
    this.operatorNamespace = options.operatorNamespace;
    this.addressPolicy = options.addressPolicy ?? new VaultAddressPolicy([]);
    this.apiAudiences = options.apiAudiences ?? (() => Promise.resolve(new Set<string>()));
    this.custom = new CustomApi(options.kube);
    this.core = new CoreApi(options.kube);
  }

  /** Resolves `vaultAuthRef` (as written in the secret's spec) for a secret in `namespace`. */
  async get(vaultAuthRef: string | undefined, namespace: string): Promise<ResolvedClient> {
    const authRef = parseObjectRef(vaultAuthRef, 'spec.vaultAuthRef', namespace, this.operatorNamespace);
    const authObject = await this.getObject(
      'VaultAuth',
      authRef,
      'VaultAuthNotFound',
      `spec.vaultAuthRef: VaultAuth ${authRef.namespace}/${authRef.name} not found`,
    );
    let auth: VaultAuthSpec;
    const global = await this.vaultAuthGlobal(authObject, authRef);
    try {
      // With a VaultAuthGlobal, the merge is part of what is kept, under that global's version.
      auth = global
        ? this.authSpecs.get(
            authObject,
            () => parseVaultAuthSpec(global.merged()),
            `${global.object.metadata?.uid ?? ''}/${global.object.metadata?.resourceVersion ?? ''}`,
          )
        : this.authSpecs.get(authObject, () => parseVaultAuthSpec(authObject.spec));
    } catch (error) {
      if (error instanceof SpecError)
        throw new ReconcileError(
          'InvalidVaultAuth',
          `VaultAuth ${authRef.namespace}/${authRef.name}: ${error.message}`,
        );
      throw error;
    }
    if (!vaultAuthAllows({ metadata: { namespace: authRef.namespace }, spec: auth }, namespace)) {
      throw new ReconcileError(
        'VaultAuthNotAllowed',
        `spec.vaultAuthRef: VaultAuth ${authRef.namespace}/${authRef.name} does not list namespace ${namespace} in spec.allowedNamespaces`,
      );
    }
    await this.refuseApiAudiences(auth, authRef);
    const connectionRef = parseObjectRef(
      auth.vaultConnectionRef,
      'spec.vaultConnectionRef',
      authRef.namespace,
      this.operatorNamespace,
    );
    const {
      connection,
      caPem,
      object: connectionObject,
    } = await this.resolveConnection(
      connectionRef,
      `VaultAuth ${authRef.namespace}/${authRef.name} spec.vaultConnectionRef: `,
    );

    const slotKey = `${authRef.namespace}/${authRef.name}|${namespace}`;
    let slot = this.slots.get(slotKey);
    // The same parsed specs (ParsedSpecs hands out one object per version) and CA: the same client,
    // without writing out its identity again.
    if (
      slot === undefined ||
      slot.madeFrom.auth !== auth ||
      slot.madeFrom.connection !== connection ||
      slot.madeFrom.caPem !== caPem
    )
      slot = await this.slotFor(slotKey, slot, { auth, connection, caPem }, authRef, connectionRef, namespace);
    // Messages name the Vault role whose policies matter (an AppRole's role_id is left out of them).
    const role = auth.kubernetes?.role ?? auth.jwt?.role ?? `AppRole at auth/${auth.mount}`;
    // A VaultAuthGlobal's version is part of the key: a changed global is a new client (and stored token).
    const provider = `${namespace}/${auth.kubernetes?.serviceAccount ?? auth.jwt?.serviceAccount ?? auth.jwt?.secretRef ?? auth.appRole?.secretRef ?? ''}${global ? `|${global.object.metadata?.uid ?? ''}-${global.object.metadata?.generation ?? 0}` : ''}`;
    const cacheKey = cachedClientCacheKey(slot, auth.method, authObject, connectionObject, provider);
    // Read at each use, so turning storageEncryption on or off needs no new client (and no new token).
    slot.storage =
      auth.storageEncryption && this.storage
        ? { slotKey, authKey: `${authRef.namespace}/${authRef.name}`, cacheKey, encryption: auth.storageEncryption }
        : undefined;
    const manager = this.tokens.get({ client: slot.client, auth: slot.auth, ...this.storageHooks(slot) });
    // Turned on after the login (or the key changed): store the token in use now.
    if (slot.storage && manager.info) {
      const current = slot;
      void manager.token().then(
        (token) => this.persistToken(current, token),
        () => undefined,
      );
    }
    return { manager, authRef, connectionRef, role, cacheKey };
  }

  /** The slot's client while its identity is the same, else a new client (the old one's renewals stop). */
  private async slotFor(
    slotKey: string,
    slot: Slot | undefined,
    madeFrom: Slot['madeFrom'],
    authRef: ObjectRef,
    connectionRef: ObjectRef,
    namespace: string,
  ): Promise<Slot> {
    const { auth, connection, caPem } = madeFrom;
    // Exactly what makes two clients the same: the connection as configured, the login, the account.
    const identity = JSON.stringify([
      connection,
      caPem ?? '',
      auth.namespace ?? '',
      auth.headers,
      auth.mount,
      auth.kubernetes ?? auth.jwt ?? auth.appRole,
      namespace,
    ]);
    if (slot && slot.identity === identity) {
      slot.madeFrom = madeFrom;
      return slot;
    }
    if (slot) await this.tokens.delete(slot.client, slot.auth);
    const client = connectionClient(connectionRef, connection, caPem, auth.namespace, auth.headers);
    const made: Slot = { identity, madeFrom, client, auth: this.loginMethod(auth, authRef, namespace) };
    this.slots.set(slotKey, made);
    return made;
  }

  /**
   * The VaultAuthGlobal the VaultAuth names, checked, with the merge of the two (VSO's
   * MergeInVaultAuthGlobal) to run when the merged spec is not parsed already, or undefined when it
   * names none. Errors name the VaultAuth, the global and the field; the merge's own are SpecErrors,
   * which the caller reports as InvalidVaultAuth naming the VaultAuth, as here.
   */
  private async vaultAuthGlobal(
    authObject: KubeObject,
    authRef: ObjectRef,
  ): Promise<{ merged: () => Record<string, unknown>; object: KubeObject } | undefined> {
    const where = `VaultAuth ${authRef.namespace}/${authRef.name}`;
    try {
      const ref = vaultAuthGlobalRefOf(authObject.spec);
      if (ref === undefined) return undefined;
      const candidates = vaultAuthGlobalCandidates(ref, authRef.namespace, this.operatorNamespace);
      let found: { ref: ObjectRef; object: KubeObject } | undefined;
      for (const candidate of candidates) {
        const object = await this.findObject('VaultAuthGlobal', candidate);
        if (object) {
          found = { ref: candidate, object };
          break;
        }
      }
      if (!found)
        throw new ReconcileError(
          'VaultAuthGlobalNotFound',
          `${where} spec.vaultAuthGlobalRef: VaultAuthGlobal ${candidates.map((c) => `${c.namespace}/${c.name}`).join(' or ')} not found`,
        );
      const globalName = `${found.ref.namespace}/${found.ref.name}`;
      let spec: VaultAuthGlobalSpec;
      try {
        const globalObject = found.object;
        spec = this.globalSpecs.get(globalObject, () => parseVaultAuthGlobalSpec(globalObject.spec));
      } catch (error) {
        if (error instanceof SpecError)
          throw new ReconcileError(
            'InvalidVaultAuthGlobal',
            `${where}: VaultAuthGlobal ${globalName}: ${error.message}`,
          );
        throw error;
      }
      if (!vaultAuthGlobalAllows(found.ref, spec, authRef.namespace, this.operatorNamespace))
        throw new ReconcileError(
          'VaultAuthGlobalNotAllowed',
          `${where} spec.vaultAuthGlobalRef: VaultAuthGlobal ${globalName} does not list namespace ${authRef.namespace} in spec.allowedNamespaces`,
        );
      const raw = (typeof authObject.spec === 'object' && authObject.spec !== null ? authObject.spec : {}) as Record<
        string,
        unknown
      >;
      return { merged: () => mergeVaultAuthGlobal(raw, spec, globalName), object: found.object };
    } catch (error) {
      if (error instanceof SpecError) throw new ReconcileError('InvalidVaultAuth', `${where}: ${error.message}`);
      throw error;
    }
  }

  /** restoreToken/persistToken for the slot's token manager; they do nothing while the slot has no storage. */
  private storageHooks(slot: Slot): Pick<TokenManagerOptions, 'restoreToken' | 'persistToken'> {
    const storage = this.storage;
    if (!storage) return {};
    return {
      restoreToken: async () => {
        const stored = slot.storage;
        if (!stored) return undefined;
        try {
          const token = await storage.restore(stored, slot.client, slot.auth);
          if (token !== undefined) slot.persisted = persistedMark(stored, token);
          return token;
        } catch (error) {
          this.logger?.warn(
            { err: error, client: stored.slotKey },
            'could not restore the stored Vault token; logging in anew (leases of the old token are re-issued)',
          );
          return undefined;
        }
      },
      persistToken: (token) => this.persistToken(slot, token),
    };
  }

  private async persistToken(slot: Slot, token: string): Promise<void> {
    const stored = slot.storage;
    if (!stored || !this.storage) return;
    const mark = persistedMark(stored, token);
    if (slot.persisted === mark) return;
    slot.persisted = mark;
    try {
      await this.storage.persist(stored, slot.client, token);
    } catch (error) {
      slot.persisted = undefined;
      this.logger?.warn(
        { err: error, client: stored.slotKey },
        `could not store the Vault token (encrypt with transit ${stored.encryption.mount}/${stored.encryption.keyName}, write Secret ${this.storage.secretName(stored.cacheKey)}); a restart will log in anew`,
      );
    }
  }

  /** A token minted for the API server's own audience is never sent to Vault (or wherever the connection points). */
  private async refuseApiAudiences(auth: VaultAuthSpec, authRef: ObjectRef): Promise<void> {
    const [field, minted] = auth.kubernetes
      ? ['spec.kubernetes.audiences', auth.kubernetes]
      : auth.jwt?.serviceAccount !== undefined
        ? ['spec.jwt.audiences', auth.jwt]
        : [undefined, undefined];
    if (!field || !minted) return;
    const apiAudiences = await this.apiAudiences();
    const refused = minted.audiences.find((audience) => apiAudiences.has(audience));
    if (refused === undefined) return;
    throw new ReconcileError(
      'InvalidVaultAuth',
      `VaultAuth ${authRef.namespace}/${authRef.name} ${field}: "${refused}" is an audience of the Kubernetes API server; a token for it would let the Vault address act as the service account against the API server, so it is never minted for Vault. Use an audience of its own (the default is "vault") and set it as the Vault role's audience`,
    );
  }

  /** How the VaultAuth logs in, for secrets in `namespace`. */
  private loginMethod(auth: VaultAuthSpec, authRef: ObjectRef, namespace: string): VaultAuthMethod {
    if (auth.jwt) {
      const { role, serviceAccount, secretRef, audiences, tokenExpirationSeconds } = auth.jwt;
      const tokenSource: ServiceAccountTokenSource =
        serviceAccount !== undefined
          ? new TokenRequestSource({
              api: this.core,
              namespace,
              serviceAccount,
              audiences,
              expirationSeconds: tokenExpirationSeconds,
            })
          : {
              identity: `Secret ${authRef.namespace}/${secretRef} (key jwt)`,
              // Read on every login: a refreshed token is used without a restart.
              token: () => this.secretValue(authRef, secretRef!, 'jwt', 'spec.jwt.secretRef', 'JwtSecret'),
            };
      return new JwtAuth({ role, mount: auth.mount, tokenSource });
    }
    if (auth.appRole) {
      const { roleId, secretRef } = auth.appRole;
      const where = `Secret ${authRef.namespace}/${secretRef} (key id)`;
      return new AppRoleAuth({
        roleId,
        mount: auth.mount,
        secretIdSource: where,
        // Read on every login: a rotated secret_id is used without a restart.
        secretId: () => this.secretValue(authRef, secretRef, 'id', 'spec.appRole.secretRef', 'AppRoleSecret'),
      });
    }
    const kubernetes = auth.kubernetes!;
    return new KubernetesAuth({
      role: kubernetes.role,
      mount: auth.mount,
      tokenSource: new TokenRequestSource({
        api: this.core,
        namespace,
        serviceAccount: kubernetes.serviceAccount,
        audiences: kubernetes.audiences,
        expirationSeconds: kubernetes.tokenExpirationSeconds,
      }),
    });
  }

  /** A credential kept in a Secret of the VaultAuth's namespace, read fresh and registered for redaction. */
  private async secretValue(
    authRef: ObjectRef,
    secretName: string,
    key: string,
    field: string,
    reasonPrefix: string,
  ): Promise<string> {
    const where = `Secret ${authRef.namespace}/${secretName} (key ${key})`;
    let secret;
    try {
      secret = await this.core.readNamespacedSecret({ namespace: authRef.namespace, name: secretName });
    } catch (error) {
      if (isNotFound(error))
        throw new ReconcileError(
          `${reasonPrefix}NotFound`,
          `VaultAuth ${authRef.namespace}/${authRef.name} ${field}: ${where} not found`,
        );
      throw error;
    }
    const encoded = secret.data?.[key];
    if (!encoded)
      throw new ReconcileError(
        `${reasonPrefix}Invalid`,
        `VaultAuth ${authRef.namespace}/${authRef.name} ${field}: ${where} has no key "${key}"`,
      );
    const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
    registerSecret(value);
    return value;
  }

  /** The VaultConnection `ref` as a client (no token), for health checks; its errors name the object and field. */
  async connectionClient(ref: ObjectRef): Promise<VaultClient> {
    const { connection, caPem } = await this.resolveConnection(ref, '');
    return connectionClient(ref, connection, caPem, undefined);
  }

  private async resolveConnection(
    connectionRef: ObjectRef,
    context: string,
  ): Promise<{ connection: VaultConnectionSpec; caPem: string | undefined; object: KubeObject }> {
    const connectionObject = await this.getObject(
      'VaultConnection',
      connectionRef,
      'VaultConnectionNotFound',
      `${context}VaultConnection ${connectionRef.namespace}/${connectionRef.name} not found`,
    );
    let connection: VaultConnectionSpec;
    try {
      connection = this.connectionSpecs.get(connectionObject, () => parseVaultConnectionSpec(connectionObject.spec));
      // Before anything is sent there: the address must be one the cluster admin allowed.
      this.addressPolicy.check(
        connection.address,
        `VaultConnection ${connectionRef.namespace}/${connectionRef.name} spec.address`,
      );
    } catch (error) {
      if (error instanceof SpecError)
        throw new ReconcileError(
          'InvalidVaultConnection',
          `VaultConnection ${connectionRef.namespace}/${connectionRef.name}: ${error.message}`,
        );
      if (error instanceof VaultAddressNotAllowedError)
        throw new ReconcileError('VaultAddressNotAllowed', `${context}${error.message}`);
      throw error;
    }
    const caPem = connection.caCertSecretRef ? await this.readCa(connectionRef, connection.caCertSecretRef) : undefined;
    return { connection, caPem, object: connectionObject };
  }

  /** A deleted VaultAuth: its clients stop renewing (their tokens are not revoked), and its stored tokens go. */
  async forgetVaultAuth(authKey: string): Promise<void> {
    for (const [slotKey, slot] of this.slots) {
      if (!slotKey.startsWith(`${authKey}|`)) continue;
      this.slots.delete(slotKey);
      await this.tokens.delete(slot.client, slot.auth);
    }
    await this.storage?.forgetVaultAuth(authKey);
  }

  async stop(): Promise<void> {
    await this.tokens.stopAll({ revoke: false });
    this.slots.clear();
  }

  /** The object, or undefined when it does not exist. */
  private async findObject(kind: CachedKind, ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return await this.getObject(kind, ref, 'NotFound', '');
    } catch (error) {
      if (error instanceof ReconcileError && error.reason === 'NotFound') return undefined;
      throw error;
    }
  }

  private async getObject(kind: CachedKind, ref: ObjectRef, reason: string, message: string): Promise<KubeObject> {
    const cached = this.cached[kind]?.(`${ref.namespace}/${ref.name}`);
    if (cached) return cached;
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: this.api.group,
        version: this.api.version,
        namespace: ref.namespace,
        plural: kinds[kind].plural,
        name: ref.name,
      })) as KubeObject;
    } catch (error) {
      if (isNotFound(error)) throw new ReconcileError(reason, message);
      throw error;
    }
  }

  private async readCa(ref: ObjectRef, secretName: string): Promise<string> {
    const where = `VaultConnection ${ref.namespace}/${ref.name} spec.caCertSecretRef`;
    try {
      const secret = await this.core.readNamespacedSecret({ name: secretName, namespace: ref.namespace });
      const encoded = secret.data?.['ca.crt'];
      if (!encoded)
        throw new ReconcileError(
          'InvalidVaultConnection',
          `${where}: Secret ${ref.namespace}/${secretName} has no key ca.crt`,
        );
      return Buffer.from(encoded, 'base64').toString('utf8');
    } catch (error) {
      if (isNotFound(error))
        throw new ReconcileError('InvalidVaultConnection', `${where}: Secret ${ref.namespace}/${secretName} not found`);
      throw error;
    }
  }
}
