import type { VaultClient } from '../vault/client.ts';
import type { VaultAuthMethod } from './login.ts';
import { TokenManager, type TokenManagerOptions } from './token-manager.ts';

/** What makes two logins the same: Vault address and namespace, auth mount, role, service account. */
export function tokenManagerKey(client: VaultClient, auth: VaultAuthMethod): string {
  return JSON.stringify([client.address, client.namespace ?? '', auth.identity]);
}

/**
 * One TokenManager per identity, shared by every caller that logs in as it (all the secrets of one
 * service account, say), so they share one token instead of each making its own. Least recently used
 * managers beyond `maxEntries` are stopped (not revoked) and dropped.
 */
export class TokenManagerCache {
  private readonly managers = new Map<string, TokenManager>();
  private readonly maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 1000);
  }

  get size(): number {
    return this.managers.size;
  }

  /** The manager for this client and auth identity, made with `options` the first time. */
  get(options: TokenManagerOptions): TokenManager {
    const key = tokenManagerKey(options.client, options.auth);
    const existing = this.managers.get(key);
    if (existing) {
      // Re-inserted to mark it most recently used.
      this.managers.delete(key);
      this.managers.set(key, existing);
      return existing;
    }
    const manager = new TokenManager(options);
    this.managers.set(key, manager);
    while (this.managers.size > this.maxEntries) {
      const [oldestKey, oldest] = this.managers.entries().next().value as [string, TokenManager];
      this.managers.delete(oldestKey);
      void oldest.stop({ revoke: false });
    }
    return manager;
  }

  /** Stops and forgets one identity's manager (e.g. when its role was deleted). */
  async delete(client: VaultClient, auth: VaultAuthMethod, options: { revoke?: boolean } = {}): Promise<void> {
    const key = tokenManagerKey(client, auth);
    const manager = this.managers.get(key);
    this.managers.delete(key);
    await manager?.stop(options);
  }

  /** Stops every manager; revokes their tokens when `revoke` (default: each manager's revokeOnStop). */
  async stopAll(options: { revoke?: boolean } = {}): Promise<void> {
    const managers = [...this.managers.values()];
    this.managers.clear();
    await Promise.all(managers.map((manager) => manager.stop(options)));
  }
}
