// Conversions the Go function libraries use on interface{} arguments: spf13/cast's ToInt64/ToFloat64
// (what sprig's math uses), sprig's strval/strslice/empty, and JSON encoding as encoding/json does it.
import { goJsonNumber, goJsonString } from '../../encoding/index.ts';
import { sprintf } from '../fmt.ts';
import { GoTyped, type GoValue, kindOf, sortedKeys, stringOf, typeName, typed } from '../values.ts';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Go's int64(f) for a float64 (truncation; out of range wraps as amd64 does: to INT64_MIN). */
export function floatToInt64(f: number): bigint {
  if (!Number.isFinite(f) || f >= 2 ** 63 || f < -(2 ** 63)) return INT64_MIN;
  return BigInt(Math.trunc(f));
}

function parseIntBase0(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (m === null) return undefined;
  let body = (m[2] as string).replaceAll('_', '');
  let base = 10n;
  if (/^0[xX]/.test(body)) {
    base = 16n;
    body = body.slice(2);
  } else if (/^0[oO]/.test(body)) {
    base = 8n;
    body = body.slice(2);
  } else if (/^0[bB]/.test(body)) {
    base = 2n;
    body = body.slice(2);
  } else if (body.length > 1 && body.startsWith('0')) {
    base = 8n;
    body = body.slice(1);
  }
  if (body === '') return base === 8n ? 0n : undefined;
  let v = 0n;
  for (const d of body) v = v * base + BigInt(parseInt(d, Number(base)));
  v = m[1] === '-' ? -v : v;
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/** cast.ToInt64: ints, floats (truncated), numeric strings (base prefixes, "1.0"), bools; else 0. */
export function toInt64(v: GoValue): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return floatToInt64(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (v instanceof GoTyped && (v.kind === 'int' || v.kind === 'uint')) return v.value as bigint;
  if (v instanceof GoTyped && v.kind === 'float') return floatToInt64(v.value as number);
  const s = stringOf(v);
  if (s !== undefined) {
    const trimmed = s.includes('.') ? s.replace(/\.0*$/, '') : s;
    return parseIntBase0(trimmed) ?? 0n;
  }
  return 0n;
}

/** cast.ToFloat64. */
export function toFloat64(v: GoValue): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof GoTyped && (v.kind === 'int' || v.kind === 'uint')) return Number(v.value);
  if (v instanceof GoTyped && v.kind === 'float') return v.value as number;
  const s = stringOf(v);
  if (s !== undefined) {
    const t = s.replaceAll('_', '');
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?(inf|infinity|nan)$/i.test(t)) {
      const f = /nan/i.test(t) ? NaN : /inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t);
      return Number.isFinite(f) || /inf|nan/i.test(t) ? f : 0;
    }
    return 0;
  }
  return 0;
}

/** sprig's strval: strings as they are, anything else through fmt's %v. */
export function strval(v: GoValue): string {
  const s = stringOf(v);
  if (s !== undefined) return s;
  return sprintf('%v', [v]);
}

/** sprig's strslice: a list of strings from a list (nils dropped) or one value. */
export function strslice(v: GoValue): string[] {
  if (Array.isArray(v)) {
    if (typeName(v) === '[]string') return v as string[];
    return v.filter((x) => x !== null && x !== undefined).map(strval);
  }
  if (v === null || v === undefined) return [];
  return [strval(v)];
}

/** sprig's empty: Go's zero values (and nil) are empty. */
export function empty(v: GoValue): boolean {
  if (v === undefined || v === null) return true;
  switch (kindOf(v)) {
    case 'slice':
      return (v as GoValue[]).length === 0;
    case 'map':
      return (v as Map<string, GoValue>).size === 0;
    case 'string':
      return (stringOf(v) as string).length === 0;
    case 'bool':
      return v === false;
    case 'int':
    case 'uint':
      return (typeof v === 'bigint' ? v : (v as GoTyped).value) === 0n;
    case 'float':
      return (typeof v === 'number' ? v : (v as GoTyped).value) === 0;
    default:
      return false;
  }
}

/** Go's reflect.DeepEqual over template values. */
export function deepEqual(a: GoValue, b: GoValue): boolean {
  if (a === b) return true;
  if (typeName(a) !== typeName(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a instanceof Map && b instanceof Map)
    return a.size === b.size && [...a].every(([k, x]) => b.has(k) && deepEqual(x, b.get(k)));
  if (a instanceof GoTyped && b instanceof GoTyped) return a.value === b.value;
  return typeof a === 'number' && typeof b === 'number' ? a === b : false;
}

/** A deep copy (maps and lists copied; scalars shared). */
export function deepCopy(v: GoValue): GoValue {
  if (Array.isArray(v)) {
    const out = v.map(deepCopy);
    return typeName(v) === '[]interface {}' ? out : typed(out, typeName(v));
  }
  if (v instanceof Map) {
    const out: Map<string, GoValue> = new Map([...v].map(([k, x]) => [k, deepCopy(x)]));
    return typeName(v) === 'map[string]interface {}' ? out : typed(out, typeName(v));
  }
  return v;
}

export interface JsonOptions {
  escapeHTML: boolean;
  indent?: string;
}

/** encoding/json.Marshal of a template value (maps sorted, json.Number as its text). */
export function marshalJson(v: GoValue, options: JsonOptions = { escapeHTML: true }, depth = 0): string {
  const str = (s: string): string => {
    const encoded = goJsonString(s);
    return options.escapeHTML
      ? encoded
      : encoded
          .replace(/\\u003c/g, '<')
          .replace(/\\u003e/g, '>')
          .replace(/\\u0026/g, '&');
  };
  const nl = options.indent === undefined ? '' : `\n${options.indent.repeat(depth + 1)}`;
  const close = options.indent === undefined ? '' : `\n${options.indent.repeat(depth)}`;
  const colon = options.indent === undefined ? ':' : ': ';
  if (v === undefined || v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${sprintf('%v', [v])}`);
      return goJsonNumber(v);
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[${v.map((x) => nl + marshalJson(x, options, depth + 1)).join(',')}${close}]`;
  }
  if (v instanceof Map) {
    if (v.size === 0) return '{}';
    return `{${sortedKeys(v)
      .map((k) => `${nl}${str(k)}${colon}${marshalJson(v.get(k), options, depth + 1)}`)
      .join(',')}${close}}`;
  }
  if (v.type === 'json.Number') return (v.value as string) === '' ? '0' : (v.value as string);
  if (v.kind === 'string') return str(v.value as string);
  if (v.kind === 'int' || v.kind === 'uint') return (v.value as bigint).toString();
  if (v.kind === 'float') return goJsonNumber(v.value as number);
  return '{}';
}
