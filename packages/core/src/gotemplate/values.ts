// How Go values are held in JavaScript while a template runs.
//   Go int (any signed int)   → bigint          Go float64        → number
//   Go string                 → string          Go bool           → boolean
//   nil interface             → null            "no value"        → undefined (Go's invalid reflect.Value)
//   []T                       → Array           map[string]T      → Map (never a plain object: no prototype)
//   json.Number, uint8, …     → GoTyped         functions         → GoFunction (see funcs.ts)
// Typed slices and maps carry their Go type name under GO_TYPE so printing (%T, typeOf) stays Go's.

import type { GoFunction } from './func.ts';

export const GO_TYPE = Symbol('goType');

/** A value whose Go type is not one of the defaults above (json.Number, uint8, int64, time.Duration …). */
export class GoTyped {
  /** Go's type name, as %T prints it. */
  readonly type: string;
  readonly kind: 'string' | 'int' | 'uint' | 'float' | 'struct';
  readonly value: string | bigint | number | Record<string, unknown>;
  /** How %v prints a struct-kind value (time.Time …). */
  readonly display: string | undefined;
  /**
   * Methods a template may call on the value (`{{ scratch.Set "k" "v" }}`), with Go's parameter
   * types; they take precedence over fields, as in Go.
   */
  readonly methods: ReadonlyMap<string, GoFunction> | undefined;

  constructor(
    type: string,
    kind: GoTyped['kind'],
    value: GoTyped['value'],
    display?: string,
    methods?: ReadonlyMap<string, GoFunction>,
  ) {
    this.type = type;
    this.kind = kind;
    this.value = value;
    this.display = display;
    this.methods = methods;
  }
}

export type GoMap = Map<string, GoValue>;
export type GoValue = undefined | null | boolean | string | bigint | number | GoValue[] | GoMap | GoTyped;

export type GoKind = 'invalid' | 'nil' | 'bool' | 'int' | 'uint' | 'float' | 'string' | 'slice' | 'map' | 'struct';

export function kindOf(v: GoValue): GoKind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
  }
  if (Array.isArray(v)) return 'slice';
  if (v instanceof Map) return 'map';
  return v.kind;
}

export function typeName(v: GoValue): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
  }
  if (Array.isArray(v)) return (v as unknown as Record<symbol, string>)[GO_TYPE] ?? '[]interface {}';
  if (v instanceof Map) return (v as unknown as Record<symbol, string>)[GO_TYPE] ?? 'map[string]interface {}';
  return v.type;
}

/** Tags an array or map with its Go type ("[]string", "map[string]string"). */
export function typed<T extends GoValue[] | GoMap>(value: T, type: string): T {
  Object.defineProperty(value, GO_TYPE, { value: type, enumerable: false });
  return value;
}

export const jsonNumber = (text: string): GoTyped => new GoTyped('json.Number', 'string', text);

/** The string of a string-kind value (string, json.Number). */
export function stringOf(v: GoValue): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof GoTyped && v.kind === 'string') return v.value as string;
  return undefined;
}

/** The integer of an int- or uint-kind value. */
export function intOf(v: GoValue): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (v instanceof GoTyped && (v.kind === 'int' || v.kind === 'uint')) return v.value as bigint;
  return undefined;
}

export function floatOf(v: GoValue): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof GoTyped && v.kind === 'float') return v.value as number;
  return undefined;
}

/** Go's isTrue: the truth of a value for if/with/and/or/not; ok=false for values with no truth. */
export function truthOf(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v.kind === 'struct') return true;
  if (v.kind === 'string') return (v.value as string).length > 0;
  if (v.kind === 'float') return v.value !== 0;
  return v.value !== 0n;
}

/** Go's len for strings counts UTF-8 bytes. */
export function byteLength(s: string): number {
  // Fast path: all ASCII.
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Go orders strings by their UTF-8 bytes; UTF-16 order differs only around surrogates. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && x < 0xe000 && y >= 0xd800 && y < 0xe000) return x - y;
      if (x >= 0xd800 && x < 0xe000) return y >= 0xe000 ? 1 : x - y;
      if (y >= 0xd800 && y < 0xe000) return x >= 0xe000 ? -1 : x - y;
      return x - y;
    }
  }
  return a.length - b.length;
}

export function sortedKeys(m: GoMap): string[] {
  return [...m.keys()].sort(compareGoStrings);
}

/**
 * Turns decoded JSON or any plain JavaScript data into template values: objects become Maps (so no
 * template reaches a prototype), integers stay float64 as encoding/json decodes them unless
 * `numbers` is 'json.Number' (Vault's API client), and functions or symbols are dropped.
 */
export function fromJs(value: unknown, numbers: 'float64' | 'json.Number' = 'float64', depth = 0): GoValue {
  if (depth > 200) throw new RangeError('data nested deeper than 200 levels');
  if (value === undefined || value === null) return null;
  if (value instanceof GoTyped || value instanceof Map) return value as GoValue;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return value;
    case 'number':
      return numbers === 'json.Number' ? jsonNumber(goJsonNumberText(value)) : value;
    case 'object': {
      if (Array.isArray(value)) return value.map((v) => fromJs(v, numbers, depth + 1));
      if (Buffer.isBuffer(value)) return value.toString('utf8');
      const m: GoMap = new Map();
      for (const key of Object.keys(value))
        m.set(key, fromJs((value as Record<string, unknown>)[key], numbers, depth + 1));
      return m;
    }
    default:
      return null;
  }
}

/** The text json.Number holds for a number that came from JSON (its source digits; best effort here). */
function goJsonNumberText(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? BigInt(n).toString() : String(n);
}

/** Turns template values back into plain JSON-able JavaScript (for toJson and callers). */
export function toJs(v: GoValue): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v;
  if (Array.isArray(v)) return v.map(toJs);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, toJs(x)]));
  if (v instanceof GoTyped) return v.value;
  return v;
}

/**
 * Decodes JSON text as Go's encoding/json decodes it into interface{}: objects → maps, numbers →
 * float64, or json.Number (their exact source text) when `numbers` is 'json.Number' (UseNumber, as
 * Vault's API client decodes responses).
 */
export function fromJson(text: string, numbers: 'float64' | 'json.Number' = 'float64'): GoValue {
  if (numbers === 'float64') return fromJs(JSON.parse(text));
  const parsed: unknown = JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' ? jsonNumber(context?.source ?? String(value)) : value,
  );
  return fromJs(parsed, 'float64');
}
