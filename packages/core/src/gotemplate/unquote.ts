// Go's literal syntax for strings, characters and numbers inside template actions: strconv.Unquote,
// UnquoteChar and ParseInt/ParseUint/ParseFloat with base prefixes, as the parser needs them.

export class SyntaxError extends Error {}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

/** Decodes the escapes of a Go quoted string or char body into UTF-8 bytes. */
function unescape(body: string, quote: '"' | "'"): number[] {
  const bytes: number[] = [];
  const push = (cp: number): void => {
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
  };
  for (let i = 0; i < body.length;) {
    const c = body.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(c);
    i += ch.length;
    if (ch === quote || ch === '\n') throw new SyntaxError('invalid syntax');
    if (ch !== '\\') {
      push(c);
      continue;
    }
    const e = body[i++];
    if (e === undefined) throw new SyntaxError('invalid syntax');
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      continue;
    }
    if (e === quote) {
      bytes.push(e.charCodeAt(0));
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = body.slice(i, i + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLen) throw new SyntaxError('invalid syntax');
      i += hexLen;
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw new SyntaxError('invalid syntax');
        push(v);
      }
      continue;
    }
    if (e >= '0' && e <= '7') {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) throw new SyntaxError('invalid syntax');
      const v = parseInt(oct, 8);
      if (v > 255) throw new SyntaxError('invalid syntax');
      i += 2;
      bytes.push(v);
      continue;
    }
    throw new SyntaxError('invalid syntax');
  }
  return bytes;
}

/** strconv.Unquote for "…" and `…` literals. */
export function unquoteString(quoted: string): string {
  if (quoted.startsWith('`')) {
    if (quoted.length < 2 || !quoted.endsWith('`')) throw new SyntaxError('invalid syntax');
    return quoted.slice(1, -1).replaceAll('\r', '');
  }
  if (quoted.length < 2 || !quoted.startsWith('"') || !quoted.endsWith('"')) throw new SyntaxError('invalid syntax');
  const body = quoted.slice(1, -1);
  if (!body.includes('\\')) {
    if (body.includes('"') || body.includes('\n')) throw new SyntaxError('invalid syntax');
    return body;
  }
  return Buffer.from(unescape(body, '"')).toString('utf8');
}

/** The code point of a character constant like 'a', '\n' or '\u00e9'. */
export function unquoteChar(quoted: string): number {
  const body = quoted.slice(1, -1);
  if (body.length === 0) throw new SyntaxError('invalid syntax');
  if (body[0] !== '\\') {
    const cp = body.codePointAt(0) ?? 0;
    if (String.fromCodePoint(cp).length !== body.length) throw new Error(`malformed character constant: ${quoted}`);
    return cp;
  }
  const e = body[1] ?? '';
  if (e === 'x' || (e >= '0' && e <= '7')) {
    const bytes = unescape(body, "'");
    if (bytes.length !== 1) throw new Error(`malformed character constant: ${quoted}`);
    return bytes[0] ?? 0;
  }
  const s = Buffer.from(unescape(body, "'")).toString('utf8');
  const cp = s.codePointAt(0) ?? 0;
  if (String.fromCodePoint(cp) !== s) throw new Error(`malformed character constant: ${quoted}`);
  return cp;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** strconv.ParseInt/ParseUint with base 0: sign, 0x/0o/0b/0 prefixes, underscores after a prefix. */
export function parseGoInteger(text: string): bigint | undefined {
  let s = text;
  let negative = false;
  if (s.startsWith('+') || s.startsWith('-')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  let base = 10;
  let digits = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) {
    base = 16;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0[0-9_]/.test(s)) {
    base = 8;
    digits = s.slice(1);
    prefixed = true;
  }
  if (digits.includes('_')) {
    // Underscores only between digits, and only with base 0 syntax (a prefix or a plain decimal).
    const ok = prefixed ? /^_?[0-9a-zA-Z]+(_[0-9a-zA-Z]+)*$/.test(digits) : /^[0-9]+(_[0-9]+)*$/.test(digits);
    if (!ok) return undefined;
    digits = digits.replaceAll('_', '');
  }
  if (digits.length === 0) return base === 8 && !/^0[oO]/.test(s) ? 0n : undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!valid.test(digits)) return undefined;
  let v = 0n;
  const b = BigInt(base);
  for (const d of digits) v = v * b + BigInt(parseInt(d, base));
  return negative ? -v : v;
}

export const fitsInt64 = (v: bigint): boolean => v >= INT64_MIN && v <= INT64_MAX;
export const fitsUint64 = (v: bigint): boolean => v >= 0n && v <= UINT64_MAX;

/** strconv.ParseFloat for decimal and hex floats; undefined for bad syntax. */
export function parseGoFloat(text: string): number | undefined {
  if (/__|_$|^[+-]?_|_\.|\._|_[eEpP+-]|[eEpP+-]_/.test(text)) return undefined;
  let s = text.replaceAll('_', '');
  let sign = 1;
  if (s.startsWith('+') || s.startsWith('-')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (/^0[xX]/.test(s)) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
    if (m === null || (m[1] ?? '') + (m[2] ?? '') === '') return undefined;
    const mantissa = parseInt(`${m[1] ?? ''}${m[2] ?? ''}` || '0', 16);
    return sign * mantissa * 2 ** (Number(m[3]) - 4 * (m[2] ?? '').length);
  }
  if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return sign * Number(s);
}
