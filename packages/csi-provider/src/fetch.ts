// Vault reads with the pod's identity. Every pod proves its own service-account JWT with a Vault login
// before it gets a secret (coalesced: concurrent mounts of one pod share it), and that pod's token is
// kept for its rotation polls until it nears expiry; requests are coalesced per (namespace, path,
// method, query, args) within a mount; objects are fetched in parallel with a small bound.
import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  KubernetesAuth,
  ServiceAccountTokenError,
  StaticTokenSource,
  KubeHttp,
  TokenRequestSource,
  VaultAuthError,
  VaultClient,
  VaultConfigError,
  VaultError,
  VaultNotFoundError,
  VaultPermissionError,
  VaultUnavailableError,
  lookupSelfToken,
  registerSecret,
  renewLease,
  vaultHealth,
  type Logger,
  type ServiceAccountTokenSource,
  type VaultResponse,
} from '@vaultbridge/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { defaultTokenAudience, type MountConfig, type SecretObject } from './config.ts';
import { goJson } from './encode.ts';
import { ObjectFetchError, withoutVaultText } from './errors.ts';
import { sameVaultAddress } from './vault-address.ts';

export interface FetcherOptions {
  logger: Logger;
  /**
   * The API server, for a TokenRequest when the driver sends no token for the audience: one client (one
   * keep-alive pool) for every such mount; the caller closes it. None (and no `kubeConfig`) ⇒ such mounts
   * fail with a hint.
   */
  kube?: KubeHttp;
  /** Instead of `kube`: a KubeConfig the caller loaded (its current context, over a KubeHttp made here). */
  kubeConfig?: KubeConfig;
  /** Pod tokens (and leased answers) kept; least recently used beyond it are dropped. Default 1000. */
  cacheSize?: number;
  /** Objects of one mount read at once. Default 4. */
  concurrency?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Vault addresses the admin allows besides the default one (`--allowed-vault-addresses`). The
   * provider's own TokenRequest goes only to these and to `defaultVaultAddress`.
   */
  allowedVaultAddresses?: readonly string[];
  /** The provider's default address (`--vault-addr` / VAULT_ADDR). */
  defaultVaultAddress?: string;
  /** Told of each Vault login and each Vault read (for metrics). */
  onLogin?: () => void;
  /** `cached`: a leased answer reused for the same pod volume, no Vault request; `renewed`: its lease renewed instead of a new read. */
  onRead?: (result: 'ok' | 'error' | 'cached' | 'renewed') => void;
  /** Clock, for tests. */
  now?: () => number;
}

interface PodToken {
  token: string;
  /** The token is handed out until then: a margin before its expiry (Infinity without TTL). */
  useUntil: number;
}

/** The fallback TokenRequest's lifetime: the API's minimum; it serves one login right away. */
const tokenRequestSeconds = 600;

/** Runs `work` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The policy capability a method needs (Vault: GET → read, LIST → list, POST/PUT/PATCH → update/create/patch, DELETE → delete). */
function capabilityFor(method: SecretObject['method']): string {
  return { GET: 'read', LIST: 'list', POST: 'update', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method];
}

/** Same request ⇒ same key: two objects naming it share one Vault read (and so one dynamic credential). */
export function requestKey(namespace: string | undefined, object: SecretObject): string {
  const query = Object.keys(object.query)
    .sort()
    .map((key) => [key, object.query[key]]);
  return JSON.stringify([namespace ?? '', object.method, object.path, query, goJson(object.secretArgs ?? null)]);
}

function grpcStatusOf(error: unknown): { code: status; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof VaultAuthError) return { code: status.PERMISSION_DENIED, message };
  if (error instanceof VaultPermissionError) return { code: status.PERMISSION_DENIED, message };
  if (error instanceof VaultNotFoundError) return { code: status.NOT_FOUND, message };
  if (error instanceof VaultUnavailableError) return { code: status.UNAVAILABLE, message };
  if (error instanceof VaultConfigError) return { code: status.FAILED_PRECONDITION, message };
  if (error instanceof ServiceAccountTokenError) return { code: status.FAILED_PRECONDITION, message };
  if (error instanceof VaultError) return { code: status.INTERNAL, message };
  return { code: status.INTERNAL, message };
}

interface LeasedAnswer {
  response: VaultResponse<unknown>;
  /** Reuse without asking Vault until then (two thirds of the lease). */
  reuseUntil: number;
  /** The lease ends then; it cannot be renewed after. */
  expiresAt: number;
}

/** Reuse a lease for two thirds of its duration, as the agent and the operator renew at. */
const REUSE_FRACTION = 2 / 3;

function leasedAnswer(response: VaultResponse<unknown>, durationSeconds: number, now: number): LeasedAnswer {
  return {
    response: { ...response, lease_duration: durationSeconds },
    reuseUntil: now + durationSeconds * 1000 * REUSE_FRACTION,
    expiresAt: now + durationSeconds * 1000,
  };
}

export class VaultFetcher {
  private readonly options: FetcherOptions;
  private readonly connections: LRUCache<string, VaultClient>;
  /** One Vault token per pod (and identity): the pod's own login, reused by its rotation polls. */
  private readonly podTokens: LRUCache<string, PodToken>;
  private readonly loginsInFlight = new Map<string, Promise<PodToken>>();
  private readonly checksInFlight = new Map<string, Promise<boolean>>();
  /**
   * Leased answers (database credentials, certificates…) per pod volume and request, reused until
   * two thirds of the lease: the driver's rotation polls then do not mint new credentials every
   * time. Past that point a renewable lease is renewed (same credentials, same files) while Vault
   * grants the full increment; only a lease cut short by its max TTL, or one that cannot be renewed,
   * is read again. Answers without a lease (KV) are never cached, so rotation sees every change.
   */
  private readonly leased: LRUCache<string, LeasedAnswer>;
  /**
   * Reads in flight per pod volume (the lease key), shared by concurrent polls of that volume: the
   * driver's NodePublish, its retry after a deadline and a rotation poll can overlap, and each would
   * otherwise mint its own database credential before any of them is cached.
   */
  private readonly volumeReads = new Map<string, Promise<VaultResponse<unknown> | null>>();
  /** The TokenRequest fallback's client; `ownKube` when made here from `kubeConfig` (closed by stop()). */
  private readonly kube: KubeHttp | undefined;
  private readonly ownKube: boolean;

  constructor(options: FetcherOptions) {
    this.options = options;
    this.ownKube = !options.kube && options.kubeConfig !== undefined;
    this.kube = options.kube ?? (options.kubeConfig ? KubeHttp.fromKubeConfig(options.kubeConfig) : undefined);
    const max = Math.max(1, options.cacheSize ?? 1000);
    this.connections = new LRUCache<string, VaultClient>({ max: Math.max(1, Math.ceil(max / 10)) });
    this.podTokens = new LRUCache<string, PodToken>({ max });
    this.leased = new LRUCache({ max });
  }

  private connection(config: MountConfig): VaultClient {
    const { connection: settings } = config;
    const key = JSON.stringify([settings.address ?? '', settings.namespace ?? '', settings.tls]);
    let client = this.connections.get(key);
    if (!client) {
      client = VaultClient.fromEnv(
        { address: settings.address, namespace: settings.namespace, tls: settings.tls, settingNames: settings.sources },
        this.options.env ?? process.env,
      );
      this.connections.set(key, client);
    }
    return client;
  }

  /**
   * Whose token this is: the connection, auth mount, role, service account, audience and the pod.
   * The pod is its uid (the kubelet's), else the hash of the JWT it brought: a pod never rides on
   * another pod's login.
   */
  private podIdentity(config: MountConfig, client: VaultClient): string {
    const { pod } = config;
    const podKey =
      pod.uid !== ''
        ? `uid=${pod.uid}`
        : config.serviceAccountToken
          ? `jwt=${createHash('sha256').update(config.serviceAccountToken.token).digest('base64url')}`
          : `name=${pod.name}`;
    const audience = config.audience ?? defaultTokenAudience;
    return JSON.stringify([
      client.address,
      config.connection.namespace ?? '',
      config.authMount,
      config.roleName,
      `${pod.namespace}/${pod.serviceAccountName}`,
      audience,
      podKey,
    ]);
  }

  /** The JWT this mount logs in with: the kubelet's for the audience, else a TokenRequest bound to the pod. */
  private jwtSource(config: MountConfig, client: VaultClient): ServiceAccountTokenSource {
    const { pod } = config;
    const identity = `serviceaccount:${pod.namespace}/${pod.serviceAccountName}`;
    if (config.serviceAccountToken) {
      registerSecret(config.serviceAccountToken.token);
      return new StaticTokenSource(config.serviceAccountToken.token, identity);
    }
    const audience = config.audience ?? defaultTokenAudience;
    const kube = this.kube;
    if (!kube) {
      throw new ServiceAccountTokenError(
        `no service-account token for ${identity} (audience "${audience}"): the mount request carried none and the provider has no Kubernetes access for a TokenRequest; add tokenRequests: [{audience: ${audience}}] to the CSIDriver, or run the provider with its service account (in a pod) or a --kubeconfig`,
      );
    }
    if (pod.name === '' || pod.uid === '') {
      throw new ServiceAccountTokenError(
        `no service-account token for ${identity}, and no pod name and uid to bind a TokenRequest to; set podInfoOnMount: true and tokenRequests: [{audience: ${audience}}] on the CSIDriver`,
      );
    }
    // The provider mints this token itself, so it goes only where the admin allowed, never to an address a SecretProviderClass alone chose.
    const allowed = [
      ...(this.options.allowedVaultAddresses ?? []),
      ...(this.options.defaultVaultAddress ? [this.options.defaultVaultAddress] : []),
    ];
    if (!allowed.some((entry) => sameVaultAddress(entry, client.address))) {
      throw new VaultConfigError(
        `the driver sent no token for audience "${audience}", and the provider requests one itself only for Vault addresses its admin allowed (--vault-addr, --allowed-vault-addresses); ${client.address} is not one of them. Add tokenRequests: [{audience: ${audience}}] to the CSIDriver, or ask the admin to allow the address`,
        { setting: 'vaultAddress' },
      );
    }
    // Bound to the pod (it dies with it), for the configured audience (never the API server's), short-lived.
    return new TokenRequestSource({
      kube,
      namespace: pod.namespace,
      serviceAccount: pod.serviceAccountName,
      audiences: [audience],
      expirationSeconds: tokenRequestSeconds,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.name, uid: pod.uid },
    });
  }

  /** The pod's Vault token: cached, or one login (shared by the pod's concurrent mounts) with this mount's JWT. */
  private async podToken(identity: string, config: MountConfig, base: VaultClient): Promise<string> {
    const cached = this.podTokens.get(identity);
    if (cached && (this.options.now?.() ?? Date.now()) < cached.useUntil) return cached.token;
    let login = this.loginsInFlight.get(identity);
    if (!login) {
      login = this.login(config, base)
        .then((token) => {
          this.podTokens.set(identity, token);
          return token;
        })
        .finally(() => this.loginsInFlight.delete(identity));
      this.loginsInFlight.set(identity, login);
    }
    return (await login).token;
  }

  private async login(config: MountConfig, base: VaultClient): Promise<PodToken> {
    const auth = new KubernetesAuth({
      role: config.roleName,
      mount: config.authMount,
      tokenSource: this.jwtSource(config, base),
    });
    const login = await auth.login(base);
    registerSecret(login.clientToken);
    this.options.onLogin?.();
    const ttlMs = login.leaseDurationSeconds * 1000;
    if (ttlMs <= 0) return { token: login.clientToken, useUntil: Infinity };
    // Not handed out in the last tenth of its life (at most 30 s before expiry): a mount never starts on a dying token.
    return {
      token: login.clientToken,
      useUntil: (this.options.now?.() ?? Date.now()) + ttlMs - Math.min(30_000, ttlMs / 10),
    };
  }

  /**
   * Vault said 403 to `rejected`. A newer token for the pod: retry with it. Else ask Vault
   * (lookup-self) whether the token still lives: if not (revoked, Vault's storage reset), forget it
   * and retry with a new login; if it does, the 403 is the policy's answer and stands.
   */
  private async permissionDenied(identity: string, rejected: string, base: VaultClient): Promise<boolean> {
    const cached = this.podTokens.get(identity);
    if (cached && cached.token !== rejected) return true;
    let check = this.checksInFlight.get(rejected);
    if (!check) {
      check = lookupSelfToken(base.withToken(rejected))
        .then(
          () => false,
          (error: unknown) => {
            if (!(error instanceof VaultPermissionError)) return false;
            if (this.podTokens.get(identity)?.token === rejected) this.podTokens.delete(identity);
            return true;
          },
        )
        .finally(() => this.checksInFlight.delete(rejected));
      this.checksInFlight.set(rejected, check);
    }
    return check;
  }

  /**
   * Before the socket is served: makes the Vault client a SecretProviderClass without an address of
   * its own uses, and sends one unauthenticated `sys/health` (at most `timeoutMs`) so the HTTP client is
   * compiled and connected for the first mount. Vault being down is the first mount's news, not this.
   */
  async warmUp(config: MountConfig, timeoutMs = 1000): Promise<void> {
    try {
      const client = this.connection(config);
      this.podIdentity(config, client);
      await vaultHealth(client, { acceptUnhealthy: true, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      this.options.logger.debug({ err: error }, 'warm-up request to Vault failed; serving anyway');
    }
  }

  /** Vault's answer for each object, keyed by objectName. Fails with ObjectFetchError naming the object and path. */
  async fetch(config: MountConfig, signal?: AbortSignal): Promise<Map<string, VaultResponse<unknown> | null>> {
    const base = this.connection(config);
    const identity = this.podIdentity(config, base);
    const client = base.withTokenProvider(
      () => this.podToken(identity, config, base),
      (rejected) => this.permissionDenied(identity, rejected, base),
    );
    const namespace = config.connection.namespace;
    const inFlight = new Map<string, Promise<VaultResponse<unknown> | null>>();
    const now = this.options.now?.() ?? Date.now();
    const read = (object: SecretObject): Promise<VaultResponse<unknown> | null> => {
      const key = requestKey(namespace, object);
      // A pod volume (its uid and target path) under one identity: another pod never gets these credentials.
      const leaseKey = `${identity}\u0000${config.targetPath}\u0000${key}`;
      const cached = this.leased.get(leaseKey);
      if (cached && now < cached.reuseUntil) {
        this.options.onRead?.('cached');
        return Promise.resolve(cached.response);
      }
      if (cached && cached.response.renewable && now < cached.expiresAt) {
        // Objects naming the same request share one renewal, as they share one read.
        let renewal = inFlight.get(`renew\u0000${leaseKey}`);
        if (!renewal) {
          renewal = this.renewOrRead(client, cached, leaseKey, now, () => issue(object, key, leaseKey));
          inFlight.set(`renew\u0000${leaseKey}`, renewal);
        }
        return renewal;
      }
      return issue(object, key, leaseKey);
    };
    const issue = (object: SecretObject, key: string, leaseKey: string): Promise<VaultResponse<unknown> | null> => {
      let pending = inFlight.get(key);
      const shared = pending ? undefined : this.volumeReads.get(leaseKey);
      if (shared) {
        inFlight.set(key, shared);
        return shared;
      }
      if (!pending) {
        pending = client.request<unknown>(object.method, object.path, {
          query: Object.keys(object.query).length > 0 ? object.query : undefined,
          // Upstream sends secretArgs even with GET; HTTP clients here refuse a GET body, and Vault ignores it.
          body: object.method === 'GET' || object.method === 'LIST' ? undefined : (object.secretArgs ?? undefined),
          signal,
        });
        pending.then(
          (response) => {
            this.options.onRead?.('ok');
            // The lease runs from Vault's answer, not from when this mount started (a slow Vault would skew it).
            if (response?.lease_id && (response.lease_duration ?? 0) > 0)
              this.leased.set(
                leaseKey,
                leasedAnswer(response, response.lease_duration, this.options.now?.() ?? Date.now()),
              );
          },
          () => this.options.onRead?.('error'),
        );
        inFlight.set(key, pending);
        const own = pending;
        this.volumeReads.set(leaseKey, own);
        const forget = (): void => {
          if (this.volumeReads.get(leaseKey) === own) this.volumeReads.delete(leaseKey);
        };
        own.then(forget, forget);
      }
      return pending;
    };
    let leased = false;
    const results = await mapLimit(config.objects, this.options.concurrency ?? 4, async (object) => {
      try {
        const response = await read(object);
        if (response?.lease_id) leased = true;
        return [object.objectName, response] as const;
      } catch (error) {
        const mapped = grpcStatusOf(error);
        const hint =
          error instanceof VaultPermissionError
            ? `; the policies of Vault role "${config.roleName}" must allow ${capabilityFor(object.method)} on ${object.path}`
            : '';
        // Vault down after some credential was issued: the driver would retry UNAVAILABLE and mint another; let kubelet retry later instead.
        const code = mapped.code === status.UNAVAILABLE && leased ? status.ABORTED : mapped.code;
        throw new ObjectFetchError(
          object.objectName,
          object.path,
          code,
          `${withoutVaultText(error, mapped.message)}${hint}`,
          error,
        );
      }
    });
    return new Map(results);
  }

  /**
   * Renews a reused answer's lease; the same credentials stay mounted. Falls back to `read` when Vault
   * grants less than the lease's duration (the max TTL is near: new credentials are due) or refuses.
   */
  private async renewOrRead(
    client: VaultClient,
    cached: LeasedAnswer,
    leaseKey: string,
    now: number,
    read: () => Promise<VaultResponse<unknown> | null>,
  ): Promise<VaultResponse<unknown> | null> {
    const duration = cached.response.lease_duration;
    try {
      const granted = (await renewLease(client, cached.response.lease_id, { incrementSeconds: duration }))
        .leaseDurationSeconds;
      if (granted >= duration) {
        const renewedAnswer = leasedAnswer(cached.response, granted, this.options.now?.() ?? Date.now());
        this.leased.set(leaseKey, renewedAnswer);
        this.options.onRead?.('renewed');
        return renewedAnswer.response;
      }
    } catch (error) {
      // Revoked, expired, or the policy lacks sys/leases/renew: new credentials are the way on.
      this.options.logger.debug({ err: error }, 'lease renewal refused; reading new credentials');
    }
    this.leased.delete(leaseKey);
    return read();
  }

  /** Forgets the pod tokens. They are not revoked: mounted pods keep their files, and the tokens expire on their own. */
  async stop(): Promise<void> {
    this.podTokens.clear();
    this.connections.clear();
    if (this.ownKube) this.kube?.close();
  }
}
