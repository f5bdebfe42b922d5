// One copy of each repeated short string in the informers' caches. JSON.parse makes a new string for every
// value it reads, so 10,000 cached objects hold 10,000 copies of their namespace, apiVersion, kind,
// condition reasons and messages, client cache key and timestamps: at 1,000 VaultStaticSecrets ~1 MiB of
// duplicate strings (heap snapshot, README "Memory (issue 14)"), ten times that at 10,000.

/** Longer strings are left as they are (templates, certificates: rarely repeated, costly to hash). */
const MAX_LENGTH = 128;
/**
 * Entries before the table starts again. Unique values (UIDs, resourceVersions, MACs) pass through it too,
 * so it is bounded rather than weak; a repeated value is then shared by every object interned between
 * two clears (thousands), which is nearly all of the saving at a bounded cost (~0.5 MiB at most).
 */
const MAX_ENTRIES = 8192;
/** JSON-shaped objects are shallow; the bound only guards against a cycle. */
const MAX_DEPTH = 32;

export class StringInterner {
  private readonly table = new Map<string, string>();
  private readonly maxEntries: number;

  constructor(maxEntries = MAX_ENTRIES) {
    this.maxEntries = maxEntries;
  }

  intern(value: string): string {
    if (value.length > MAX_LENGTH) return value;
    const known = this.table.get(value);
    if (known !== undefined) return known;
    if (this.table.size >= this.maxEntries) this.table.clear();
    this.table.set(value, value);
    return value;
  }

  /**
   * Replaces, in place, every string value of a JSON-shaped object (plain objects and arrays, as an
   * informer delivers them) with its shared copy, and returns the object. Keys are already shared (V8
   * internalizes property names); Dates and other class instances' internals are left alone.
   */
  internValues<T>(object: T): T {
    this.walk(object, 0);
    return object;
  }

  get size(): number {
    return this.table.size;
  }

  private walk(value: unknown, depth: number): void {
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || value instanceof Date) return;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        if (typeof item === 'string') value[index] = this.intern(item);
        else this.walk(item, depth + 1);
      }
      return;
    }
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const item = record[key];
      if (typeof item === 'string') record[key] = this.intern(item);
      else this.walk(item, depth + 1);
    }
  }
}

/** The interner every cache of the process shares (namespaces and kinds repeat across them). */
export const cacheStrings = new StringInterner();
