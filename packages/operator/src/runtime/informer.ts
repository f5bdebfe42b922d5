// The operator's informer: list, then watch from the list's resourceVersion, over core's KubeHttp
// (node:https), as client-go's reflector does. Not client-node's ListWatch: client-node with its undici is
// more than half of the operator's bundle and ~10 MiB of RSS (README, "Memory (issue 14)"), and the
// informer was the last thing the operator used it for at runtime.
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import {
  backoffDelay,
  KubeApiError,
  KubeError,
  KubeWatchIdleError,
  type KubeHttp,
  type Logger,
  type WatchEvent,
} from '@vaultbridge/core';
import { cacheStrings } from './intern.ts';

export interface WatchOptions<T extends KubernetesObject, Raw extends KubernetesObject = T> {
  kube: KubeHttp;
  /** The collection's path, e.g. `/api/v1/secrets` (listed and watched). */
  path: string;
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
  /** Objects per list page. Default 500, client-go's. */
  pageSize?: number;
  /** A watch that received no byte for this long is started again from the last resourceVersion. */
  watchIdleMs?: number;
}

/** Backoff of restarts: 500 ms doubling to 30 s, full jitter, never under 200 ms. */
const RESTART_BACKOFF = { baseDelayMs: 500, maxDelayMs: 30_000 };
/** A watch that ran this long without an error counts as healthy again (client-go resets after 2 min). */
const HEALTHY_RUN_MS = 60_000;
/** client-go's page size for an informer's list. */
const PAGE_SIZE = 500;
/**
 * The API server's watch cache sends every watcher that asked for bookmarks one about every minute, events
 * or not (measured on the stack's kube-apiserver: README). So a healthy watch never goes 90 s without a
 * byte; a half-open connection does, and is replaced.
 */
const WATCH_IDLE_MS = 90_000;
/** client-go's watch timeout: 5 to 10 minutes, so a fleet of informers does not re-watch in step. */
const MIN_WATCH_TIMEOUT_S = 300;

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

/** The watch's resourceVersion is older than the API server keeps (HTTP 410, or an ERROR event with code 410): list again. */
class ResourceVersionGone extends KubeError {
  override readonly code = 'KUBE_WATCH_GONE';
}

/** An ERROR event other than 410: the API server's Status, reason and code only. */
function watchErrorOf(path: string, status: Record<string, unknown>): Error {
  const code = typeof status.code === 'number' ? status.code : 0;
  if (code === 410) return new ResourceVersionGone(`watch of ${path}: resourceVersion too old (410)`);
  return new KubeApiError('WATCH', path, code, status);
}

/** 410 Gone from the watch request itself or from an ERROR event on it. */
const isGone = (error: unknown): boolean =>
  error instanceof ResourceVersionGone || (error instanceof KubeApiError && error.status === 410);

function resourceVersionOf(object: Record<string, unknown>): string | undefined {
  const metadata = object.metadata as { resourceVersion?: unknown } | undefined;
  return typeof metadata?.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
}

const sameVersion = (a: KubernetesObject, b: KubernetesObject): boolean =>
  a.metadata?.resourceVersion !== undefined && a.metadata.resourceVersion === b.metadata?.resourceVersion;

/**
 * An informer that lists (paginated, 500 a page), then watches from the list's resourceVersion with
 * bookmarks, as client-go's reflector: a watch the API server ends (its timeoutSeconds) or that went idle
 * is started again from the last resourceVersion seen; a 410 (the resourceVersion was compacted away)
 * lists again, and the list's difference with the cache is delivered as adds, updates (a changed
 * resourceVersion) and deletes (objects gone). Any other failure restarts it with capped, jittered
 * backoff, from the last resourceVersion if a list had succeeded. The backoff resets only after a list
 * succeeded or a watch ran a minute without error, so an API server that accepts connections and fails
 * them is not hammered. Its cache is readable (get, list) and ready once the first list succeeded.
 */
export class RestartingInformer<T extends KubernetesObject, Raw extends KubernetesObject = T> {
  private readonly options: WatchOptions<T, Raw>;
  private readonly transform: (object: Raw) => T;
  /** namespace ('' for cluster-scoped) → name → object, as client-node's ListWatch kept it. */
  private objects = new Map<string, Map<string, T>>();
  private resourceVersion = '';
  private attempt = 0;
  private stopped = false;
  private synced = false;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;

  /** Restarts after errors so far (for tests and metrics). */
  restarts = 0;
  /** Lists after a 410 (the watch's resourceVersion was too old), for tests. */
  relists = 0;
  /** Watches started again because no byte came for the idle timeout, for tests. */
  idleWatches = 0;

  constructor(options: WatchOptions<T, Raw>) {
    this.options = options;
    this.transform = options.transform ?? (trimForCache as unknown as (object: Raw) => T);
  }

  /** True once a list has succeeded (readiness). */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Starts listing and watching; resolves once the first list succeeded or failed (a failure is retried). */
  async start(): Promise<void> {
    if (this.stopped || this.running) return;
    let firstList!: () => void;
    const listed = new Promise<void>((resolve) => (firstList = resolve));
    this.running = this.run(firstList);
    await listed;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): readonly T[] {
    if (namespace) return [...(this.objects.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const objects of this.objects.values()) all.push(...objects.values());
    return all;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new KubeError(`informer of ${this.options.path} stopped`));
    this.wake?.();
    await this.running;
  }

  private async run(firstList: () => void): Promise<void> {
    const { logger, path } = this.options;
    while (!this.stopped) {
      let listedNow = false;
      const startedAt = Date.now();
      try {
        if (this.resourceVersion === '') {
          try {
            await this.relist();
            listedNow = true;
          } finally {
            firstList();
          }
        }
        await this.watch();
      } catch (error) {
        if (this.stopped) return;
        if (isGone(error) && !listedNow) {
          // Compacted away while we were not watching: list again at once, as client-go does.
          logger.info({ path }, 'watch resourceVersion too old; listing again');
          this.resourceVersion = '';
          this.relists += 1;
          continue;
        }
        if (error instanceof KubeWatchIdleError) {
          logger.info({ path, err: error }, 'watch went idle; watching again');
          this.idleWatches += 1;
          continue;
        }
        if (isGone(error)) this.resourceVersion = '';
        if (Date.now() - startedAt >= HEALTHY_RUN_MS) this.attempt = 0;
        this.restarts += 1;
        const delayMs = Math.max(200, backoffDelay(this.attempt++, RESTART_BACKOFF));
        logger.warn({ path, err: error, retryInMs: delayMs }, 'watch failed; restarting the informer');
        await this.sleep(delayMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private query(extra: Record<string, string>): string {
    const params = new URLSearchParams(extra);
    if (this.options.labelSelector) params.set('labelSelector', this.options.labelSelector);
    return `${this.options.path}?${params.toString()}`;
  }

  /**
   * Lists every object, `pageSize` at a time (a consistent read: each page from the same snapshot), and
   * delivers the difference with the cache. A continue token that expired mid-way (410) falls back to
   * one unpaginated list, as client-go's pager does.
   */
  private async relist(): Promise<void> {
    const pageSize = this.options.pageSize ?? PAGE_SIZE;
    const signal = this.abort.signal;
    const items: T[] = [];
    let resourceVersion = '';
    let next: string | undefined = '';
    while (next !== undefined) {
      let page: KubernetesListObject<Raw>;
      try {
        page = await this.options.kube.get<KubernetesListObject<Raw>>(
          this.query({ limit: String(pageSize), ...(next ? { continue: next } : {}) }),
          signal,
        );
      } catch (error) {
        if (!(next && error instanceof KubeApiError && error.status === 410)) throw error;
        items.length = 0;
        page = await this.options.kube.get<KubernetesListObject<Raw>>(this.query({}), signal);
      }
      for (const item of page.items ?? []) items.push(this.transform(item));
      resourceVersion = page.metadata?.resourceVersion ?? '';
      // The wire's `continue` (client-node's typed model calls it `_continue`).
      next = (page.metadata as { continue?: string } | undefined)?.continue || undefined;
    }
    this.replace(items);
    this.resourceVersion = resourceVersion;
    // Only a list that answered proves the API server is back.
    this.attempt = 0;
    this.synced = true;
  }

  /** The cache becomes `items`: deletes for objects gone, then adds and updates (a changed resourceVersion). */
  private replace(items: readonly T[]): void {
    const listed = new Map<string, Set<string>>();
    for (const item of items) {
      const namespace = item.metadata?.namespace ?? '';
      let names = listed.get(namespace);
      if (!names) listed.set(namespace, (names = new Set()));
      names.add(item.metadata?.name ?? '');
    }
    for (const [namespace, objects] of this.objects) {
      const names = listed.get(namespace);
      for (const [name, object] of objects) {
        if (names?.has(name)) continue;
        objects.delete(name);
        this.options.onDelete?.(object);
      }
      if (objects.size === 0) this.objects.delete(namespace);
    }
    for (const item of items) this.addOrUpdate(item);
  }

  private addOrUpdate(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    let objects = this.objects.get(namespace);
    if (!objects) this.objects.set(namespace, (objects = new Map()));
    const found = objects.get(name);
    if (!found) {
      objects.set(name, object);
      this.options.onAdd?.(object);
    } else if (!sameVersion(found, object)) {
      objects.set(name, object);
      this.options.onUpdate?.(object);
    }
  }

  private remove(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const objects = this.objects.get(namespace);
    if (!objects?.delete(object.metadata?.name ?? '')) return;
    if (objects.size === 0) this.objects.delete(namespace);
    this.options.onDelete?.(object);
  }

  /** One watch from the current resourceVersion, until the API server ends it. */
  private async watch(): Promise<void> {
    const { path } = this.options;
    const startedAt = Date.now();
    const timeoutSeconds = Math.floor(MIN_WATCH_TIMEOUT_S * (1 + Math.random()));
    let events = 0;
    await this.options.kube.watch(
      this.query({
        watch: '1',
        allowWatchBookmarks: 'true',
        resourceVersion: this.resourceVersion,
        timeoutSeconds: String(timeoutSeconds),
      }),
      (event) => {
        this.handle(event);
        events += 1;
        if (Date.now() - startedAt >= HEALTHY_RUN_MS) this.attempt = 0;
      },
      { idleTimeoutMs: this.options.watchIdleMs ?? WATCH_IDLE_MS, signal: this.abort.signal },
    );
    // client-go's rule: a watch closed within a second with nothing on it is a failure, not a timeout.
    if (events === 0 && Date.now() - startedAt < 1000)
      throw new KubeError(`watch of ${path} closed within a second with no event`);
  }

  private handle(event: WatchEvent): void {
    if (event.type === 'ERROR') throw watchErrorOf(this.options.path, event.object);
    const resourceVersion = resourceVersionOf(event.object);
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.addOrUpdate(this.transform(event.object as Raw));
    else if (event.type === 'DELETED') this.remove(this.transform(event.object as Raw));
    if (resourceVersion !== undefined) this.resourceVersion = resourceVersion;
  }
}
