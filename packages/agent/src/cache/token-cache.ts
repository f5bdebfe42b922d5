// Vault Agent's token cache: a login (`auth/<mount>/login…`) or a token creation (`auth/token/create…`)
// made through the cache listener is kept, and the same request again gets the same token back instead
// of a second login at Vault. As in Vault Agent, a created token is kept only when its parent is managed
// here (the auto-auth token or a token this cache holds) or when it is an orphan (logins always are).
// Kept tokens are renewed in the background (`auth/token/renew-self`) until Vault stops extending them
// (max TTL); at expiry, on a revoke through the listener or on cache-clear `token`/`token_accessor` the
// token goes, and `onEvict` lets the lease cache drop the leases created with it. Tokens are held in
// memory only (needed to renew them); keys, logs and the owner ids of leases use a SHA-256 of the token.

import { createHash } from 'node:crypto';
import type { CacheableRequest, Logger, VaultAuthInfo, VaultClient, VaultResponse } from '@vaultbridge/core';
import { AUTO_AUTH_TOKEN } from './lease-cache.ts';

/** The owner id of what a request made: a hash of its token, or "auto-auth" for the agent's token. */
export function tokenOwner(token: string): string {
  return token === AUTO_AUTH_TOKEN ? 'auto-auth' : `token:${createHash('sha256').update(token).digest('hex')}`;
}

/** A request that issues a token: POST/PUT on a login path or on the token method's create endpoints. */
export function issuesToken(method: string, path: string): boolean {
  if (method !== 'POST' && method !== 'PUT') return false;
  return /^auth\/token\/create(-orphan)?(\/[^/]+)?$/.test(path) || /^auth\/.+\/login(\/.*)?$/.test(path);
}

/** Login paths do not use the caller's token: the same login from any caller is the same request. */
function isLogin(path: string): boolean {
  return !path.startsWith('auth/token/') && /^auth\/.+\/login(\/.*)?$/.test(path);
}

interface CachedToken {
  readonly key: string;
  readonly token: string;
  readonly owner: string;
  readonly accessor: string;
  /** owner id of the token that created it (undefined for a login) */
  readonly parent: string | undefined;
  readonly response: VaultResponse<unknown>;
  expiresAt: number;
  timer?: NodeJS.Timeout;
}

export interface TokenCacheOptions {
  /** Renews kept tokens; undefined: they live until their TTL ends (unit tests). */
  readonly renewWith?: VaultClient;
  readonly logger: Logger;
  /** A token left the cache: drop what was created with it (owner id from `tokenOwner`). */
  readonly onEvict?: (owner: string) => void;
  readonly now?: () => number;
}

export class TokenCache {
  private readonly byKey = new Map<string, CachedToken>();
  private readonly byOwner = new Map<string, CachedToken>();
  private readonly options: TokenCacheOptions;
  private readonly now: () => number;
  private stopped = false;
  /** logins and token creations answered from the cache, for tests */
  hits = 0;

  constructor(options: TokenCacheOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Whether a token is managed here: the auto-auth token or one this cache holds. */
  manages(token: string): boolean {
    return token === AUTO_AUTH_TOKEN || this.byOwner.has(tokenOwner(token));
  }

  keyOf(request: CacheableRequest): string {
    const caller = isLogin(request.path) ? 'login' : tokenOwner(request.token);
    const query = Object.entries(request.query)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return createHash('sha256')
      .update(JSON.stringify(['token', request.path, query, request.body ?? null, caller]))
      .digest('hex');
  }

  lookup(request: CacheableRequest): VaultResponse<unknown> | undefined {
    const entry = this.byKey.get(this.keyOf(request));
    if (entry === undefined || entry.response.auth === null) return undefined;
    const remainingSeconds = Math.floor((entry.expiresAt - this.now()) / 1000);
    // Too close to its end to hand out: the caller logs in anew (and the entry goes).
    if (remainingSeconds < 5) {
      this.evict(entry);
      return undefined;
    }
    this.hits += 1;
    return { ...entry.response, auth: { ...entry.response.auth, lease_duration: remainingSeconds } };
  }

  /** Keeps a token Vault issued for `request`, when Vault Agent would. Returns whether it was kept. */
  store(request: CacheableRequest, response: VaultResponse<unknown>): boolean {
    if (this.stopped || response.wrap_info) return false;
    const auth: VaultAuthInfo | null | undefined = response.auth;
    if (auth === null || auth === undefined || typeof auth.client_token !== 'string' || auth.client_token === '')
      return false;
    // Batch tokens and tokens with a use limit are not something to hand out twice.
    if (!(auth.lease_duration > 0) || (auth.num_uses ?? 0) > 0 || auth.token_type === 'batch') return false;
    if (!isLogin(request.path) && !auth.orphan && !this.manages(request.token)) return false;
    const key = this.keyOf(request);
    const previous = this.byKey.get(key);
    if (previous !== undefined) this.evict(previous);
    const entry: CachedToken = {
      key,
      token: auth.client_token,
      owner: tokenOwner(auth.client_token),
      accessor: auth.accessor,
      response,
      parent: isLogin(request.path) ? undefined : tokenOwner(request.token),
      expiresAt: this.now() + auth.lease_duration * 1000,
    };
    this.byKey.set(key, entry);
    this.byOwner.set(entry.owner, entry);
    this.schedule(entry, auth.renewable ? auth.lease_duration : 0);
    return true;
  }

  /** Renews at two thirds of the TTL while Vault extends it; evicts at expiry otherwise. */
  private schedule(entry: CachedToken, renewableForSeconds: number): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    const client = this.options.renewWith;
    const renew = client !== undefined && renewableForSeconds > 0;
    const delayMs = renew ? (renewableForSeconds * 1000 * 2) / 3 : Math.max(0, entry.expiresAt - this.now());
    entry.timer = setTimeout(
      () => {
        if (!renew) {
          this.options.logger.debug({ accessor: entry.accessor }, 'cached token expired: evicted');
          this.evict(entry);
          return;
        }
        void this.renew(entry, client);
      },
      Math.min(delayMs, 2 ** 31 - 1),
    );
    entry.timer.unref();
  }

  private async renew(entry: CachedToken, client: VaultClient): Promise<void> {
    const before = entry.expiresAt;
    try {
      const answer = await client.withToken(entry.token).write<unknown>('auth/token/renew-self', {});
      if (this.byKey.get(entry.key) !== entry) return;
      const ttl = answer?.auth?.lease_duration ?? 0;
      entry.expiresAt = this.now() + ttl * 1000;
      // Vault no longer extends it (max TTL reached): keep it until it ends, then evict.
      const extended = entry.expiresAt > before + 1000;
      this.schedule(entry, extended && answer?.auth?.renewable === true ? ttl : 0);
    } catch (error) {
      if (this.byKey.get(entry.key) !== entry) return;
      // Revoked elsewhere, or Vault refuses: the token is of no use to hand out any more.
      this.options.logger.debug({ accessor: entry.accessor, err: error }, 'cached token: renewal failed, evicted');
      this.evict(entry);
    }
  }

  private evict(entry: CachedToken): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key);
    if (this.byOwner.get(entry.owner) === entry) this.byOwner.delete(entry.owner);
    this.options.onEvict?.(entry.owner);
  }

  /**
   * Evicts a token (and, through `onEvict`, what was created with it): cache-clear `token` /
   * `token_accessor`, and revokes through the listener. Tokens created with an evicted token go too,
   * as their revocation in Vault takes the children along (`children: false` for `revoke-orphan`,
   * which leaves them alive in Vault). Returns how many tokens went.
   */
  clear(type: 'token' | 'token_accessor', value: string, { children = true }: { children?: boolean } = {}): number {
    const matches = [...this.byKey.values()].filter((entry) =>
      type === 'token' ? entry.token === value : entry.accessor === value,
    );
    let cleared = 0;
    for (const entry of matches) {
      if (children) {
        cleared += this.evictWithChildren(entry);
      } else if (this.byKey.get(entry.key) === entry) {
        this.evict(entry);
        cleared += 1;
      }
    }
    // A token not kept here may still own leases in the lease cache (the app's own token).
    if (matches.length === 0 && type === 'token') this.options.onEvict?.(tokenOwner(value));
    return cleared;
  }

  clearAll(): number {
    const count = this.byKey.size;
    for (const entry of [...this.byKey.values()]) this.evict(entry);
    return count;
  }

  private evictWithChildren(entry: CachedToken): number {
    if (this.byKey.get(entry.key) !== entry) return 0;
    this.evict(entry);
    let cleared = 1;
    for (const child of [...this.byKey.values()]) {
      if (child.response.auth?.orphan !== true && child.parent === entry.owner)
        cleared += this.evictWithChildren(child);
    }
    return cleared;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.byKey.values()) if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.byKey.clear();
    this.byOwner.clear();
  }
}
