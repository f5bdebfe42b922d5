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

const BUILT_IN: Layer = {
  source: 'built-in',
  values: new Map(
    Object.values(ANNOTATION_TABLE)
      .filter((entry) => entry.scope === 'pod' && entry.default !== undefined)
      .map((entry) => [ANNOTATION_PREFIX + entry.name, entry.default as string]),
  ),
};

export class AnnotationReader {
  readonly issues: AnnotationIssue[] = [];
  readonly #layers: readonly Layer[];

  /** @param layers highest precedence first; the built-in table is added last */
  constructor(layers: readonly Layer[]) {
    this.#layers = [...layers, BUILT_IN];
  }

  /** The pod's own annotations. */
  get pod(): ReadonlyMap<string, string> {
    return this.#layers[0]?.source === 'pod' ? this.#layers[0].values : new Map();
  }

  /**
   * The first value for any of `names`, layer by layer: within a layer the earlier name wins, and any
   * layer beats the ones below it (so a pod's generic value beats a flag's init-specific one).
   */
  find(...names: string[]): Found | undefined {
    if (names.length === 1) return this.#findOne(names[0]!);
    for (const layer of this.#layers) {
      for (const name of names) {
        const value = layer.values.get(name);
        if (value !== undefined) return { name, value, source: layer.source };
      }
    }
    return undefined;
  }

  // Most lookups are of one name; this skips the nested loop (the reader runs ~80 lookups per review).
  #findOne(name: string): Found | undefined {
    for (const layer of this.#layers) {
      const value = layer.values.get(name);
      if (value !== undefined) return { name, value, source: layer.source };
    }
    return undefined;
  }

  /** Whether the pod or the cluster annotation defaults set `name` (flags and built-ins do not count). */
  setByUser(name: string): boolean {
    return this.#layers.some(
      (layer) => (layer.source === 'pod' || layer.source === 'cluster default') && layer.values.has(name),
    );
  }

  /** The pod's annotations whose name starts with `prefix` and goes on after it, sorted by name. */
  podWithPrefix(prefix: string): [string, string][] {
    const found: [string, string][] = [];
    for (const entry of this.pod) if (entry[0].length > prefix.length && entry[0].startsWith(prefix)) found.push(entry);
    return found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The raw string, or undefined when no layer has it. */
  string(name: string): string | undefined {
    for (const layer of this.#layers) {
      const value = layer.values.get(name);
      if (value !== undefined) return value;
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
    const result = readValue(schema, found.value);
    if (!result.ok) {
      this.fail(found.name, result.message, found);
      return undefined;
    }
    return result.value;
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
