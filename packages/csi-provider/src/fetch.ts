// Vault reads with the pod's identity. One Vault token per identity (address, namespace, auth mount,
// role, namespace/serviceAccount, audience), reused across mounts and renewed by core's TokenManager;
// requests coalesced per (namespace, path, method, query, args) within a mount; objects fetched in
// parallel with a small bound.
import { status } from '@grpc/grpc-js';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  KubernetesAuth, ServiceAccountTokenError, StaticTokenSource, TokenManagerCache, TokenRequestSource, VaultAuthError, VaultClient,
  VaultConfigError, VaultError, VaultNotFoundError, VaultPermissionError, VaultUnavailableError, registerSecret,
  type Logger, type ServiceAccountTokenSource, type TokenManager, type VaultResponse,
} from '@vaultbridge/core';
import { LRUCache } from 'lru-cache';
import type { MountConfig, SecretObject } from './config.ts';
import { goJson } from './encode.ts';
import { ObjectFetchError } from './errors.ts';

export interface FetcherOptions {
  logger: Logger;
  /** For TokenRequest when the driver sends no token for the audience; none ⇒ such mounts fail with a hint. */
  kubeConfig?: KubeConfig;
  /** Identities (and connections) kept; least recently used beyond it are stopped. Default 1000. */
  cacheSize?: number;
  /** Objects of one mount read at once. Default 4. */
  concurrency?: number;
  env?: NodeJS.ProcessEnv;
  /** Told of each Vault login and each Vault read (for metrics). */
  onLogin?: () => void;
  /** `cached`: a leased answer reused for the same pod volume, no Vault request; `renewed`: its lease renewed instead of a new read. */
  onRead?: (result: 'ok' | 'error' | 'cached' | 'renewed') => void;
  /** Clock, for tests. */
  now?: () => number;
}

interface Connection {
  client: VaultClient;
  tokens: TokenManagerCache;
}

interface PodJwt {
  token: string;
  expiresAt: number | undefined;
}

/** Keep a handed-over JWT only while it has this much life left. */
const jwtMarginMs = 15_000;

/**
 * The service account's JWT: the latest one a mount handed over (the kubelet's, for the audience),
 * else a TokenRequest. Every source of one identity reads the same registry, so the TokenManager that
 * lives across mounts always logs in again with a current JWT, never the one of its first mount.
 */
class PodTokenSource implements ServiceAccountTokenSource {
  readonly identity: string;
  private readonly latest: () => PodJwt | undefined;
  private readonly fallback: () => ServiceAccountTokenSource | undefined;

  constructor(identity: string, latest: () => PodJwt | undefined, fallback: () => ServiceAccountTokenSource | undefined) {
    this.identity = identity;
    this.latest = latest;
    this.fallback = fallback;
  }

  async token(): Promise<string> {
    const jwt = this.latest();
    if (jwt && (jwt.expiresAt === undefined || jwt.expiresAt - jwtMarginMs > Date.now())) {
      return new StaticTokenSource(jwt.token, this.identity).token();
    }
    const source = this.fallback();
    if (!source) {
      throw new ServiceAccountTokenError(
        `no service-account token for ${this.identity}: the mount request carried none for the audience and the provider has no Kubernetes access for a TokenRequest; add tokenRequests: [{audience: vault}] to the CSIDriver, or give the provider a kubeconfig`,
      );
    }
    return source.token();
  }
}

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

/** Same request ⇒ same key: two objects naming it share one Vault read (and so one dynamic credential). */
export function requestKey(namespace: string | undefined, object: SecretObject): string {
  const query = Object.keys(object.query).sort().map((key) => [key, object.query[key]]);
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
  return { response: { ...response, lease_duration: durationSeconds }, reuseUntil: now + durationSeconds * 1000 * REUSE_FRACTION, expiresAt: now + durationSeconds * 1000 };
}

export class VaultFetcher {
  private readonly options: FetcherOptions;
  private readonly connections: LRUCache<string, Connection>;
  private readonly podJwts: LRUCache<string, PodJwt>;
  private readonly tokenRequests: LRUCache<string, TokenRequestSource>;
  private readonly seenManagers = new WeakSet<TokenManager>();
  /**
   * Leased answers (database credentials, certificates…) per pod volume and request, reused until
   * two thirds of the lease: the driver's rotation polls then do not mint new credentials every
   * time. Past that point a renewable lease is renewed (same credentials, same files) while Vault
   * grants the full increment; only a lease cut short by its max TTL, or one that cannot be renewed,
   * is read again. Answers without a lease (KV) are never cached, so rotation sees every change.
   */
  private readonly leased: LRUCache<string, LeasedAnswer>;

  constructor(options: FetcherOptions) {
    this.options = options;
    const max = Math.max(1, options.cacheSize ?? 1000);
    this.connections = new LRUCache<string, Connection>({
      max: Math.max(1, Math.ceil(max / 10)),
      dispose: (connection) => void connection.tokens.stopAll({ revoke: false }),
    });
    this.podJwts = new LRUCache<string, PodJwt>({ max });
    this.tokenRequests = new LRUCache<string, TokenRequestSource>({ max });
    this.leased = new LRUCache({ max });
  }

  private connection(config: MountConfig): Connection {
    const { connection: settings } = config;
    const key = JSON.stringify([settings.address ?? '', settings.namespace ?? '', settings.tls]);
    let entry = this.connections.get(key);
    if (!entry) {
      const client = VaultClient.fromEnv(
        { address: settings.address, namespace: settings.namespace, tls: settings.tls, settingNames: settings.sources },
        this.options.env ?? process.env,
      );
      entry = { client, tokens: new TokenManagerCache({ maxEntries: this.options.cacheSize ?? 1000 }) };
      this.connections.set(key, entry);
    }
    return entry;
  }

  /** The pod's identity as a token manager: one per identity, shared by all its mounts. */
  private manager(config: MountConfig): TokenManager {
    const { pod } = config;
    const audience = config.audience ?? 'vault';
    const identity = `serviceaccount:${pod.namespace}/${pod.serviceAccountName};aud=${audience}`;
    if (config.serviceAccountToken) {
      registerSecret(config.serviceAccountToken.token);
      this.podJwts.set(identity, { token: config.serviceAccountToken.token, expiresAt: config.serviceAccountToken.expiresAt?.getTime() });
    }
    const source = new PodTokenSource(
      identity,
      () => this.podJwts.get(identity),
      () => {
        const kubeConfig = this.options.kubeConfig;
        if (!kubeConfig) return undefined;
        let tokenRequest = this.tokenRequests.get(identity);
        if (!tokenRequest) {
          // Not bound to the pod: the token serves every pod of the service account, as the Vault token does.
          tokenRequest = new TokenRequestSource({
            kubeConfig, namespace: pod.namespace, serviceAccount: pod.serviceAccountName, audiences: config.audience ? [config.audience] : [],
            expirationSeconds: 900,
          });
          this.tokenRequests.set(identity, tokenRequest);
        }
        return tokenRequest;
      },
    );
    const { client, tokens } = this.connection(config);
    const manager = tokens.get({ client, auth: new KubernetesAuth({ role: config.roleName, mount: config.authMount, tokenSource: source }) });
    if (!this.seenManagers.has(manager)) {
      this.seenManagers.add(manager);
      manager.on('login', () => this.options.onLogin?.());
      manager.on('error', (event) => this.options.logger.warn({ operation: event.operation, err: event.error, identity }, 'Vault token upkeep failed'));
    }
    return manager;
  }

  /** Vault's answer for each object, keyed by objectName. Fails with ObjectFetchError naming the object and path. */
  async fetch(config: MountConfig, signal?: AbortSignal): Promise<Map<string, VaultResponse<unknown> | null>> {
    const manager = this.manager(config);
    const client = manager.client;
    const namespace = config.connection.namespace;
    const inFlight = new Map<string, Promise<VaultResponse<unknown> | null>>();
    const now = this.options.now?.() ?? Date.now();
    const read = (object: SecretObject): Promise<VaultResponse<unknown> | null> => {
      const key = requestKey(namespace, object);
      // A pod volume (its uid and target path) under one identity: another pod never gets these credentials.
      const leaseKey = `${manager.identity}\u0000${config.pod.uid}\u0000${config.targetPath}\u0000${key}`;
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
      if (!pending) {
        pending = client.request<unknown>(object.method, object.path, {
          query: Object.keys(object.query).length > 0 ? object.query : undefined,
          // Upstream sends secretArgs even with GET; HTTP clients here refuse a GET body, and Vault ignores it.
          body: object.method === 'GET' ? undefined : (object.secretArgs ?? undefined),
          signal,
        });
        pending.then((response) => {
          this.options.onRead?.('ok');
          // The lease runs from Vault's answer, not from when this mount started (a slow Vault would skew it).
          if (response?.lease_id && (response.lease_duration ?? 0) > 0) this.leased.set(leaseKey, leasedAnswer(response, response.lease_duration, this.options.now?.() ?? Date.now()));
        }, () => this.options.onRead?.('error'));
        inFlight.set(key, pending);
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
        const hint = error instanceof VaultPermissionError ? `; the policies of Vault role "${config.roleName}" must allow ${object.method === 'GET' ? 'read' : 'update'} on ${object.path}` : '';
        // Vault down after some credential was issued: the driver would retry UNAVAILABLE and mint another; let kubelet retry later instead.
        const code = mapped.code === status.UNAVAILABLE && leased ? status.ABORTED : mapped.code;
        throw new ObjectFetchError(object.objectName, object.path, code, `${mapped.message}${hint}`, error);
      }
    });
    return new Map(results);
  }

  /**
   * Renews a reused answer's lease; the same credentials stay mounted. Falls back to `read` when Vault
   * grants less than the lease's duration (the max TTL is near: new credentials are due) or refuses.
   */
  private async renewOrRead(client: VaultClient, cached: LeasedAnswer, leaseKey: string, now: number, read: () => Promise<VaultResponse<unknown> | null>): Promise<VaultResponse<unknown> | null> {
    const duration = cached.response.lease_duration;
    try {
      const renewed = await client.request<unknown>('PUT', 'sys/leases/renew', { body: { lease_id: cached.response.lease_id, increment: duration } });
      const granted = renewed?.lease_duration ?? 0;
      if (granted >= duration) {
        this.leased.set(leaseKey, leasedAnswer(cached.response, granted, this.options.now?.() ?? Date.now()));
        this.options.onRead?.('renewed');
        return this.leased.get(leaseKey)!.response;
      }
    } catch (error) {
      // Revoked, expired, or the policy lacks sys/leases/renew: new credentials are the way on.
      this.options.logger.debug({ err: error }, 'lease renewal refused; reading new credentials');
    }
    this.leased.delete(leaseKey);
    return read();
  }

  /** Stops token renewal. Tokens are not revoked: mounted pods keep their files, and the tokens expire on their own. */
  async stop(): Promise<void> {
    const connections = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(connections.map((connection) => connection.tokens.stopAll({ revoke: false })));
  }
}
