// text/template's predefined functions with Go's comparison rules and error texts.
import { GoFuncError } from './errors.ts';
import { sprint, sprintf, sprintln } from './fmt.ts';
import { type FuncMap, type GoFunction, fn } from './func.ts';
import {
  GoTyped,
  type GoValue,
  byteLength,
  compareGoStrings,
  floatOf,
  intOf,
  kindOf,
  stringOf,
  truthOf,
  typeName,
  typed,
} from './values.ts';

type BasicKind = 'bool' | 'int' | 'uint' | 'float' | 'string' | 'invalid';

function basicKind(v: GoValue): BasicKind {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'uint' || k === 'float' || k === 'string' ? k : 'invalid';
}

const incompatible = (a: GoValue, b: GoValue): GoFuncError =>
  new GoFuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);

const isNilish = (v: GoValue): boolean => v === undefined || v === null;

function eq(arg1: GoValue, ...rest: GoValue[]): boolean {
  if (rest.length === 0) throw new GoFuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') truth = (intOf(arg1) as bigint) >= 0n && intOf(arg1) === intOf(arg);
      else if (k1 === 'uint' && k2 === 'int') truth = (intOf(arg) as bigint) >= 0n && intOf(arg1) === intOf(arg);
      // A nil interface is no value once eq looks inside it (indirectInterface).
      else if (!isNilish(arg1) && !isNilish(arg)) throw incompatible(arg1, arg);
    } else {
      switch (k1) {
        case 'bool':
          truth = arg1 === arg;
          break;
        case 'float':
          truth = floatOf(arg1) === floatOf(arg);
          break;
        case 'int':
        case 'uint':
          truth = intOf(arg1) === intOf(arg);
          break;
        case 'string':
          truth = stringOf(arg1) === stringOf(arg);
          break;
        default:
          if (isNilish(arg1) || isNilish(arg)) truth = isNilish(arg1) === isNilish(arg);
          else if (typeName(arg1) !== typeName(arg)) {
            // Go's message prints the first value with %s where its type belongs; kept as Go has it.
            throw new GoFuncError(
              `non-comparable types ${sprintf('%s', [arg1])}: ${typeName(arg1)}, ${typeName(arg)}: ${sprint([arg])}`,
              `non-comparable types ${typeName(arg1)}, ${typeName(arg)}`,
            );
          } else
            throw new GoFuncError(
              `non-comparable type ${sprint([arg1])}: ${typeName(arg1)}`,
              `non-comparable type ${typeName(arg1)}`,
            );
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: GoValue, arg2: GoValue): boolean {
  const k1 = basicKind(arg1);
  if (k1 === 'invalid') throw new GoFuncError('invalid type for comparison');
  const k2 = basicKind(arg2);
  if (k2 === 'invalid') throw new GoFuncError('invalid type for comparison');
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint')
      return (intOf(arg1) as bigint) < 0n || (intOf(arg1) as bigint) < (intOf(arg2) as bigint);
    if (k1 === 'uint' && k2 === 'int')
      return (intOf(arg2) as bigint) >= 0n && (intOf(arg1) as bigint) < (intOf(arg2) as bigint);
    throw incompatible(arg1, arg2);
  }
  switch (k1) {
    case 'bool':
      throw new GoFuncError('invalid type for comparison');
    case 'float':
      return (floatOf(arg1) as number) < (floatOf(arg2) as number);
    case 'int':
    case 'uint':
      return (intOf(arg1) as bigint) < (intOf(arg2) as bigint);
    default:
      return compareGoStrings(stringOf(arg1) as string, stringOf(arg2) as string) < 0;
  }
}

const le = (a: GoValue, b: GoValue): boolean => lt(a, b) || eq(a, b);

function lengthOf(item: GoValue): bigint {
  if (item === null) throw new GoFuncError('len of nil pointer');
  // Go reaches reflect with no value here and reports reflect's panic.
  if (item === undefined) throw new GoFuncError('reflect: call of reflect.Value.Type on zero Value', 'len of no value');
  const s = stringOf(item);
  if (s !== undefined) return BigInt(byteLength(s));
  if (Array.isArray(item)) return BigInt(item.length);
  if (item instanceof Map) return BigInt(item.size);
  throw new GoFuncError(`len of type ${typeName(item)}`);
}

function indexArg(index: GoValue, cap: number): number {
  const k = kindOf(index);
  if (k === 'int' || k === 'uint') {
    const x = intOf(index) as bigint;
    if (x < 0n || x > BigInt(cap)) throw new GoFuncError(`index out of range: ${x}`);
    return Number(x);
  }
  if (index === undefined || index === null) throw new GoFuncError('cannot index slice/array with nil');
  throw new GoFuncError(`cannot index slice/array with type ${typeName(index)}`);
}

/** A string indexed by position in Go is its UTF-8 bytes. */
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

function index(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === undefined || item === null) throw new GoFuncError('index of untyped nil');
  let current: GoValue = item;
  for (const idx of indexes) {
    if (current === null) throw new GoFuncError('index of nil pointer');
    const s = stringOf(current);
    if (s !== undefined || Array.isArray(current)) {
      const len: number = s !== undefined ? byteLength(s) : (current as GoValue[]).length;
      const x = indexArg(idx, len);
      if (x === len) throw new GoFuncError(`reflect: ${s !== undefined ? 'string' : 'slice'} index out of range`);
      current = s !== undefined ? new GoTyped('uint8', 'uint', BigInt(utf8(s)[x] ?? 0)) : (current as GoValue[])[x];
      continue;
    }
    if (current instanceof Map) {
      const key = stringOf(idx);
      if (idx === undefined || idx === null) throw new GoFuncError('value is nil; should be of type string');
      if (key === undefined || idx instanceof GoTyped)
        throw new GoFuncError(`value has type ${typeName(idx)}; should be string`);
      current = current.has(key) ? current.get(key) : null;
      continue;
    }
    throw new GoFuncError(`can't index item of type ${typeName(current)}`);
  }
  return current;
}

function slice(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === undefined || item === null) throw new GoFuncError('slice of untyped nil');
  if (indexes.length > 3) throw new GoFuncError(`too many slice indexes: ${indexes.length}`);
  const s = stringOf(item);
  let len: number;
  if (s !== undefined) {
    if (indexes.length === 3) throw new GoFuncError('cannot 3-index slice a string');
    len = byteLength(s);
  } else if (Array.isArray(item)) len = item.length;
  else throw new GoFuncError(`can't slice item of type ${typeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(x, len);
  });
  const [i, j, k] = idx as [number, number, number];
  if (i > j) throw new GoFuncError(`invalid slice index: ${i} > ${j}`);
  if (indexes.length === 3 && j > k) throw new GoFuncError(`invalid slice index: ${j} > ${k}`);
  if (s !== undefined) {
    const out = utf8(s).subarray(i, j).toString('utf8');
    return item instanceof GoTyped ? new GoTyped(item.type, 'string', out) : out;
  }
  const out = (item as GoValue[]).slice(i, j);
  return typeName(item) === '[]interface {}' ? out : typed(out, typeName(item));
}

/** evalArgs of text/template: one string argument is used as is, anything else goes through Sprint. */
function argsString(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) =>
    c === '<'
      ? '&lt;'
      : c === '>'
        ? '&gt;'
        : c === '&'
          ? '&amp;'
          : c === "'"
            ? '&#39;'
            : c === '"'
              ? '&#34;'
              : '\ufffd',
  );
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) {
      out += cp < 0x20 ? `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}` : ch;
      continue;
    }
    out += PRINTABLE.test(ch) ? ch : `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The builtins except and/or/call, which the executor evaluates itself (short-circuit, callee). */
export const BUILTINS: FuncMap = new Map<string, GoFunction>([
  ['and', fn(['value'], () => null, 'value')],
  ['or', fn(['value'], () => null, 'value')],
  ['call', fn(['value'], () => null, 'value')],
  ['not', fn(['value'], (a) => !truthOf(a))],
  ['len', fn(['value'], (a) => lengthOf(a))],
  ['index', fn(['value'], index, 'value')],
  ['slice', fn(['value'], slice, 'value')],
  ['print', fn([], (...a) => sprint(a), 'any')],
  ['printf', fn(['string'], (f, ...a) => sprintf(f as string, a), 'any')],
  ['println', fn([], (...a) => sprintln(a), 'any')],
  ['eq', fn(['value'], eq, 'value')],
  ['ne', fn(['value', 'value'], (a, b) => !eq(a, b))],
  ['lt', fn(['value', 'value'], lt)],
  ['le', fn(['value', 'value'], le)],
  ['gt', fn(['value', 'value'], (a, b) => !le(a, b))],
  ['ge', fn(['value', 'value'], (a, b) => !lt(a, b))],
  ['html', fn([], (...a) => htmlEscape(argsString(a)), 'any')],
  ['js', fn([], (...a) => jsEscape(argsString(a)), 'any')],
  ['urlquery', fn([], (...a) => queryEscape(argsString(a)), 'any')],
]);
