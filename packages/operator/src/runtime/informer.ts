import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { backoffDelay, type Logger } from '@vaultbridge/core';
import { cacheStrings } from './intern.ts';

export interface WatchOptions<T extends KubernetesObject, Raw extends KubernetesObject = T> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. `/api/v1/secrets`. */
  path: string;
  list: () => Promise<KubernetesListObject<Raw>>;
  /**
   * What the cache keeps of each listed or watched object (and what the handlers get); trimForCache when
   * absent. The destination watch keeps a Secret's MAC instead of its data (sync/destination.ts).
   */
  transform?: (object: Raw) => T;
  labelSelector?: string;
  logger: Logger;
  onAdd?: (object: T) => void;
  onUpdate?: (object: T) => void;
  onDelete?: (object: T) => void;
}

/** Backoff of restarts: 500 ms doubling to 30 s, full jitter, never under 200 ms. */
const RESTART_BACKOFF = { baseDelayMs: 500, maxDelayMs: 30_000 };
/** A watch that ran this long without an error counts as healthy again (client-go resets after 2 min). */
const HEALTHY_RUN_MS = 60_000;

/**
 * Drops what no reconcile reads before an object enters the cache: `metadata.managedFields` (the
 * server-side-apply bookkeeping of every writer, often larger than the object itself). client-go's
 * informers do the same with a transform (`TrimManagedFields`). A write that sends a cached object back
 * without managedFields leaves the server's unchanged (the API server keeps them when a request omits them).
 * The metadata is rebuilt rather than `delete`d from: a delete turns V8's object into a hash table
 * (dictionary mode), ~600 bytes more per cached object than the fields it holds (heap snapshot at 10,000
 * objects, README "Memory (issue 14)"). Its string values are interned (runtime/intern.ts).
 */
export function trimForCache<T extends KubernetesObject>(object: T): T {
  const metadata = object.metadata;
  if (metadata?.managedFields !== undefined) {
    const { managedFields: _dropped, ...rest } = metadata;
    object.metadata = rest;
  }
  // Repeated values (namespace, kind, condition reasons, timestamps) as one copy each (runtime/intern.ts).
  return cacheStrings.internValues(object);
}

/** client-node's Watch, transforming each event's object (trimForCache by default) before the informer stores it. */
class TrimmingWatch extends Watch {
  private readonly transform: (object: KubernetesObject) => KubernetesObject;

  constructor(kubeConfig: KubeConfig, transform: (object: KubernetesObject) => KubernetesObject) {
    super(kubeConfig);
    this.transform = transform;
  }

  override watch(...[path, queryParams, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    return super.watch(
      path,
      queryParams,
      (phase, object: unknown) => {
        // Not the raw event: nothing downstream reads it, and passing it on would keep the whole object alive.
        callback(
          phase,
          object !== null && typeof object === 'object' && 'metadata' in object
            ? this.transform(object as KubernetesObject)
            : object,
        );
      },
      done,
    );
  }
}

/**
 * A client-node informer that is started again after an error (client-node's informer stops on one),
 * with capped exponential backoff, and whose cache is readable. The backoff resets only after a list
 * succeeded (or a watch ran a minute without error): client-node emits `connect` before it lists, so
 * resetting on it restarted the watches 15–25 times a second while the API server was down.
 */
export class RestartingInformer<T extends KubernetesObject, Raw extends KubernetesObject = T> {
  private readonly informer: ListWatch<T>;
  private attempt = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private synced = false;

  constructor(options: WatchOptions<T, Raw>) {
    const transform = (options.transform ?? trimForCache) as (object: Raw) => T;
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await options.list();
      const items = result.items.map(transform);
      // Only a list that answered proves the API server is back.
      this.attempt = 0;
      this.synced = true;
      return { ...result, items };
    };
    // makeInformer's ListWatch with a transforming Watch: every object the cache holds comes from the list or a watch event.
    this.informer = new ListWatch<T>(
      options.path,
      new TrimmingWatch(options.kubeConfig, transform as unknown as (object: KubernetesObject) => KubernetesObject),
      list,
      false,
      options.labelSelector,
    );
    if (options.onAdd) this.informer.on('add', options.onAdd);
    if (options.onUpdate) this.informer.on('update', options.onUpdate);
    if (options.onDelete) this.informer.on('delete', options.onDelete);
    this.informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      if (Date.now() - this.startedAt >= HEALTHY_RUN_MS) this.attempt = 0;
      this.restarts += 1;
      const delayMs = Math.max(200, backoffDelay(this.attempt++, RESTART_BACKOFF));
      options.logger.warn(
        { path: options.path, err: error, retryInMs: delayMs },
        'watch failed; restarting the informer',
      );
      this.timer = setTimeout(() => void this.start(), delayMs);
    });
  }

  /** Restarts after errors so far (for tests and metrics). */
  restarts = 0;

  /** True once a list has succeeded (readiness). */
  get hasSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    this.startedAt = Date.now();
    try {
      await this.informer.start();
    } catch {
      // The 'error' handler above already scheduled the restart.
    }
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.informer.stop();
  }
}
