// Layered annotation lookup that collects problems instead of stopping at the first one, so a denied pod
// lists everything to fix in one go.

import type { AnnotationIssue, ValueSource } from './errors.ts';
import { ANNOTATION_PREFIX, ANNOTATION_TABLE } from './table.ts';
import { readValue, type ValueSchema } from './values.ts';

export interface Layer {
  readonly source: ValueSource;
  readonly values: ReadonlyMap<string, string>;
}

export interface Found {
  /** the annotation name the value was stored under */
  readonly name: string;
  readonly value: string;
  readonly source: ValueSource;
}

type ReadResult = ReturnType<typeof readValue<unknown>>;

/**
 * What each schema read from a fixed layer's value, by the Found that the layer hands out for it. The
 * same text always reads the same, so a value under the pod's is read once per layer, not once per
 * review: a review looks up ~60 annotations and the pod sets a handful, so most lookups end here (issue
 * 14, bytes allocated per review: tools/bench/review-allocation.ts).
 */
const fixedReads = new WeakMap<Found, Map<ValueSchema<unknown>, ReadResult>>();

/**
 * A layer under the pod's: the built-in table, the flags, the cluster annotation defaults. It outlives
 * many reviews (parse.ts keeps one per defaults object), so it hands out one Found per name and keeps
 * what schemas read from them.
 */
export class FixedLayer implements Layer {
  readonly source: ValueSource;
  readonly values: ReadonlyMap<string, string>;
  readonly #found = new Map<string, Found>();

  constructor(source: ValueSource, values: ReadonlyMap<string, string>) {
    this.source = source;
    this.values = values;
    for (const [name, value] of values) {
      const found: Found = { name, value, source };
      this.#found.set(name, found);
      fixedReads.set(found, new Map());
    }
  }

  found(name: string): Found | undefined {
    return this.#found.get(name);
  }
}

const BUILT_IN = new FixedLayer(
  'built-in',
  new Map(
    Object.values(ANNOTATION_TABLE)
      .filter((entry) => entry.scope === 'pod' && entry.default !== undefined)
      .map((entry) => [ANNOTATION_PREFIX + entry.name, entry.default as string]),
  ),
);

export class AnnotationReader {
  readonly issues: AnnotationIssue[] = [];
  readonly #pod: Layer;
  readonly #fixed: readonly FixedLayer[];

  /** @param fixed the layers under the pod's, highest precedence first; the built-in table is added last */
  constructor(pod: Layer, fixed: readonly FixedLayer[]) {
    this.#pod = pod;
    this.#fixed = [...fixed, BUILT_IN];
  }

  /** The pod's own annotations. */
  get pod(): ReadonlyMap<string, string> {
    return this.#pod.values;
  }

  /**
   * The first value for any of `names`, layer by layer: within a layer the earlier name wins, and any
   * layer beats the ones below it (so a pod's generic value beats a flag's init-specific one).
   */
  find(...names: string[]): Found | undefined {
    if (names.length === 1) return this.#findOne(names[0]!);
    for (const name of names) {
      const value = this.#pod.values.get(name);
      if (value !== undefined) return { name, value, source: this.#pod.source };
    }
    for (const layer of this.#fixed) {
      for (const name of names) {
        const found = layer.found(name);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  // Most lookups are of one name; this skips the nested loop (the reader runs ~80 lookups per review).
  #findOne(name: string): Found | undefined {
    const value = this.#pod.values.get(name);
    if (value !== undefined) return { name, value, source: this.#pod.source };
    for (const layer of this.#fixed) {
      const found = layer.found(name);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Whether the pod or the cluster annotation defaults set `name` (flags and built-ins do not count). */
  setByUser(name: string): boolean {
    return (
      this.#pod.values.has(name) ||
      this.#fixed.some((layer) => layer.source === 'cluster default' && layer.values.has(name))
    );
  }

  /** The pod's annotations whose name starts with `prefix` and goes on after it, sorted by name. */
  podWithPrefix(prefix: string): [string, string][] {
    const found: [string, string][] = [];
    // Keys, not entries: a Map's entries allocate a pair each, and most names do not match.
    for (const name of this.pod.keys())
      if (name.length > prefix.length && name.startsWith(prefix)) found.push([name, this.pod.get(name)!]);
    return found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The raw string, or undefined when no layer has it. */
  string(name: string): string | undefined {
    const value = this.#pod.values.get(name);
    if (value !== undefined) return value;
    for (const layer of this.#fixed) {
      const fixed = layer.values.get(name);
      if (fixed !== undefined) return fixed;
    }
    return undefined;
  }

  /** The raw string, treating "" like unset (upstream checks `!= ""` for these). */
  nonEmpty(name: string): string | undefined {
    const value = this.string(name);
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  /** Check the first value found for `names` with `schema`; on an issue record it and return undefined. */
  parse<T>(names: string | string[], schema: ValueSchema<T>): T | undefined {
    const found = typeof names === 'string' ? this.#findOne(names) : this.find(...names);
    return found === undefined ? undefined : this.parseFound(found, schema);
  }

  /** Like `parse`, but a blank value counts as unset (upstream skips these when `== ""`). */
  parseOptional<T>(name: string, schema: ValueSchema<T>): T | undefined {
    return this.nonEmpty(name) === undefined ? undefined : this.parse(name, schema);
  }

  /** Parse a value already found (e.g. from a per-secret lookup). */
  parseFound<T>(found: Found, schema: ValueSchema<T>): T | undefined {
    const result = this.#read(found, schema);
    if (!result.ok) {
      this.fail(found.name, result.message, found);
      return undefined;
    }
    return result.value;
  }

  #read<T>(found: Found, schema: ValueSchema<T>): ReturnType<typeof readValue<T>> {
    const reads = fixedReads.get(found) as Map<ValueSchema<T>, ReturnType<typeof readValue<T>>> | undefined;
    if (reads === undefined) return readValue(schema, found.value);
    let result = reads.get(schema);
    if (result === undefined) {
      result = readValue(schema, found.value);
      // Values that are objects (lists, JSON patches) are read again each time: the spec is built from
      // them and must not share them between reviews.
      if (!result.ok || typeof result.value !== 'object' || result.value === null) reads.set(schema, result);
    }
    return result;
  }

  fail(annotation: string, message: string, found?: Found): void {
    // Some values are read twice (a generic resource for both agents); report each problem once.
    if (this.issues.some((i) => i.annotation === annotation && i.message === message && i.value === found?.value))
      return;
    this.issues.push({
      annotation,
      source: found?.source ?? 'pod',
      message,
      ...(found === undefined ? {} : { value: found.value }),
    });
  }
}
