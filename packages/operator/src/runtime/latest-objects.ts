// The newest version of each object this process has seen, from the informer or from the answer to
// its own write, so a reconcile reads its object from memory instead of the API server. An object
// read from here is a copy: a controller changing it cannot corrupt what the next reconcile reads.

import { cacheStrings } from './intern.ts';

interface Versioned {
  metadata?: { resourceVersion?: string; managedFields?: unknown };
}

/** As the informer's trimForCache: metadata rebuilt without managedFields (a delete would slow V8's object). */
function withoutManagedFields<T extends Versioned>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** True when `next` is at least as new as `current`; resourceVersions that are not numbers count as newer. */
function notOlder(next: string | undefined, current: string | undefined): boolean {
  if (next === undefined || current === undefined || !/^\d+$/.test(next) || !/^\d+$/.test(current)) return true;
  return next.length !== current.length ? next.length > current.length : next >= current;
}

export class LatestObjects<T extends Versioned> {
  private readonly objects = new Map<string, T>();

  /** A copy of the newest version of `key`, or undefined when unknown (or deleted). */
  get(key: string): T | undefined {
    const object = this.objects.get(key);
    return object === undefined ? undefined : structuredClone(object);
  }

  /** The stored version itself, for read-only looks that must not pay for a copy. */
  peek(key: string): T | undefined {
    return this.objects.get(key);
  }

  /** From the informer: kept unless a newer version (our own write's answer) is already known. */
  observe(key: string, object: T): void {
    const current = this.objects.get(key);
    if (current === undefined || notOlder(object.metadata?.resourceVersion, current.metadata?.resourceVersion))
      this.objects.set(key, object);
  }

  /**
   * From the answer to our own write: kept when newer, and never brings back a deleted object. The same
   * version the informer already delivered is left as it is: the informer's cache holds that object too,
   * so one copy is kept, not two. A newer answer is kept without managedFields, as the informer keeps objects.
   */
  written(key: string, object: T): void {
    const current = this.objects.get(key);
    if (current === undefined) return;
    const next = object.metadata?.resourceVersion;
    const known = current.metadata?.resourceVersion;
    if (next !== undefined && next === known) return;
    if (notOlder(next, known)) this.objects.set(key, cacheStrings.internValues(withoutManagedFields(object)));
  }

  /** Every key with its stored version (read-only looks, as peek). */
  entries(): IterableIterator<[string, T]> {
    return this.objects.entries();
  }

  delete(key: string): void {
    this.objects.delete(key);
  }

  get size(): number {
    return this.objects.size;
  }
}
