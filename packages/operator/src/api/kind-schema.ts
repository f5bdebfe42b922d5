// A kind's spec is described once, as a zod schema with a description on every field. From it come the
// TypeScript type (z.output), the parser (parseSpec: a SpecError naming `spec.<field>` and what is
// expected), and the CRD's structural schema (structuralSchema: what `kubectl explain` shows). Zod
// because it is already the project's one way to validate (core's parseConfig) and it writes JSON Schema
// itself (z.toJSONSchema), so the three cannot drift; see the README's "CRDs" section. zod/mini, not zod:
// the same schema objects, checks and messages, written as functions instead of methods, so the operator's
// bundle keeps only the zod code it calls (full zod's classes and 60 locales were ~450 KiB of bundle and
// ~1.9 MiB of heap). The helpers below do what zod's methods of the same name did, step for step, so the
// CRDs and the parse errors stayed byte for byte the same (README, "Memory (issue 14)").
import { ConfigError, parseConfig } from '@vaultbridge/core';
import * as z from 'zod/mini';
import { conditionsSchema, SpecError } from './common.ts';

/** zod's `.describe(text)`: a copy of the schema with a description (`kubectl explain` shows it). */
export function described<Schema extends z.ZodMiniType>(schema: Schema, description: string): Schema {
  const copy = schema.clone();
  z.globalRegistry.add(copy, { description });
  return copy;
}

/** zod's `.meta(...)`: a copy of the schema with JSON Schema metadata (a `format`, a description). */
export function withMeta<Schema extends z.ZodMiniType>(
  schema: Schema,
  metadata: { format?: string; description?: string },
): Schema {
  const copy = schema.clone();
  z.globalRegistry.add(copy, metadata);
  return copy;
}

/** zod's `.transform(fn)`: the schema piped into a transform of its output. */
export function transformed<Schema extends z.ZodMiniType, Out>(
  schema: Schema,
  fn: (value: z.output<Schema>, payload: z.core.ParsePayload) => Out,
) {
  return z.pipe(schema, z.transform(fn));
}

/** An issue raised inside a transform, as zod's `context.addIssue` did (zod/mini's payload has no addIssue). */
export function addIssue(
  payload: z.core.ParsePayload,
  issue: { message: string; path?: PropertyKey[]; params?: Record<string, unknown>; input?: unknown },
): void {
  payload.issues.push({ code: 'custom', input: payload.value, ...issue });
}

/** An OpenAPI v3 schema node as a CRD holds it. */
export type StructuralSchema = { [key: string]: unknown };

/** A kind's `spec` and `status` in its CRD's openAPIV3Schema. */
export interface KindSchema {
  type: string;
  properties: object;
}

/**
 * Kubernetes drops nulls from objects it stores for non-nullable fields; a spec handed to the parser
 * from elsewhere (a test, `convert`) gets the same treatment, so `field: null` means "not set".
 */
function withoutNulls(value: unknown, depth = 0): unknown {
  // No spec is this deep; deeper input is left to the schema, which refuses it at its own first level
  // (a hostile object must not exhaust the stack here).
  if (depth > MAX_SPEC_DEPTH) return value;
  // Array.from, not map: map builds its result through the array's own `constructor` (species), which a
  // hostile value may replace (found by spec-fuzz.test.ts).
  if (Array.isArray(value)) return Array.from(value as unknown[], (item) => withoutNulls(item, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, withoutNulls(item, depth + 1)]),
  );
}

const MAX_SPEC_DEPTH = 16;

/**
 * `spec.destination.transformation.includes[1]`: the field as a user finds it in the manifest (list
 * indexes in brackets, as kubectl and VSO write them).
 */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let field = prefix;
  for (const part of path)
    field += typeof part === 'number' ? `[${part}]` : field === '' ? String(part) : `.${String(part)}`;
  return field;
}

/** Parses a spec (or a part of one found at `prefix`); throws SpecError naming the first bad field as `spec.<path>`. */
export function parseSpec<Schema extends z.ZodMiniType>(
  schema: Schema,
  raw: unknown,
  prefix = 'spec',
): z.output<Schema> {
  try {
    return parseConfig(schema, withoutNulls(raw), {
      source: prefix,
      fieldName: (_dotted, path) => fieldPath(prefix, path),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const first = error.issues[0];
    throw new SpecError(first?.field ?? prefix, first?.message ?? 'is not valid');
  }
}

// Keywords JSON Schema has and a CRD's structural schema refuses or does not need.
const DROPPED = new Set(['$schema', 'propertyNames', 'id']);

function clean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(clean);
  if (typeof node !== 'object' || node === null) return node;
  const out: StructuralSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    // Structural schemas forbid additionalProperties: false beside properties (unknown fields are pruned anyway).
    if (key === 'additionalProperties' && value === false) continue;
    // z.int() writes the safe-integer bounds; they say nothing to a reader.
    if (
      (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) ||
      (key === 'minimum' && value === Number.MIN_SAFE_INTEGER)
    )
      continue;
    // JavaScript writes `/` in a pattern as `\/`; Kubernetes reads RE2, where `/` needs no escape.
    if (key === 'pattern' && typeof value === 'string') {
      out[key] = value.replaceAll('\\/', '/');
      continue;
    }
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([name, child]) => [name, clean(child)]))
        : clean(value);
  }
  return out;
}

/** The CRD's OpenAPI v3 structural schema of a spec, from the same schema the parser uses (input side: defaults shown). */
export function structuralSchema(schema: z.ZodMiniType): StructuralSchema {
  return clean(
    z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }),
  ) as StructuralSchema;
}

/**
 * A kind's status schema for the CRD: its own fields, described once in zod (their type is the
 * schema's z.output), plus the shared `conditions` (metav1.Condition, whose schema is Kubernetes').
 */
export function statusStructuralSchema(schema: z.ZodMiniType): StructuralSchema {
  const node = structuralSchema(schema);
  return { ...node, properties: { ...(node.properties as object), conditions: conditionsSchema } };
}

/** Paths (`spec.headers`) of schema nodes under `properties`, `items` and `additionalProperties` that have no description: a test keeps this empty. */
export function undescribedFields(node: unknown, path = ''): string[] {
  if (typeof node !== 'object' || node === null) return [];
  const schema = node as StructuralSchema;
  const missing: string[] = [];
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
    const childPath = path === '' ? name : `${path}.${name}`;
    // The API server forbids a description on the top-level metadata (its schema is the API server's own).
    if (childPath === 'metadata') continue;
    if (typeof (child as StructuralSchema).description !== 'string') missing.push(childPath);
    missing.push(...undescribedFields(child, childPath));
  }
  // List items and mapping values are nodes `kubectl explain` shows too.
  for (const [child, childPath] of [
    [schema.items, `${path}[]`],
    [schema.additionalProperties, `${path}.*`],
  ] as const) {
    if (typeof child !== 'object' || child === null) continue;
    if (typeof (child as StructuralSchema).description !== 'string') missing.push(childPath);
    missing.push(...undescribedFields(child, childPath));
  }
  return missing;
}
