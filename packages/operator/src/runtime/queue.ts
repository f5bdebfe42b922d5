import { backoffDelay } from '@vaultbridge/core';

/** What a reconcile asks of the queue: come back after a delay, back off (it failed), or nothing. */
export type ReconcileResult = { requeueAfterMs?: number; backoff?: false } | { backoff: true };

export interface WorkQueueOptions {
  /** Reconciles one key; a throw counts as `{ backoff: true }`. */
  handler: (key: string) => Promise<ReconcileResult>;
  /** Keys reconciled at once. Default 10. */
  concurrency?: number;
  /** Failure backoff: full jitter in [0, min(max, base·2^failures)), never below `minDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  minDelayMs?: number;
  random?: () => number;
  /** Told about handler throws (the queue never lets one escape). */
  onError?: (key: string, error: unknown) => void;
}

/**
 * A work queue like client-go's: a key waits at most once (adds while it waits are merged), is never
 * handled by two workers at once (an add while it runs marks it to run again after), delayed adds keep
 * the earliest time, and failures back off exponentially per key until the key succeeds.
 */
export class WorkQueue {
  private readonly options: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;
  private readonly ready: string[] = [];
  private readonly waiting = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(options: WorkQueueOptions) {
    this.options = {
      concurrency: 10,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      minDelayMs: 100,
      random: Math.random,
      ...options,
    };
  }

  /** Keys waiting or running. */
  get length(): number {
    return this.waiting.size + this.running.size;
  }

  /**
   * Resolves once no key waits or runs (keys with a delayed add pending do not count): at start, once
   * every object the informer listed was reconciled once. Resolves at once on an idle or stopped queue.
   */
  idle(): Promise<void> {
    if (this.length === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  add(key: string): void {
    if (this.stopped) return;
    this.clearTimer(key);
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.ready.push(key);
    this.pump();
  }

  /** Adds after `delayMs`; an earlier pending add wins over a later one. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** The delay the next failure of `key` waits (and counts the failure). */
  nextBackoff(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const { baseDelayMs, maxDelayMs, minDelayMs, random } = this.options;
    return Math.max(minDelayMs, backoffDelay(failures, { baseDelayMs, maxDelayMs, random }));
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.nextBackoff(key));
  }

  /** Clears the failure count (after a success, or when the object is gone). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Drops a key entirely: its timer, its failures, and any pending add. */
  remove(key: string): void {
    this.clearTimer(key);
    this.forget(key);
    this.dirty.delete(key);
    if (this.waiting.delete(key)) this.ready.splice(this.ready.indexOf(key), 1);
  }

  /** Stops taking work and waits for running reconciles to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    this.waiting.clear();
    this.wakeIdle();
    await Promise.allSettled([...this.inFlight]);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private clearTimer(key: string): void {
    const existing = this.timers.get(key);
    if (existing) {
      clearTimeout(existing.timer);
      this.timers.delete(key);
    }
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.options.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.waiting.delete(key);
      this.running.add(key);
      const work = this.run(key).finally(() => {
        this.inFlight.delete(work);
        this.running.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        this.pump();
        if (this.length === 0) this.wakeIdle();
      });
      this.inFlight.add(work);
    }
  }

  private async run(key: string): Promise<void> {
    let result: ReconcileResult;
    try {
      result = await this.options.handler(key);
    } catch (error) {
      this.options.onError?.(key, error);
      result = { backoff: true };
    }
    if (this.stopped) return;
    if (result.backoff) {
      this.addRateLimited(key);
      return;
    }
    this.forget(key);
    if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
  }
}
