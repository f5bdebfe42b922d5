// Keep what a CRD's structural schema knows, and say what it does not: the API server would drop
// unknown fields silently (pruning), which is exactly what a migration must not do silently.
import { isRecord } from './report.ts';

export interface Pruned {
  readonly value: unknown;
  /** dotted paths of the fields left out, e.g. `spec.aws` */
  readonly dropped: readonly string[];
}

type Schema = Record<string, unknown>;

function walk(value: unknown, schema: unknown, field: string, dropped: string[]): unknown {
  if (!isRecord(schema) || schema['x-kubernetes-preserve-unknown-fields'] === true) return value;
  if (Array.isArray(value)) {
    return isRecord(schema.items)
      ? value.map((item, index) => walk(item, schema.items, `${field}[${index}]`, dropped))
      : value;
  }
  if (!isRecord(value) || schema.type !== 'object') return value;
  const properties = isRecord(schema.properties) ? (schema.properties as Record<string, Schema>) : undefined;
  const additional = isRecord(schema.additionalProperties) ? schema.additionalProperties : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const path = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${field}.${key}` : `${field}[${JSON.stringify(key)}]`;
    const child = properties?.[key] ?? additional;
    if (child === undefined) {
      dropped.push(path);
      continue;
    }
    out[key] = walk(item, child, path, dropped);
  }
  return out;
}

/** `value` (found at `field`) pruned by `schema` as the API server would prune it. */
export function pruneBySchema(value: unknown, schema: unknown, field: string): Pruned {
  const dropped: string[] = [];
  return { value: walk(value, schema, field, dropped), dropped };
}
