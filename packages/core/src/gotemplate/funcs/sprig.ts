// Sprig v3.3.0's functions (github.com/Masterminds/sprig), written here from its documented
// behaviour and checked byte for byte against the Go library by the conformance corpus. The
// non-hermetic ones (env, now, random, network) are not here: no function set we serve includes them.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { GoFuncError } from '../errors.ts';
import { sprintf } from '../fmt.ts';
import { type FuncMap, type GoFunction, fn } from '../func.ts';
import { GoTyped, type GoMap, type GoValue, sortedKeys, typeName, typed } from '../values.ts';
import { deepCopy, deepEqual, empty, marshalJson, strslice, strval, toFloat64, toInt64 } from './convert.ts';
import { compileGoRegexp, findAllIndex, goReplaceAll, goSplit, quoteMeta } from './goregexp.ts';
import { goToLower, goToUpper, lowerRune, titleRune, upperRune } from './unicase.ts';
import { fromJson } from '../values.ts';

const i64 = (v: bigint): GoTyped => new GoTyped('int64', 'int', BigInt.asIntN(64, v));
const strings = (list: string[]): string[] => typed(list, '[]string');
const stringMap = (m: Map<string, GoValue>): GoMap => typed(m, 'map[string]string');
const s = (v: GoValue): string => v as string;
const n = (v: GoValue): number => Number(v as bigint);

/** reflect.Kind's name, as sprig's kindOf prints it. */
export function goKind(v: GoValue): string {
  if (v === undefined || v === null) return 'invalid';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'slice';
  if (v instanceof Map) return 'map';
  if (v.type === 'json.Number') return 'string';
  if (v.type === 'uint8') return 'uint8';
  return v.kind === 'int' ? v.type : v.kind === 'float' ? 'float64' : v.kind;
}

/** A Go runtime panic inside a function, as text/template reports it. */
const panicOf = (message: string): GoFuncError => new GoFuncError(message);

// --- strings -------------------------------------------------------------------------------------

const byteLen = (x: string): number => Buffer.byteLength(x, 'utf8');
const byteSlice = (x: string, start: number, end?: number): string =>
  Buffer.from(x, 'utf8').subarray(start, end).toString('utf8');

function abbreviate(str: string, maxWidth: number): string {
  if (str === '') return '';
  if (byteLen(str) <= maxWidth) return str;
  return `${byteSlice(str, 0, maxWidth - 3)}...`;
}

function abbreviateFull(str: string, offset: number, maxWidth: number): string {
  if (str === '') return '';
  const len = byteLen(str);
  if (len <= maxWidth) return str;
  if (offset > len) offset = len;
  if (len - offset < maxWidth - 3) offset = len - (maxWidth - 3);
  if (offset <= 4) return `${byteSlice(str, 0, maxWidth - 3)}...`;
  if (maxWidth < 7) return '';
  if (offset + maxWidth - 3 < len) return `...${abbreviate(byteSlice(str, offset), maxWidth - 3)}`;
  return `...${byteSlice(str, len - (maxWidth - 3))}`;
}

const isGoSpace = (c: string): boolean =>
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(c);

/** strings.Title: upper-cases the first letter of each word (separators: spaces, ASCII punctuation). */
function title(str: string): string {
  let prev = ' ';
  let out = '';
  for (const c of str) {
    const sep = /^[A-Za-z0-9_]$/.test(prev)
      ? false
      : prev.charCodeAt(0) < 0x80
        ? true
        : /^[\p{L}\p{Nd}]$/u.test(prev)
          ? false
          : isGoSpace(prev);
    out += sep ? titleRune(c) : c;
    prev = c;
  }
  return out;
}

function untitle(str: string): string {
  let out = '';
  let atWordStart = true;
  for (const c of str) {
    if (isGoSpace(c)) {
      atWordStart = true;
      out += c;
    } else if (atWordStart) {
      out += lowerRune(c);
      atWordStart = false;
    } else out += c;
  }
  return out;
}

/** goutils.Initials walks the string's bytes, not its runes: a byte ≥ 0x80 comes out as that Latin-1 letter. */
function initials(str: string): string {
  let out = '';
  let last = true;
  for (const byte of Buffer.from(str, 'utf8')) {
    const isSpace = (byte >= 0x09 && byte <= 0x0d) || byte === 0x20 || byte === 0x85 || byte === 0xa0;
    if (isSpace) last = true;
    else if (last) {
      out += String.fromCharCode(byte);
      last = false;
    }
  }
  return out;
}

function swapcase(str: string): string {
  let out = '';
  for (const c of str) {
    const lower = lowerRune(c);
    const upper = upperRune(c);
    out += c !== lower ? lower : c !== upper ? upper : c;
  }
  return out;
}

/** goutils.WrapCustom(str, wrapLength, newLine, wrapLongWords). */
function wrapCustom(str: string, wrapLength: number, newLine: string, wrapLongWords: boolean): string {
  if (str === '') return '';
  if (newLine === '') newLine = '\n';
  if (wrapLength < 1) wrapLength = 1;
  const inputLineLength = str.length;
  let offset = 0;
  let out = '';
  while (inputLineLength - offset > wrapLength) {
    if (str[offset] === ' ') {
      offset++;
      continue;
    }
    const end = wrapLength + offset + 1;
    let spaceToWrapAt = str.slice(offset, end).lastIndexOf(' ') + offset;
    if (spaceToWrapAt >= offset) {
      out += str.slice(offset, spaceToWrapAt) + newLine;
      offset = spaceToWrapAt + 1;
    } else if (wrapLongWords) {
      out += str.slice(offset, wrapLength + offset) + newLine;
      offset += wrapLength;
    } else {
      const idx = str.slice(wrapLength + offset).indexOf(' ');
      spaceToWrapAt = idx + wrapLength + offset;
      if (idx >= 0) {
        out += str.slice(offset, spaceToWrapAt) + newLine;
        offset = spaceToWrapAt + 1;
      } else {
        out += str.slice(offset);
        offset = inputLineLength;
      }
    }
  }
  return out + str.slice(offset);
}

/** xstrings-style word splitting for camelcase/snakecase/kebabcase. */
function words(str: string): string[] {
  return str
    .replace(/([\p{Ll}\p{Nd}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .split(/[^\p{L}\p{Nd}]+/u)
    .filter((w) => w.length > 0);
}

function seq(params: bigint[]): string {
  const nums = params.map(Number);
  let start = 1;
  let end: number;
  let step = 1;
  if (nums.length === 0) return '';
  if (nums.length === 1) {
    end = nums[0] as number;
    if (end === 0) return '';
    if (end < 0) step = -1;
  } else if (nums.length === 2) {
    start = nums[0] as number;
    end = nums[1] as number;
    if (end < start) step = -1;
  } else if (nums.length === 3) {
    start = nums[0] as number;
    step = nums[1] as number;
    end = nums[2] as number;
    if (end < start) {
      if (step > 0) return '';
    } else if (step < 0) return '';
  } else return '';
  const out: number[] = [];
  if (nums.length === 1 && end < 0) start = 1;
  const stop = step > 0 ? end + 1 : end - 1;
  for (const v of untilStep(start, stop, step)) out.push(v);
  return out.join(' ');
}

function untilStep(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  if (stop < start) {
    if (step >= 0) return out;
    for (let i = start; i > stop; i += step) out.push(i);
    return out;
  }
  if (step <= 0) return out;
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

// --- lists and dicts -------------------------------------------------------------------------------

const asList = (list: GoValue, op: string): GoValue[] => {
  if (Array.isArray(list)) return [...list];
  throw new GoFuncError(`Cannot ${op} type ${goKind(list)}`);
};

function inList(haystack: GoValue[], needle: GoValue): boolean {
  return haystack.some((h) => deepEqual(h, needle));
}

function dictOf(v: GoValue): GoMap {
  return v instanceof Map ? v : new Map();
}

/** mergo.Merge on maps: nested maps merge; a key is set when absent or empty, or always with override. */
function mergeInto(dst: GoMap, src: GoMap, overwrite: boolean): void {
  for (const [k, v] of src) {
    const existing = dst.get(k);
    if (existing instanceof Map && v instanceof Map) mergeInto(existing, v, overwrite);
    else if (overwrite || !dst.has(k) || empty(existing as GoValue)) dst.set(k, v);
  }
}

// --- time ------------------------------------------------------------------------------------------

const NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  μs: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** time.ParseDuration; undefined on bad syntax. */
export function parseGoDuration(text: string): bigint | undefined {
  let rest = text;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0;
  while (rest.length > 0) {
    const m = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (m === null || m[1] === '' || m[1] === '.') return undefined;
    total += Number(m[1]) * Number(NS[m[2] as string]);
    rest = rest.slice(m[0].length);
  }
  const v = BigInt(Math.round(total));
  return neg ? -v : v;
}

/** time.Duration.String. */
export function formatGoDuration(d: bigint): string {
  if (d === 0n) return '0s';
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  if (u < 1_000_000_000n) {
    const units: [bigint, string][] = [
      [1_000_000n, 'ms'],
      [1000n, 'µs'],
      [1n, 'ns'],
    ];
    const [size, unit] = units.find(([size]) => u >= size) as [bigint, string];
    out = fraction(u, size) + unit;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = `${h > 0n ? `${h}h` : ''}${h > 0n || m > 0n ? `${m}m` : ''}${fraction(u, 1_000_000_000n)}s`;
  }
  return neg ? `-${out}` : out;
}

function fraction(v: bigint, unit: bigint): string {
  const whole = v / unit;
  const frac = v % unit;
  if (frac === 0n) return whole.toString();
  const digits = unit.toString().length - 1;
  return `${whole}.${frac.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}

function durationRound(v: GoValue): string {
  let d = 0n;
  if (typeof v === 'string') d = parseGoDuration(v) ?? 0n;
  else if (v instanceof GoTyped && v.type === 'int64') d = v.value as bigint;
  let u = d < 0n ? -d : d;
  u = BigInt.asUintN(64, u);
  const second = 1_000_000_000n;
  const minute = 60n * second;
  const hour = 60n * minute;
  const day = 24n * hour;
  const month = 30n * day;
  const year = 365n * day;
  if (u > year) return `${u / year}y`;
  if (u > month) return `${u / month}mo`;
  if (u > day) return `${u / day}d`;
  if (u > hour) return `${u / hour}h`;
  if (u > minute) return `${u / minute}m`;
  if (u > second) return `${u / second}s`;
  return '0s';
}

// --- decimal math for addf & co (shopspring/decimal from each float's shortest digits) ---------------

interface Dec {
  coef: bigint;
  exp: number;
}

function decOf(f: number): Dec {
  if (f === 0) return { coef: 0n, exp: 0 };
  const [mant, e] = Math.abs(f).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(e) - (digits.length - 1);
  const coef = BigInt(digits) * (f < 0 ? -1n : 1n);
  return { coef, exp };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const exp = Math.min(a.exp, b.exp);
  return [a.coef * 10n ** BigInt(a.exp - exp), b.coef * 10n ** BigInt(b.exp - exp), exp];
}

const decToFloat = (d: Dec): number => Number(`${d.coef}e${d.exp}`);

function decDiv(a: Dec, b: Dec): Dec {
  if (b.coef === 0n) throw panicOf('decimal division by 0');
  // shopspring: DivRound(d2, 16): quotient rounded half away from zero at 16 fractional digits.
  const precision = 16;
  const scale = precision + 1;
  let num = a.coef;
  const den = b.coef;
  let exp = a.exp - b.exp;
  num *= 10n ** BigInt(scale + exp + 64);
  exp = -(scale + 64);
  const q = num / den;
  let value: Dec = { coef: q, exp };
  // Round to `precision` fractional digits, half away from zero.
  const drop = -value.exp - precision;
  if (drop > 0) {
    const p = 10n ** BigInt(drop);
    const neg = value.coef < 0n;
    let abs = neg ? -value.coef : value.coef;
    const rem = abs % p;
    abs /= p;
    if (rem * 2n >= p) abs += 1n;
    value = { coef: neg ? -abs : abs, exp: -precision };
  }
  void den;
  return value;
}

function decimalOp(args: GoValue[], op: (a: Dec, b: Dec) => Dec, start: GoValue): number {
  let acc = decOf(toFloat64(start));
  for (const x of args) acc = op(acc, decOf(toFloat64(x)));
  return decToFloat(acc);
}

const decAdd = (a: Dec, b: Dec): Dec => {
  const [x, y, exp] = align(a, b);
  return { coef: x + y, exp };
};
const decSub = (a: Dec, b: Dec): Dec => {
  const [x, y, exp] = align(a, b);
  return { coef: x - y, exp };
};
const decMul = (a: Dec, b: Dec): Dec => ({ coef: a.coef * b.coef, exp: a.exp + b.exp });

// --- the map ---------------------------------------------------------------------------------------

function goRound(a: GoValue, p: GoValue, rOpt: GoValue[]): number {
  const roundOn = rOpt.length > 0 ? (rOpt[0] as number) : 0.5;
  const val = toFloat64(a);
  const pow = 10 ** Number(p as bigint);
  const digit = pow * val;
  const frac = digit - Math.trunc(digit);
  const r = frac >= roundOn ? Math.ceil(digit) : Math.floor(digit);
  return r / pow;
}

function dig(args: GoValue[]): GoValue {
  if (args.length < 3) throw panicOf('dig needs at least three arguments');
  const dict = args[args.length - 1];
  if (!(dict instanceof Map))
    throw panicOf(`interface conversion: interface {} is ${typeName(dict)}, not map[string]interface {}`);
  const def = args[args.length - 2];
  const keys = args.slice(0, -2).map((k) => {
    if (typeof k !== 'string') throw panicOf(`interface conversion: interface {} is ${typeName(k)}, not string`);
    return k;
  });
  let current: GoMap = dict;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (!current.has(k)) return def;
    const step = current.get(k);
    if (i === keys.length - 1) return step;
    if (!(step instanceof Map))
      throw panicOf(`interface conversion: interface {} is ${typeName(step)}, not map[string]interface {}`);
    current = step;
  }
  return def;
}

function hashHex(algorithm: string, input: string): string {
  return createHash(algorithm).update(input, 'utf8').digest('hex');
}

function adler32(input: string): string {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(input, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return String((b * 65536 + a) >>> 0);
}

const b64decode = (v: string, alphabet: 'base64' | 'base64url', pad: boolean): string => {
  const re = alphabet === 'base64' ? /^[A-Za-z0-9+/]*$/ : /^[A-Za-z0-9_-]*$/;
  const body = pad ? v.replace(/=+$/, '') : v;
  const bad = [...v.replace(/[\r\n]/g, '')].findIndex((c, i, all) =>
    c === '=' ? !pad || i < body.length || all.length % 4 !== 0 : !re.test(c),
  );
  if (bad >= 0 || (pad && v.length % 4 !== 0) || body.length % 4 === 1) {
    const at = bad >= 0 ? bad : Math.max(0, v.length - (v.length % 4 || 4));
    throw new GoFuncError(`illegal base64 data at input byte ${at}`);
  }
  return Buffer.from(body, alphabet).toString('utf8');
};

function base32Encode(input: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = Buffer.from(input, 'utf8');
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function base32Decode(input: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = input.replace(/[\r\n]/g, '');
  if (clean.length % 8 !== 0)
    throw new GoFuncError(`illegal base32 data at input byte ${clean.length - (clean.length % 8)}`);
  const body = clean.replace(/=+$/, '');
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < body.length; i++) {
    const idx = alphabet.indexOf(body[i] as string);
    if (idx < 0) throw new GoFuncError(`illegal base32 data at input byte ${i}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** sprig's functions that decode or fail return the error text itself (b64dec of junk prints it). */
const orErrorText = (f: () => string): string => {
  try {
    return f();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
};

function urlParse(v: string): GoMap {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new GoFuncError(`unable to parse url: parse ${JSON.stringify(v)}: invalid URL`);
  }
  return new Map<string, GoValue>([
    ['scheme', u.protocol.replace(/:$/, '')],
    ['host', u.host],
    ['hostname', u.hostname],
    ['path', decodeURIComponent(u.pathname)],
    ['query', u.search.replace(/^\?/, '')],
    ['opaque', ''],
    ['fragment', decodeURIComponent(u.hash.replace(/^#/, ''))],
    ['userinfo', u.username === '' ? '' : u.password === '' ? u.username : `${u.username}:${u.password}`],
  ]);
}

function urlJoin(d: GoMap): string {
  const get = (k: string): string => strval(d.get(k) ?? '');
  let out = '';
  const scheme = get('scheme');
  if (scheme !== '') out += `${scheme}:`;
  const host = get('host');
  const userinfo = get('userinfo');
  if (host !== '' || userinfo !== '') out += `//${userinfo === '' ? '' : `${userinfo}@`}${host}`;
  const p = get('path');
  if (p !== '' && !p.startsWith('/') && out !== '') out += '/';
  out += encodeURI(p).replace(/%5B/g, '[').replace(/%5D/g, ']');
  const q = get('query');
  if (q !== '') out += `?${q}`;
  const f = get('fragment');
  if (f !== '') out += `#${encodeURIComponent(f)}`;
  return out;
}

const ENTRIES: [string, GoFunction][] = [
  // strings
  ['abbrev', fn(['int', 'string'], (w, str) => (n(w) < 4 ? s(str) : abbreviate(s(str), n(w))))],
  [
    'abbrevboth',
    fn(['int', 'int', 'string'], (l, r, str) =>
      n(r) < 4 || (n(l) > 0 && n(r) < 7) ? s(str) : abbreviateFull(s(str), n(l), n(r)),
    ),
  ],
  [
    'trunc',
    fn(['int', 'string'], (c, str) => {
      const len = byteLen(s(str));
      const k = n(c);
      if (k < 0 && len + k > 0) return byteSlice(s(str), len + k);
      if (k >= 0 && len > k) return byteSlice(s(str), 0, k);
      return s(str);
    }),
  ],
  [
    'substr',
    fn(['int', 'int', 'string'], (a, b, str) => {
      const start = n(a);
      const end = n(b);
      const len = byteLen(s(str));
      if (start < 0) {
        if (end > len || end < 0)
          throw panicOf(`runtime error: slice bounds out of range [:${end}] with length ${len}`);
        return byteSlice(s(str), 0, end);
      }
      if (end < 0 || end > len) {
        if (start > len) throw panicOf(`runtime error: slice bounds out of range [${start}:${len}]`);
        return byteSlice(s(str), start);
      }
      if (start > end) throw panicOf(`runtime error: slice bounds out of range [${start}:${end}]`);
      return byteSlice(s(str), start, end);
    }),
  ],
  [
    'repeat',
    fn(['int', 'string'], (c, str) => {
      if (n(c) < 0) throw panicOf('strings: negative Repeat count');
      return s(str).repeat(n(c));
    }),
  ],
  [
    'replace',
    fn(['string', 'string', 'string'], (o, nw, src) =>
      s(o) === '' ? [...s(src)].reduce((acc, c) => acc + c + s(nw), s(nw)) : s(src).split(s(o)).join(s(nw)),
    ),
  ],
  ['plural', fn(['string', 'string', 'int'], (one, many, c) => (c === 1n ? one : many))],
  [
    'quote',
    fn(
      [],
      (...v) =>
        v
          .filter((x) => x !== null && x !== undefined)
          .map((x) => sprintf('%q', [strval(x)]))
          .join(' '),
      'any',
    ),
  ],
  [
    'squote',
    fn(
      [],
      (...v) =>
        v
          .filter((x) => x !== null && x !== undefined)
          .map((x) => `'${strval(x)}'`)
          .join(' '),
      'any',
    ),
  ],
  [
    'cat',
    fn(
      [],
      (...v) => {
        const kept = v.filter((x) => x !== null && x !== undefined);
        return sprintf(Array(kept.length).fill('%v').join(' '), kept);
      },
      'any',
    ),
  ],
  [
    'indent',
    fn(['int', 'string'], (c, v) => {
      const pad = ' '.repeat(Math.max(0, n(c)));
      return pad + s(v).replaceAll('\n', `\n${pad}`);
    }),
  ],
  [
    'nindent',
    fn(['int', 'string'], (c, v) => {
      const pad = ' '.repeat(Math.max(0, n(c)));
      return `\n${pad}${s(v).replaceAll('\n', `\n${pad}`)}`;
    }),
  ],
  ['lower', fn(['string'], (v) => goToLower(s(v)))],
  ['upper', fn(['string'], (v) => goToUpper(s(v)))],
  ['title', fn(['string'], (v) => title(s(v)))],
  ['untitle', fn(['string'], (v) => untitle(s(v)))],
  ['initials', fn(['string'], (v) => initials(s(v)))],
  ['swapcase', fn(['string'], (v) => swapcase(s(v)))],
  [
    'camelcase',
    fn(['string'], (v) =>
      words(s(v))
        .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1).toLowerCase())
        .join(''),
    ),
  ],
  [
    'snakecase',
    fn(['string'], (v) =>
      words(s(v))
        .map((w) => w.toLowerCase())
        .join('_'),
    ),
  ],
  [
    'kebabcase',
    fn(['string'], (v) =>
      words(s(v))
        .map((w) => w.toLowerCase())
        .join('-'),
    ),
  ],
  ['wrap', fn(['int', 'string'], (l, v) => wrapCustom(s(v), n(l), '\n', true))],
  ['wrapWith', fn(['int', 'string', 'string'], (l, sep, v) => wrapCustom(s(v), n(l), s(sep), true))],
  ['nospace', fn(['string'], (v) => [...s(v)].filter((c) => !isGoSpace(c)).join(''))],
  ['trim', fn(['string'], (v) => s(v).replace(/^[\s\u0085]+|[\s\u0085]+$/gu, ''))],
  ['trimAll', fn(['string', 'string'], (cut, v) => trimSet(s(v), s(cut)))],
  ['trimall', fn(['string', 'string'], (cut, v) => trimSet(s(v), s(cut)))],
  ['trimPrefix', fn(['string', 'string'], (p, v) => (s(v).startsWith(s(p)) ? s(v).slice(s(p).length) : s(v)))],
  [
    'trimSuffix',
    fn(['string', 'string'], (p, v) =>
      s(p) !== '' && s(v).endsWith(s(p)) ? s(v).slice(0, s(v).length - s(p).length) : s(v),
    ),
  ],
  ['contains', fn(['string', 'string'], (sub, v) => s(v).includes(s(sub)))],
  ['hasPrefix', fn(['string', 'string'], (p, v) => s(v).startsWith(s(p)))],
  ['hasSuffix', fn(['string', 'string'], (p, v) => s(v).endsWith(s(p)))],
  [
    'split',
    fn(['string', 'string'], (sep, orig) =>
      stringMap(new Map(goStringsSplit(s(orig), s(sep), -1).map((part, i) => [`_${i}`, part]))),
    ),
  ],
  [
    'splitn',
    fn(['string', 'int', 'string'], (sep, c, orig) =>
      stringMap(new Map(goStringsSplit(s(orig), s(sep), n(c)).map((part, i) => [`_${i}`, part]))),
    ),
  ],
  ['splitList', fn(['string', 'string'], (sep, orig) => strings(goStringsSplit(s(orig), s(sep), -1)))],
  ['join', fn(['string', 'any'], (sep, v) => strslice(v).join(s(sep)))],
  [
    'sortAlpha',
    fn(['any'], (v) => (Array.isArray(v) ? strings([...strslice(v)].sort(byteCompare)) : strings([strval(v)]))),
  ],
  ['toString', fn(['any'], (v) => strval(v))],
  ['toStrings', fn(['any'], (v) => strings([...strslice(v)]))],
  ['seq', fn([], (...p) => seq(p as bigint[]), 'int')],
  ['base', fn(['string'], (v) => path.posix.basename(s(v)) || (s(v) === '' ? '.' : '/'))],
  ['dir', fn(['string'], (v) => goDir(s(v)))],
  ['clean', fn(['string'], (v) => goClean(s(v)))],
  ['ext', fn(['string'], (v) => goExt(s(v)))],
  ['isAbs', fn(['string'], (v) => s(v).startsWith('/'))],
  ['osBase', fn(['string'], (v) => path.posix.basename(s(v)) || (s(v) === '' ? '.' : '/'))],
  ['osDir', fn(['string'], (v) => goDir(s(v)))],
  ['osClean', fn(['string'], (v) => goClean(s(v)))],
  ['osExt', fn(['string'], (v) => goExt(s(v)))],
  ['osIsAbs', fn(['string'], (v) => s(v).startsWith('/'))],
  // encodings and hashes
  ['b64enc', fn(['string'], (v) => Buffer.from(s(v), 'utf8').toString('base64'))],
  ['b64dec', fn(['string'], (v) => orErrorText(() => b64decode(s(v), 'base64', true)))],
  ['b32enc', fn(['string'], (v) => base32Encode(s(v)))],
  ['b32dec', fn(['string'], (v) => orErrorText(() => base32Decode(s(v))))],
  ['sha1sum', fn(['string'], (v) => hashHex('sha1', s(v)))],
  ['sha256sum', fn(['string'], (v) => hashHex('sha256', s(v)))],
  ['sha512sum', fn(['string'], (v) => hashHex('sha512', s(v)))],
  ['adler32sum', fn(['string'], (v) => adler32(s(v)))],
  // defaults and logic
  [
    'default',
    fn(['any'], (d, ...given) => (given.length === 0 || empty(given[0] as GoValue) ? d : (given[0] as GoValue)), 'any'),
  ],
  ['empty', fn(['any'], (v) => empty(v))],
  ['coalesce', fn([], (...v) => v.find((x) => !empty(x)) ?? null, 'any')],
  ['all', fn([], (...v) => v.every((x) => !empty(x)), 'any')],
  ['any', fn([], (...v) => v.some((x) => !empty(x)), 'any')],
  ['ternary', fn(['any', 'any', 'bool'], (t, f, c) => (c ? t : f))],
  [
    'fail',
    fn(['string'], (msg) => {
      throw new GoFuncError(s(msg), 'fail called');
    }),
  ],
  ['toJson', fn(['any'], (v) => orEmpty(() => marshalJson(v)))],
  ['mustToJson', fn(['any'], (v) => marshalJson(v))],
  ['toPrettyJson', fn(['any'], (v) => orEmpty(() => marshalJson(v, { escapeHTML: true, indent: '  ' })))],
  ['mustToPrettyJson', fn(['any'], (v) => marshalJson(v, { escapeHTML: true, indent: '  ' }))],
  ['toRawJson', fn(['any'], (v) => orEmpty(() => marshalJson(v, { escapeHTML: false })))],
  ['mustToRawJson', fn(['any'], (v) => marshalJson(v, { escapeHTML: false }))],
  [
    'fromJson',
    fn(['string'], (v) => {
      try {
        return fromJson(s(v));
      } catch {
        return null;
      }
    }),
  ],
  [
    'mustFromJson',
    fn(['string'], (v) => {
      try {
        return fromJson(s(v));
      } catch {
        throw new GoFuncError('invalid character in JSON input', 'invalid JSON');
      }
    }),
  ],
  ['typeOf', fn(['any'], (v) => (v === null ? '<nil>' : typeName(v)))],
  ['typeIs', fn(['string', 'any'], (t, v) => s(t) === (v === null ? '<nil>' : typeName(v)))],
  ['typeIsLike', fn(['string', 'any'], (t, v) => s(t) === typeName(v) || s(t) === `*${typeName(v)}`)],
  ['kindOf', fn(['any'], (v) => goKind(v))],
  ['kindIs', fn(['string', 'any'], (t, v) => s(t) === goKind(v))],
  ['deepEqual', fn(['any', 'any'], (a, b) => deepEqual(a, b))],
  [
    'deepCopy',
    fn(['any'], (v) => {
      if (v === null) throw panicOf('reflect: call of reflect.Value.Type on zero Value');
      return deepCopy(v);
    }),
  ],
  [
    'mustDeepCopy',
    fn(['any'], (v) => {
      if (v === null) throw new GoFuncError('copy: Must copy a non-nil value');
      return deepCopy(v);
    }),
  ],
  // math
  ['add', fn([], (...v) => i64(v.reduce<bigint>((a, x) => a + toInt64(x), 0n)), 'any')],
  ['add1', fn(['any'], (v) => i64(toInt64(v) + 1n))],
  ['sub', fn(['any', 'any'], (a, b) => i64(toInt64(a) - toInt64(b)))],
  ['mul', fn(['any'], (a, ...v) => i64(v.reduce<bigint>((acc, x) => acc * toInt64(x), toInt64(a))), 'any')],
  [
    'div',
    fn(['any', 'any'], (a, b) => {
      if (toInt64(b) === 0n) throw panicOf('runtime error: integer divide by zero');
      return i64(toInt64(a) / toInt64(b));
    }),
  ],
  [
    'mod',
    fn(['any', 'any'], (a, b) => {
      if (toInt64(b) === 0n) throw panicOf('runtime error: integer divide by zero');
      return i64(toInt64(a) % toInt64(b));
    }),
  ],
  [
    'max',
    fn(['any'], (a, ...v) => i64(v.reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a))), 'any'),
  ],
  [
    'biggest',
    fn(['any'], (a, ...v) => i64(v.reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a))), 'any'),
  ],
  [
    'min',
    fn(['any'], (a, ...v) => i64(v.reduce<bigint>((m, x) => (toInt64(x) < m ? toInt64(x) : m), toInt64(a))), 'any'),
  ],
  ['addf', fn([], (...v) => decimalOp(v, decAdd, 0), 'any')],
  ['add1f', fn(['any'], (v) => decimalOp([1], decAdd, v))],
  ['subf', fn(['any'], (a, ...v) => decimalOp(v, decSub, a), 'any')],
  ['mulf', fn(['any'], (a, ...v) => decimalOp(v, decMul, a), 'any')],
  ['divf', fn(['any'], (a, ...v) => decimalOp(v, decDiv, a), 'any')],
  ['maxf', fn(['any'], (a, ...v) => v.reduce<number>((m, x) => goMax(m, toFloat64(x)), toFloat64(a)), 'any')],
  ['minf', fn(['any'], (a, ...v) => v.reduce<number>((m, x) => goMin(m, toFloat64(x)), toFloat64(a)), 'any')],
  ['ceil', fn(['any'], (v) => Math.ceil(toFloat64(v)))],
  ['floor', fn(['any'], (v) => Math.floor(toFloat64(v)))],
  ['round', fn(['any', 'int'], (a, p, ...r) => goRound(a, p, r), 'float64')],
  [
    'atoi',
    fn(['string'], (v) =>
      /^[+-]?\d+$/.test(s(v)) && BigInt(s(v)) >= -(1n << 63n) && BigInt(s(v)) < 1n << 63n ? BigInt(s(v)) : 0n,
    ),
  ],
  ['int', fn(['any'], (v) => toInt64(v))],
  ['int64', fn(['any'], (v) => i64(toInt64(v)))],
  ['float64', fn(['any'], (v) => toFloat64(v))],
  [
    'toDecimal',
    fn(['any'], (v) => {
      const t = sprintf('%v', [v]);
      return i64(
        /^[+-]?[0-7]+$/.test(t) && BigInt(`0o${t.replace(/^[+-]/, '')}`) < 1n << 63n
          ? BigInt(`0o${t.replace(/^[+-]/, '')}`) * (t.startsWith('-') ? -1n : 1n)
          : 0n,
      );
    }),
  ],
  ['until', fn(['int'], (c) => typed(untilStep(0, n(c), n(c) >= 0 ? 1 : -1).map(BigInt), '[]int'))],
  ['untilStep', fn(['int', 'int', 'int'], (a, b, c) => typed(untilStep(n(a), n(b), n(c)).map(BigInt), '[]int'))],
  // lists
  ['list', fn([], (...v) => [...v], 'any')],
  ['tuple', fn([], (...v) => [...v], 'any')],
  ['push', fn(['any', 'any'], (l, v) => [...asList(l, 'push on'), v])],
  ['append', fn(['any', 'any'], (l, v) => [...asList(l, 'push on'), v])],
  ['mustPush', fn(['any', 'any'], (l, v) => [...asList(l, 'push on'), v])],
  ['mustAppend', fn(['any', 'any'], (l, v) => [...asList(l, 'push on'), v])],
  ['prepend', fn(['any', 'any'], (l, v) => [v, ...asList(l, 'prepend on')])],
  ['mustPrepend', fn(['any', 'any'], (l, v) => [v, ...asList(l, 'prepend on')])],
  ['first', fn(['any'], (l) => asList(l, 'find first on')[0] ?? null)],
  ['mustFirst', fn(['any'], (l) => asList(l, 'find first on')[0] ?? null)],
  ['last', fn(['any'], (l) => asList(l, 'find last on').at(-1) ?? null)],
  ['mustLast', fn(['any'], (l) => asList(l, 'find last on').at(-1) ?? null)],
  ['rest', fn(['any'], (l) => asList(l, 'find rest on').slice(1))],
  ['mustRest', fn(['any'], (l) => asList(l, 'find rest on').slice(1))],
  ['initial', fn(['any'], (l) => asList(l, 'find initial on').slice(0, -1))],
  ['mustInitial', fn(['any'], (l) => asList(l, 'find initial on').slice(0, -1))],
  ['reverse', fn(['any'], (l) => asList(l, 'find reverse on').reverse())],
  ['mustReverse', fn(['any'], (l) => asList(l, 'find reverse on').reverse())],
  ['compact', fn(['any'], (l) => asList(l, 'compact on').filter((x) => !empty(x)))],
  ['mustCompact', fn(['any'], (l) => asList(l, 'compact on').filter((x) => !empty(x)))],
  [
    'uniq',
    fn(['any'], (l) =>
      asList(l, 'find uniq on').reduce<GoValue[]>((acc, x) => (inList(acc, x) ? acc : [...acc, x]), []),
    ),
  ],
  [
    'mustUniq',
    fn(['any'], (l) =>
      asList(l, 'find uniq on').reduce<GoValue[]>((acc, x) => (inList(acc, x) ? acc : [...acc, x]), []),
    ),
  ],
  ['without', fn(['any'], (l, ...omit) => asList(l, 'find without on').filter((x) => !inList(omit, x)), 'any')],
  ['mustWithout', fn(['any'], (l, ...omit) => asList(l, 'find without on').filter((x) => !inList(omit, x)), 'any')],
  ['has', fn(['any', 'any'], (needle, hay) => (hay === null ? false : inList(asList(hay, 'find has on'), needle)))],
  ['mustHas', fn(['any', 'any'], (needle, hay) => (hay === null ? false : inList(asList(hay, 'find has on'), needle)))],
  ['slice', fn(['any'], (l, ...idx) => sprigSlice(l, idx), 'any')],
  ['mustSlice', fn(['any'], (l, ...idx) => sprigSlice(l, idx), 'any')],
  ['chunk', fn(['int', 'any'], (size, l) => chunk(n(size), asList(l, 'chunk')))],
  ['mustChunk', fn(['int', 'any'], (size, l) => chunk(n(size), asList(l, 'chunk')))],
  [
    'concat',
    fn(
      [],
      (...lists) => {
        const out: GoValue[] = [];
        for (const l of lists) {
          if (!Array.isArray(l)) throw panicOf(`Cannot concat type ${goKind(l)} as list`);
          out.push(...l);
        }
        return out;
      },
      'any',
    ),
  ],
  // dicts
  [
    'dict',
    fn(
      [],
      (...v) => {
        const m: GoMap = new Map();
        for (let i = 0; i < v.length; i += 2)
          m.set(strval(v[i] ?? null), i + 1 < v.length ? (v[i + 1] as GoValue) : '');
        return m;
      },
      'any',
    ),
  ],
  ['get', fn(['map', 'string'], (d, k) => (dictOf(d).has(s(k)) ? (dictOf(d).get(s(k)) as GoValue) : ''))],
  [
    'set',
    fn(['map', 'string', 'any'], (d, k, v) => {
      dictOf(d).set(s(k), v);
      return d;
    }),
  ],
  [
    'unset',
    fn(['map', 'string'], (d, k) => {
      dictOf(d).delete(s(k));
      return d;
    }),
  ],
  ['hasKey', fn(['map', 'string'], (d, k) => dictOf(d).has(s(k)))],
  [
    'pluck',
    fn(
      ['string'],
      (k, ...ds) => ds.filter((d) => dictOf(d).has(s(k))).map((d) => dictOf(d).get(s(k)) as GoValue),
      'map',
    ),
  ],
  ['keys', fn([], (...ds) => strings(ds.flatMap((d) => sortedKeys(dictOf(d)))), 'map')],
  ['values', fn(['map'], (d) => sortedKeys(dictOf(d)).map((k) => dictOf(d).get(k) as GoValue))],
  ['pick', fn(['map'], (d, ...ks) => new Map([...dictOf(d)].filter(([k]) => ks.includes(k))), 'string')],
  ['omit', fn(['map'], (d, ...ks) => new Map([...dictOf(d)].filter(([k]) => !ks.includes(k))), 'string')],
  ['merge', mergeFn(false)],
  ['mustMerge', mergeFn(false)],
  ['mergeOverwrite', mergeFn(true)],
  ['mustMergeOverwrite', mergeFn(true)],
  ['dig', fn([], (...args) => dig(args), 'any')],
  // regular expressions
  [
    'regexMatch',
    fn(['string', 'string'], (re, v) => orFalse(() => findAllIndex(compileGoRegexp(s(re)), s(v), 1).length > 0)),
  ],
  ['mustRegexMatch', fn(['string', 'string'], (re, v) => findAllIndex(compileGoRegexp(s(re)), s(v), 1).length > 0)],
  ['regexFind', fn(['string', 'string'], (re, v) => findAllIndex(compileGoRegexp(s(re)), s(v), 1)[0]?.text ?? '')],
  ['mustRegexFind', fn(['string', 'string'], (re, v) => findAllIndex(compileGoRegexp(s(re)), s(v), 1)[0]?.text ?? '')],
  [
    'regexFindAll',
    fn(['string', 'string', 'int'], (re, v, c) =>
      strings(findAllIndex(compileGoRegexp(s(re)), s(v), n(c)).map((m) => m.text)),
    ),
  ],
  [
    'mustRegexFindAll',
    fn(['string', 'string', 'int'], (re, v, c) =>
      strings(findAllIndex(compileGoRegexp(s(re)), s(v), n(c)).map((m) => m.text)),
    ),
  ],
  [
    'regexReplaceAll',
    fn(['string', 'string', 'string'], (re, v, r) => goReplaceAll(compileGoRegexp(s(re)), s(v), s(r), false)),
  ],
  [
    'mustRegexReplaceAll',
    fn(['string', 'string', 'string'], (re, v, r) => goReplaceAll(compileGoRegexp(s(re)), s(v), s(r), false)),
  ],
  [
    'regexReplaceAllLiteral',
    fn(['string', 'string', 'string'], (re, v, r) => goReplaceAll(compileGoRegexp(s(re)), s(v), s(r), true)),
  ],
  [
    'mustRegexReplaceAllLiteral',
    fn(['string', 'string', 'string'], (re, v, r) => goReplaceAll(compileGoRegexp(s(re)), s(v), s(r), true)),
  ],
  ['regexSplit', fn(['string', 'string', 'int'], (re, v, c) => strings(goSplit(compileGoRegexp(s(re)), s(v), n(c))))],
  [
    'mustRegexSplit',
    fn(['string', 'string', 'int'], (re, v, c) => strings(goSplit(compileGoRegexp(s(re)), s(v), n(c)))),
  ],
  ['regexQuoteMeta', fn(['string'], (v) => quoteMeta(s(v)))],
  // time
  [
    'duration',
    fn(['any'], (v) => {
      let secs = 0n;
      if (typeof v === 'string') secs = /^[+-]?\d+$/.test(v) ? BigInt(v) : 0n;
      else if (v instanceof GoTyped && v.type === 'int64') secs = v.value as bigint;
      return formatGoDuration(BigInt.asIntN(64, secs * 1_000_000_000n));
    }),
  ],
  ['durationRound', fn(['any'], (v) => durationRound(v))],
];

/** merge(dst, srcs...) and mergeOverwrite: merge into dst (deeply, like mergo) and give dst back. */
function mergeFn(overwrite: boolean): GoFunction {
  return fn(
    ['map'],
    (dst, ...srcs) => {
      for (const src of srcs) mergeInto(dictOf(dst), dictOf(src), overwrite);
      return dst;
    },
    'map',
  );
}

function orFalse(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

function orEmpty(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}

function chunk(size: number, list: GoValue[]): GoValue[] {
  const out: GoValue[] = [];
  if (size <= 0) throw panicOf('runtime error: integer divide by zero');
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return typed(out, '[][]interface {}');
}

function sprigSlice(list: GoValue, indices: GoValue[]): GoValue {
  if (!Array.isArray(list)) throw new GoFuncError(`list should be type of slice or array but ${goKind(list)}`);
  if (list.length === 0) return null;
  const start = indices.length > 0 ? Number(toInt64(indices[0] as GoValue)) : 0;
  const end = indices.length > 1 ? Number(toInt64(indices[1] as GoValue)) : list.length;
  if (start < 0 || end < start || end > list.length) throw panicOf(`reflect: slice index out of range`);
  const out = list.slice(start, end);
  return typeName(list) === '[]interface {}' ? out : typed(out, typeName(list));
}

/** strings.Split / SplitN (empty separator splits into UTF-8 characters). */
export function goStringsSplit(str: string, sep: string, count: number): string[] {
  if (count === 0) return [];
  if (sep === '') {
    const chars = [...str];
    if (count < 0 || count >= chars.length) return chars;
    return [...chars.slice(0, count - 1), chars.slice(count - 1).join('')];
  }
  const parts = str.split(sep);
  if (count < 0 || parts.length <= count) return parts;
  return [...parts.slice(0, count - 1), parts.slice(count - 1).join(sep)];
}

function trimSet(str: string, cut: string): string {
  const set = new Set([...cut]);
  const chars = [...str];
  let a = 0;
  let b = chars.length;
  while (a < b && set.has(chars[a] as string)) a++;
  while (b > a && set.has(chars[b - 1] as string)) b--;
  return chars.slice(a, b).join('');
}

const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const goMax = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
const goMin = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));

function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return goClean(p.slice(0, i + 1));
}

function goExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

/** Sprig's hermetic functions (sprig.HermeticTxtFuncMap) that this engine implements. */
export const SPRIG_FUNCS: FuncMap = new Map(ENTRIES);

/** url functions: in sprig, outside VSO's allowlist order; kept apart to keep the table readable. */
export const SPRIG_URL_FUNCS: FuncMap = new Map<string, GoFunction>([
  ['urlParse', fn(['string'], (v) => urlParse(s(v)))],
  ['urlJoin', fn(['map'], (d) => urlJoin(dictOf(d)))],
]);
