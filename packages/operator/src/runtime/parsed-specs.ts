// What a spec parses to, kept beside the stored object it came from, so the thousand reconciles that
// share one VaultAuth and one VaultConnection parse each once per version instead of once per reconcile
// (zod: ~30 KiB allocated and the CPU to go with it, per reconcile at 1,000 objects; README, "Memory
// (issue 14)"). Keyed by the object itself (a WeakMap): an entry lives only as long as the informer's
// store (LatestObjects) holds that object, so the cache is bounded by what the store holds, and a
// deleted or replaced object takes its entry with it. Each entry is checked against the object's uid
// and resourceVersion (and the caller's `extra`: the VaultAuthGlobal merged in), so an object changed
// in place, or a version the store did not give, is parsed again. Failures are never kept: a bad spec
// is parsed (and reported, with the same message) on every reconcile, as before.

interface Versioned {
  metadata?: { uid?: string; resourceVersion?: string };
}

export class ParsedSpecs<T> {
  private readonly entries = new WeakMap<object, { uid: string; resourceVersion: string; extra: string; value: T }>();

  /**
   * `parse()` of `object`'s spec, or what it returned for this version before. The value is shared by
   * every caller: read it, never change it.
   */
  get(object: Versioned, parse: () => T, extra = ''): T {
    const uid = object.metadata?.uid;
    const resourceVersion = object.metadata?.resourceVersion;
    // Without a version to check against (an object built in memory), nothing is kept.
    if (!uid || !resourceVersion) return parse();
    const found = this.entries.get(object);
    if (found && found.uid === uid && found.resourceVersion === resourceVersion && found.extra === extra)
      return found.value;
    const value = parse();
    this.entries.set(object, { uid, resourceVersion, extra, value });
    return value;
  }
}
