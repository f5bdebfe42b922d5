// Keeps dynamic secrets alive: renews each lease at a fraction of its duration (with jitter), and
// re-issues the secret when the lease is not renewable, when renewal fails for good, or when the max
// TTL truncates a renewal (the lease will end soon whatever we do). Revokes on request.
import { EventEmitter } from 'node:events';
import { backoffDelay } from '../retry/index.ts';
import type { VaultClient } from './client.ts';
import type { DynamicSecret } from './dynamic.ts';
import { isVaultDown, VaultError } from './errors.ts';
import { renewLease, revokeLease } from './lease-calls.ts';
import { renewalDelayMs, unrefTimer, type RenewalTiming } from './renewal.ts';

/** A LeaseManager used the wrong way (tracking after stop, a secret without lease id and no id). */
export class LeaseTrackingError extends VaultError {
  override readonly code = 'VAULT_LEASE_TRACKING';
}

export interface LeaseManagerOptions extends RenewalTiming {
  /** Client whose token may renew and revoke the leases (`sys/leases/renew`, `sys/leases/revoke`). */
  client: VaultClient;
  /** Re-issue instead of renewing when a renewal grants less than this many seconds. Default 10. */
  minTtlSeconds?: number;
  /** Revoke the old lease once a re-issued secret replaced it. Default false (the old one just expires). */
  revokeOnReissue?: boolean;
  /** Backoff between retries while Vault is down or a re-issue fails. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  now?: () => number;
}

export interface TrackOptions<T> {
  /** Obtains a new secret (read the creds path again, issue a new certificate…). */
  reissue: () => Promise<DynamicSecret<T>>;
  /** Seconds asked on each renewal. Default: the lease duration the secret was issued with. */
  incrementSeconds?: number;
  /** Name in events and for revoke(); default the first lease id. */
  id?: string;
}

export interface LeaseEvent {
  id: string;
  leaseId: string;
}

export interface LeaseManagerEvents {
  renewed: [LeaseEvent & { leaseDurationSeconds: number; expiresAt: number }];
  reissued: [LeaseEvent & { previousLeaseId: string; secret: DynamicSecret<unknown> }];
  /** The lease ended without a renewal or a replacement (Vault down, re-issue failing). */
  expired: [LeaseEvent];
  revoked: [LeaseEvent];
  /** Background failures. Emitted only when someone listens. */
  error: [LeaseEvent & { operation: 'renew' | 'reissue' | 'revoke'; error: unknown }];
}

/** A secret under management; `current` changes when it is re-issued. */
export interface TrackedLease<T> {
  readonly id: string;
  readonly current: DynamicSecret<T>;
}

interface Entry {
  id: string;
  secret: DynamicSecret<unknown>;
  reissue: () => Promise<DynamicSecret<unknown>>;
  incrementSeconds: number | undefined;
  timer: NodeJS.Timeout | undefined;
  failures: number;
  expiredReported: boolean;
}

export class LeaseManager extends EventEmitter<LeaseManagerEvents> {
  private readonly options: LeaseManagerOptions;
  private readonly client: VaultClient;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(options: LeaseManagerOptions) {
    super();
    this.options = options;
    this.client = options.client;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Starts managing `secret`. A secret without lease duration is tracked but never renewed. */
  track<T>(secret: DynamicSecret<T>, options: TrackOptions<T>): TrackedLease<T> {
    if (this.stopped) throw new LeaseTrackingError('LeaseManager.track() was called after stop()');
    const id = options.id ?? secret.leaseId;
    if (!id)
      throw new LeaseTrackingError(`the secret from ${secret.path} has no lease id; give track() an id`, {
        path: secret.path,
      });
    this.untrack(id);
    const entry: Entry = {
      id,
      secret,
      reissue: options.reissue,
      incrementSeconds: options.incrementSeconds,
      timer: undefined,
      failures: 0,
      expiredReported: false,
    };
    this.entries.set(id, entry);
    this.schedule(entry);
    return {
      id,
      get current(): DynamicSecret<T> {
        return entry.secret as DynamicSecret<T>;
      },
    };
  }

  get<T = Record<string, unknown>>(id: string): DynamicSecret<T> | undefined {
    return this.entries.get(id)?.secret as DynamicSecret<T> | undefined;
  }

  /** Stops managing `id` without revoking it. */
  untrack(id: string): void {
    const entry = this.entries.get(id);
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(id);
  }

  /** Revokes the current lease of `id` (`PUT sys/leases/revoke`) and stops managing it. Throws on failure. */
  async revoke(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.untrack(id);
    if (!entry.secret.leaseId) return;
    await revokeLease(this.client, entry.secret.leaseId);
    this.emit('revoked', { id, leaseId: entry.secret.leaseId });
  }

  /** Stops all timers; revokes every lease when `revoke` (failures are reported as 'error' events). */
  async stop(options: { revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    const entries = [...this.entries.values()];
    for (const entry of entries) this.untrack(entry.id);
    if (!options.revoke) return;
    await Promise.all(
      entries
        .filter((e) => e.secret.leaseId)
        .map(async (entry) => {
          try {
            await revokeLease(this.client, entry.secret.leaseId);
            this.emit('revoked', { id: entry.id, leaseId: entry.secret.leaseId });
          } catch (error) {
            this.emitError(entry, 'revoke', error);
          }
        }),
    );
  }

  private isLive(entry: Entry): boolean {
    return !this.stopped && this.entries.get(entry.id) === entry;
  }

  private schedule(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    const secret = entry.secret;
    if (!this.isLive(entry) || secret.expiresAt === Infinity) return;
    const remainingSeconds = Math.max(0, (secret.expiresAt - this.now()) / 1000);
    const delay = renewalDelayMs(remainingSeconds, this.options);
    const action = secret.renewable && secret.leaseId ? () => this.renew(entry) : () => this.reissue(entry);
    entry.timer = unrefTimer(() => void action(), delay);
  }

  private async renew(entry: Entry): Promise<void> {
    if (!this.isLive(entry)) return;
    const secret = entry.secret;
    if (this.now() >= secret.expiresAt) {
      // Too late to renew (Vault was down until now): the lease is gone, get a new secret.
      this.reportIfExpired(entry);
      await this.reissue(entry);
      return;
    }
    const asked = entry.incrementSeconds ?? secret.leaseDurationSeconds;
    let granted: number;
    let renewable: boolean;
    try {
      ({ leaseDurationSeconds: granted, renewable } = await renewLease(this.client, secret.leaseId, {
        incrementSeconds: asked,
      }));
    } catch (error) {
      if (!this.isLive(entry) || entry.secret !== secret) return;
      this.emitError(entry, 'renew', error);
      if (isVaultDown(error) && this.now() < secret.expiresAt) {
        this.retryLater(entry, () => this.renew(entry), secret.expiresAt);
        return;
      }
      // The lease is gone (revoked, expired) or cannot be renewed: only a new secret helps.
      await this.reissue(entry);
      return;
    }
    if (!this.isLive(entry) || entry.secret !== secret) return;
    if (granted < (this.options.minTtlSeconds ?? 10) || granted < asked) {
      // Vault grants what is asked unless the max TTL caps it: the lease ends soon whatever we do.
      await this.reissue(entry);
      return;
    }
    const now = this.now();
    entry.secret = { ...secret, leaseDurationSeconds: granted, renewable, expiresAt: now + granted * 1000 };
    entry.failures = 0;
    this.emit('renewed', {
      id: entry.id,
      leaseId: secret.leaseId,
      leaseDurationSeconds: granted,
      expiresAt: entry.secret.expiresAt,
    });
    this.schedule(entry);
  }

  private async reissue(entry: Entry): Promise<void> {
    if (!this.isLive(entry)) return;
    const previous = entry.secret;
    let fresh: DynamicSecret<unknown>;
    try {
      fresh = await entry.reissue();
    } catch (error) {
      if (!this.isLive(entry)) return;
      this.emitError(entry, 'reissue', error);
      this.reportIfExpired(entry);
      this.retryLater(entry, () => this.reissue(entry), Infinity);
      return;
    }
    if (!this.isLive(entry)) return;
    entry.secret = fresh;
    entry.failures = 0;
    entry.expiredReported = false;
    this.emit('reissued', { id: entry.id, leaseId: fresh.leaseId, previousLeaseId: previous.leaseId, secret: fresh });
    this.schedule(entry);
    if (this.options.revokeOnReissue && previous.leaseId && previous.leaseId !== fresh.leaseId) {
      await revokeLease(this.client, previous.leaseId).then(
        () => this.emit('revoked', { id: entry.id, leaseId: previous.leaseId }),
        (error: unknown) => this.emitError(entry, 'revoke', error),
      );
    }
  }

  private reportIfExpired(entry: Entry): void {
    if (entry.expiredReported || this.now() < entry.secret.expiresAt) return;
    entry.expiredReported = true;
    this.emit('expired', { id: entry.id, leaseId: entry.secret.leaseId });
  }

  private retryLater(entry: Entry, action: () => Promise<void>, notAfter: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    const delay = backoffDelay(entry.failures, {
      baseDelayMs: this.options.retryBaseDelayMs ?? 1_000,
      maxDelayMs: this.options.retryMaxDelayMs ?? 60_000,
    });
    entry.failures += 1;
    // Never sleep past notAfter: from then on the caller takes another route (renew → re-issue).
    const wait = Math.max(0, Math.min(delay, notAfter - this.now()));
    entry.timer = unrefTimer(() => void action(), wait);
  }

  private emitError(entry: Entry, operation: 'renew' | 'reissue' | 'revoke', error: unknown): void {
    // An 'error' event nobody listens to would throw from a timer and crash the process.
    if (this.listenerCount('error') > 0)
      this.emit('error', { id: entry.id, leaseId: entry.secret.leaseId, operation, error });
  }
}
