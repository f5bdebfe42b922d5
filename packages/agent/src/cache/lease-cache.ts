// Vault Agent's lease cache: answers that carry a lease (database credentials, AWS keys, PKI with a
// lease…) are kept and handed out again for the same request while the lease lives, so an app that asks
// twice gets one credential, not two. Answers without a lease (KV) are never kept, as in Vault Agent.
// Entries made for the app through the listener are renewed here (`renew`); entries the agent's own
// rendering made are renewed by the sidecar's LeaseManager, and only reused until their lease ends.

import { createHash } from 'node:crypto';
import {
  LeaseManager,
  dynamicSecretFromResponse,
  type CacheableRequest,
  type Logger,
  type VaultClient,
  type VaultResponse,
  type VaultResponseCache,
} from '@vaultbridge/core';

/** One kept answer, as persisted init → sidecar (JSON). */
export interface CachedEntry {
  readonly key: string;
  /** API path without /v1/, for cache-clear by request_path */
  readonly path: string;
  readonly response: VaultResponse<unknown>;
  /** epoch ms when Vault answered */
  readonly obtainedAt: number;
  /** epoch ms when the lease ends (moved on by renewals) */
  readonly expiresAt: number;
  /** who asked: `tokenOwner` of the request's token, so evicting a token evicts its leases */
  readonly owner?: string;
}

/** The token of a request made with the agent's auto-auth token, whatever that token is now: entries
 *  made with it survive a re-login. */
export const AUTO_AUTH_TOKEN = '\u0000auto-auth';

export interface LeaseCacheOptions {
  /** Every request is the agent's own, made with the auto-auth token (the rendering's cache). */
  readonly agentRequestsOnly?: boolean;
  /** Renews entries made for the app; undefined: entries live until their lease ends. */
  readonly renewWith?: VaultClient;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Paths whose answers are about leases and tokens themselves, never a secret to hand out again. */
function neverCached(path: string): boolean {
  return path.startsWith('sys/') || path.startsWith('auth/');
}

export class LeaseCache implements VaultResponseCache {
  private readonly entries = new Map<string, CachedEntry>();
  private readonly options: LeaseCacheOptions;
  private readonly now: () => number;
  private readonly leases: LeaseManager | undefined;
  /** lookups answered from the cache, for the log and tests */
  hits = 0;

  constructor(options: LeaseCacheOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    if (options.renewWith !== undefined) {
      this.leases = new LeaseManager({ client: options.renewWith });
      this.leases.on('renewed', ({ id, expiresAt }) => {
        const entry = this.entries.get(id);
        if (entry !== undefined) this.entries.set(id, { ...entry, expiresAt });
      });
      this.leases.on('error', ({ operation, error }) =>
        options.logger.debug({ operation, err: error }, 'cached lease: renewal failed'),
      );
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The key of a request: method, path, query, body, and the token (or "the auto-auth token"). */
  /** Same ids as token-cache's `tokenOwner` (not imported: that module imports this one). */
  private ownerOf(request: CacheableRequest): string {
    return request.token === AUTO_AUTH_TOKEN || this.options.agentRequestsOnly === true
      ? 'auto-auth'
      : `token:${createHash('sha256').update(request.token).digest('hex')}`;
  }

  keyOf(request: CacheableRequest): string {
    const token = this.ownerOf(request);
    const query = Object.entries(request.query)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return createHash('sha256')
      .update(
        JSON.stringify([
          request.method === 'PUT' ? 'POST' : request.method,
          request.path,
          query,
          request.body ?? null,
          token,
        ]),
      )
      .digest('hex');
  }

  lookup(request: CacheableRequest): VaultResponse<unknown> | undefined {
    const key = this.keyOf(request);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const remainingSeconds = Math.floor((entry.expiresAt - this.now()) / 1000);
    // Too close to its end to hand out: the caller gets a fresh one (and the entry goes).
    if (remainingSeconds < 5) {
      this.evict(key);
      return undefined;
    }
    this.hits += 1;
    return { ...entry.response, lease_duration: remainingSeconds };
  }

  store(request: CacheableRequest, response: VaultResponse<unknown>): void {
    if (neverCached(request.path) || response.wrap_info) return;
    if (typeof response.lease_id !== 'string' || response.lease_id === '' || !(response.lease_duration > 0)) return;
    const key = this.keyOf(request);
    const obtainedAt = this.now();
    const entry: CachedEntry = {
      key,
      path: request.path,
      response,
      obtainedAt,
      expiresAt: obtainedAt + response.lease_duration * 1000,
      owner: this.ownerOf(request),
    };
    this.put(entry);
  }

  private put(entry: CachedEntry): void {
    this.evict(entry.key);
    this.entries.set(entry.key, entry);
    if (this.leases === undefined) return;
    const secret = {
      ...dynamicSecretFromResponse(entry.path, entry.response, entry.obtainedAt),
      expiresAt: entry.expiresAt,
    };
    // A lease that cannot be renewed any more is evicted, not re-issued: the app's next request gets a
    // new one, as Vault Agent evicts what it can no longer renew.
    this.leases.track(secret, {
      id: entry.key,
      reissue: () => {
        this.evict(entry.key);
        return Promise.reject(new Error('evicted from the cache'));
      },
    });
  }

  evict(key: string): void {
    this.entries.delete(key);
    this.leases?.untrack(key);
  }

  /** `/agent/v1/cache-clear`: everything, a request path prefix, or one lease. Returns how many went. */
  clear(type: 'all' | 'request_path' | 'lease', value?: string): number {
    let cleared = 0;
    for (const entry of [...this.entries.values()]) {
      const matches =
        type === 'all' ||
        (type === 'request_path' && value !== undefined && entry.path.startsWith(value.replace(/^\/?(v1\/)?/, ''))) ||
        (type === 'lease' && entry.response.lease_id === value);
      if (!matches) continue;
      this.evict(entry.key);
      cleared += 1;
    }
    return cleared;
  }

  /** A token left the token cache (revoked, expired, cleared): the leases it created go with it. */
  clearOwner(owner: string): number {
    let cleared = 0;
    for (const entry of [...this.entries.values()]) {
      if (entry.owner !== owner) continue;
      this.evict(entry.key);
      cleared += 1;
    }
    return cleared;
  }

  /** Live entries, for the init → sidecar handover. */
  export(): CachedEntry[] {
    const now = this.now();
    return [...this.entries.values()].filter((entry) => entry.expiresAt > now);
  }

  /** Entries another process kept (the init agent's); those already over are dropped. */
  import(entries: readonly CachedEntry[]): number {
    const now = this.now();
    let imported = 0;
    for (const entry of entries) {
      if (entry.expiresAt <= now) continue;
      this.put(entry);
      imported += 1;
    }
    return imported;
  }

  async stop(): Promise<void> {
    await this.leases?.stop();
    this.entries.clear();
  }
}
