/* eslint-disable no-useless-assignment -- sprintf's verb parser keeps the state variables of Go's doPrintf */
// Go's fmt for the values templates hold: Sprint, Sprintln, Sprintf with flags, width, precision,
// argument indexes and the error forms (%!d(string=x), %!v(MISSING), %!(EXTRA …)), and strconv's
// float formatting (shortest %v/%g, %e, %f with round-half-even on exact decimal expansions).
import { GoTyped, type GoValue, byteLength, kindOf, sortedKeys, stringOf, typeName } from './values.ts';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

const newFlags = (): Flags => ({
  plus: false,
  minus: false,
  sharp: false,
  space: false,
  zero: false,
  plusV: false,
  sharpV: false,
  wid: 0,
  widPresent: false,
  prec: 0,
  precPresent: false,
});

const runeCount = (s: string): number => {
  let n = 0;
  for (const rune of s) if (rune) n++;
  return n;
};

// ---------------------------------------------------------------------------------------------
// strconv: floats

/** The exact decimal digits of |x| and the position of the decimal point (digits "123", point 1 → 1.23). */
function exactDecimal(x: number): { digits: string; point: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const exponent = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exponent === 0) e = -1074;
  else {
    mantissa |= 1n << 52n;
    e = exponent - 1075;
  }
  if (mantissa === 0n) return { digits: '0', point: 1 };
  let digits: string;
  let point: number;
  if (e >= 0) {
    digits = (mantissa << BigInt(e)).toString();
    point = digits.length;
  } else {
    digits = (mantissa * 5n ** BigInt(-e)).toString();
    point = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed === '' ? '0' : trimmed, point };
}

/** Rounds a decimal digit string to n digits, half to even on exact ties (strconv's decimal.Round). */
function roundDigits(d: { digits: string; point: number }, n: number): { digits: string; point: number } {
  if (n < 0) return { digits: '', point: d.point };
  if (d.digits.length <= n) return d;
  const next = d.digits.charCodeAt(n) - 48;
  const rest = d.digits.slice(n + 1);
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (/[1-9]/.test(rest)) up = true;
  else up = n > 0 && (d.digits.charCodeAt(n - 1) - 48) % 2 === 1;
  let kept = d.digits.slice(0, n);
  let point = d.point;
  if (up) {
    const arr = kept.split('');
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === '9') {
      arr[i] = '0';
      i--;
    }
    if (i < 0) {
      arr.unshift('1');
      point++;
      arr.pop();
      if (n === 0) return { digits: '1', point };
    } else arr[i] = String.fromCharCode((arr[i] as string).charCodeAt(0) + 1);
    kept = arr.join('');
  }
  if (n === 0 && !up) return { digits: '', point };
  kept = kept.replace(/0+$/, '');
  return { digits: kept, point };
}

/** The shortest digits that round-trip (what strconv uses for precision -1). */
function shortestDecimal(x: number): { digits: string; point: number } {
  if (x === 0) return { digits: '', point: 0 };
  const [mant, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  return { digits, point: Number(exp) + 1 };
}

const digitAt = (d: { digits: string }, i: number): string => d.digits[i] ?? '0';

function fmtE(d: { digits: string; point: number }, prec: number, e: 'e' | 'E'): string {
  let s = digitAt(d, 0);
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  let exp = d.digits === '' ? 0 : d.point - 1;
  const sign = exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return `${s}${e}${sign}${exp < 10 ? `0${exp}` : String(exp)}`;
}

function fmtF(d: { digits: string; point: number }, prec: number): string {
  let s = '';
  if (d.point > 0) {
    for (let i = 0; i < d.point; i++) s += digitAt(d, i);
  } else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) {
      const j = d.point + i;
      s += j < 0 ? '0' : digitAt(d, j);
    }
  }
  return s;
}

/** strconv.FormatFloat(x, verb, prec, 64) for verbs e E f F g G (prec -1: shortest). */
export function formatFloat(x: number, verb: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const negative = x < 0 || Object.is(x, -0);
  const sign = negative ? '-' : '';
  const shortest = prec < 0;
  let d: { digits: string; point: number };
  const lower = verb.toLowerCase();
  if (shortest) {
    d = shortestDecimal(x);
    if (lower === 'e') prec = Math.max(d.digits.length - 1, 0);
    else if (lower === 'f') prec = Math.max(d.digits.length - d.point, 0);
    else prec = d.digits.length;
  } else {
    const exact = x === 0 ? { digits: '', point: 0 } : exactDecimal(x);
    if (lower === 'e') d = roundDigits(exact, 1 + prec);
    else if (lower === 'f') d = roundDigits(exact, exact.point + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDigits(exact, prec);
    }
  }
  switch (verb) {
    case 'e':
    case 'E':
      return sign + fmtE(d, prec, verb);
    case 'f':
    case 'F':
      return sign + fmtF(d, prec);
    case 'g':
    case 'G': {
      let eprec = prec;
      if (eprec > d.digits.length && d.digits.length >= d.point) eprec = d.digits.length;
      if (shortest) eprec = 6;
      const exp = d.point - 1;
      if (d.digits !== '' && (exp < -4 || exp >= eprec)) {
        let p = prec;
        if (p > d.digits.length) p = d.digits.length;
        return sign + fmtE(d, p - 1, verb === 'g' ? 'e' : 'E');
      }
      let p = prec;
      if (p > d.point) p = d.digits.length;
      return sign + fmtF(d, Math.max(p - d.point, 0));
    }
  }
  return sign + String(Math.abs(x));
}

/** The # flag on floats: always a decimal point, and %g/%v keep trailing zeros to the precision. */
function sharpFloat(num: string, verb: string, prec: number): string {
  let digits = 0;
  if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') digits = prec === -1 ? 6 : prec;
  let tail = '';
  let body = num;
  let hasPoint = false;
  let sawNonzero = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '.') {
      hasPoint = true;
      continue;
    }
    if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X')) {
      tail = body.slice(i);
      body = body.slice(0, i);
      break;
    }
    if (c !== '0') sawNonzero = true;
    if (sawNonzero) digits--;
  }
  if (!hasPoint) {
    if (body === '0') digits--;
    body += '.';
  }
  while (digits > 0) {
    body += '0';
    digits--;
  }
  return body + tail;
}

function floatBits(x: number): { negative: boolean; exponent: number; mantissa: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  return {
    negative: hi >>> 31 === 1,
    exponent: (hi >>> 20) & 0x7ff,
    mantissa: (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4)),
  };
}

/** strconv's 'b' format: decimal mantissa, 'p', binary exponent. */
function formatBinaryFloat(x: number): string {
  const { negative, exponent, mantissa } = floatBits(x);
  let m = mantissa;
  let e = exponent;
  if (e === 0) e = 1;
  else m |= 1n << 52n;
  e -= 1075;
  return `${negative ? '-' : ''}${m}p${e >= 0 ? '+' : '-'}${Math.abs(e)}`;
}

/** strconv's 'x' format: 0x1.hhhhp±dd (shortest, or rounded to prec hex digits). */
function formatHexFloat(x: number, prec: number, verb: string): string {
  if (!Number.isFinite(x)) return formatFloat(x, 'g', -1);
  const { negative, exponent, mantissa } = floatBits(x);
  let m = mantissa;
  let e: number;
  if (exponent === 0) {
    if (m === 0n) e = 0;
    else {
      e = -1022;
      while (m < 1n << 52n) {
        m <<= 1n;
        e--;
      }
    }
  } else {
    m |= 1n << 52n;
    e = exponent - 1023;
  }
  // m is now 1.52 bits (or 0); shift so the leading 1 sits at bit 60 for 15 hex digits of fraction.
  m <<= 8n;
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(4 * (15 - prec));
    const half = 1n << (shift - 1n);
    const rest = m & ((1n << shift) - 1n);
    m >>= shift;
    if (rest > half || (rest === half && (m & 1n) === 1n)) m++;
    m <<= shift;
    if (m >= 1n << 61n) {
      m >>= 1n;
      e++;
    }
  }
  let frac = (m & ((1n << 60n) - 1n)).toString(16).padStart(15, '0');
  if (prec < 0) frac = frac.replace(/0+$/, '');
  else frac = frac.slice(0, prec).padEnd(prec, '0');
  const lead = m === 0n ? '0' : '1';
  const exp = `${e >= 0 ? '+' : '-'}${String(Math.abs(e)).padStart(2, '0')}`;
  const s = `${negative ? '-' : ''}0x${lead}${frac === '' ? '' : `.${frac}`}p${exp}`;
  return verb === 'X' ? s.toUpperCase() : s;
}

// ---------------------------------------------------------------------------------------------
// strconv: quoting

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function isGoPrint(ch: string): boolean {
  return ch === ' ' || PRINTABLE.test(ch);
}

function quoteWith(s: string, quote: '"' | "'", asciiOnly: boolean): string {
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') {
      out += `\\${ch}`;
      continue;
    }
    if (asciiOnly ? cp < 0x80 && isGoPrint(ch) : isGoPrint(ch)) {
      out += ch;
      continue;
    }
    switch (ch) {
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp < 0xe000) out += '\\ufffd';
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + quote;
}

/** strconv.Quote. */
export const goQuote = (s: string): string => quoteWith(s, '"', false);

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '`' || ch === '\ufeff') return false;
    if (cp < 0x20 && ch !== '\t') return false;
    if (cp === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The printer

class Printer {
  out = '';
  f: Flags = newFlags();

  private writePadding(n: number): void {
    if (n <= 0) return;
    this.out += (this.f.zero && !this.f.minus ? '0' : ' ').repeat(n);
  }

  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.out += s;
      return;
    }
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) {
      this.writePadding(width);
      this.out += s;
    } else {
      this.out += s;
      this.writePadding(width);
    }
  }

  /** Pads with spaces even under the `0` flag: Go never zero-pads a sign-carrying integer or Inf/NaN itself. */
  private padWithSpaces(s: string): void {
    const zero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = zero;
  }

  private truncate(s: string): string {
    if (this.f.precPresent) {
      const runes = [...s];
      if (runes.length > this.f.prec) return runes.slice(0, this.f.prec).join('');
    }
    return s;
  }

  private fmtInteger(value: bigint, base: number, verb: string, upper: boolean): void {
    const f = this.f;
    const negative = value < 0n;
    let u = negative ? -value : value;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        this.padWithSpaces('');
        return;
      }
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    if (base === 8 && u === 0n) u = 0n;
    let digits = u.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
    if (f.sharp) {
      if (base === 2) digits = `0b${digits}`;
      else if (base === 8 && digits[0] !== '0') digits = `0${digits}`;
      else if (base === 16) digits = (upper ? '0X' : '0x') + digits;
    }
    if (verb === 'O') digits = `0o${digits}`;
    if (negative) digits = `-${digits}`;
    else if (f.plus) digits = `+${digits}`;
    else if (f.space) digits = ` ${digits}`;
    // Zero padding was already applied above as precision, after the sign.
    this.padWithSpaces(digits);
  }

  private fmtFloat(x: number, verb: string, prec: number): void {
    const f = this.f;
    if (f.precPresent) prec = f.prec;
    let num =
      verb === 'x' || verb === 'X'
        ? formatHexFloat(x, prec, verb)
        : verb === 'b'
          ? formatBinaryFloat(x)
          : formatFloat(x, verb, prec);
    let sign = '+';
    if (num.startsWith('-') || num.startsWith('+')) {
      sign = num[0] as string;
      num = num.slice(1);
    }
    if (f.space && sign === '+' && !f.plus) sign = ' ';
    if (num === 'Inf' || num === 'NaN') {
      this.padWithSpaces(num === 'NaN' && !f.space && !f.plus ? num : sign + num);
      return;
    }
    if (f.sharp && verb !== 'b') num = sharpFloat(num, verb, prec);
    if (f.plus || sign !== '+') {
      const full = sign + num;
      if (f.zero && !f.minus && f.widPresent && f.wid > full.length) {
        this.out += sign;
        this.writePadding(f.wid - full.length);
        this.out += num;
        return;
      }
      this.pad(full);
      return;
    }
    this.pad(num);
  }

  private fmtString(s: string, verb: string, arg: GoValue = s): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(s);
        else this.pad(this.truncate(s));
        return;
      case 's':
        this.pad(this.truncate(s));
        return;
      case 'x':
      case 'X':
        this.fmtSx(s, verb === 'X');
        return;
      case 'q':
        this.fmtQ(s);
        return;
    }
    this.badVerb(verb, arg);
  }

  private fmtSx(s: string, upper: boolean): void {
    const f = this.f;
    let bytes = Buffer.from(s, 'utf8');
    if (f.precPresent && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec);
    const length = bytes.length;
    let width = 2 * length;
    if (width > 0) {
      if (f.space) {
        if (f.sharp) width *= 2;
        width += length - 1;
      } else if (f.sharp) width += 2;
    } else {
      if (f.widPresent) this.writePadding(f.wid);
      return;
    }
    if (f.widPresent && f.wid > width && !f.minus) this.writePadding(f.wid - width);
    const prefix = upper ? '0X' : '0x';
    let out = f.sharp ? prefix : '';
    for (let i = 0; i < length; i++) {
      if (f.space && i > 0) {
        out += ' ';
        if (f.sharp) out += prefix;
      }
      const h = (bytes[i] as number).toString(16).padStart(2, '0');
      out += upper ? h.toUpperCase() : h;
    }
    this.out += out;
    if (f.widPresent && f.wid > width && f.minus) this.writePadding(f.wid - width);
  }

  private fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.f.sharp && canBackquote(s)) {
      this.pad(`\`${s}\``);
      return;
    }
    this.pad(quoteWith(s, '"', this.f.plus));
  }

  private fmtRune(value: bigint, verb: string): void {
    let cp = value < 0n || value > 0x10ffffn ? 0xfffd : Number(value);
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
    const ch = String.fromCodePoint(cp);
    if (verb === 'c') this.pad(ch);
    else if (verb === 'q') this.pad(quoteWith(ch, "'", this.f.plus));
    else {
      const hex = (value < 0n ? BigInt.asUintN(64, value) : value).toString(16).toUpperCase();
      let s = `U+${hex.padStart(this.f.precPresent ? Math.max(this.f.prec, 4) : 4, '0')}`;
      if (this.f.sharp && value >= 0n && value <= 0x10ffffn && isGoPrint(ch)) s += ` '${ch}'`;
      const oldZero = this.f.zero;
      this.f.zero = false;
      this.pad(s);
      this.f.zero = oldZero;
    }
  }

  private badVerb(verb: string, arg: GoValue): void {
    this.out += `%!${verb}(`;
    if (arg === undefined || arg === null) this.out += '<nil>';
    else {
      this.out += `${typeName(arg)}=`;
      this.printArg(arg, 'v', 0);
    }
    this.out += ')';
  }

  /** printArg/printValue of Go's fmt, for one value and verb. */
  printArg(arg: GoValue, verb: string, depth: number): void {
    const f = this.f;
    if (arg === undefined || arg === null) {
      if (depth > 0) {
        // Inside a slice or map Go writes nil as is, without width or padding.
        this.out += f.sharpV ? 'interface {}(nil)' : '<nil>';
        return;
      }
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, arg);
      return;
    }
    if (verb === 'T') {
      this.fmtString(typeName(arg), 's');
      return;
    }
    if (verb === 'p') {
      this.badVerb(verb, arg);
      return;
    }
    // A Stringer of a number kind (time.Month, time.Weekday): fmt prints its String() for these verbs.
    if (
      arg instanceof GoTyped &&
      arg.kind !== 'struct' &&
      arg.display !== undefined &&
      !f.sharpV &&
      'vsxXq'.includes(verb)
    ) {
      this.fmtString(arg.display, verb);
      return;
    }
    switch (kindOf(arg)) {
      case 'bool':
        if (verb === 't' || verb === 'v') this.pad(arg ? 'true' : 'false');
        else this.badVerb(verb, arg);
        return;
      case 'float': {
        const x = typeof arg === 'number' ? arg : ((arg as GoTyped).value as number);
        if (verb === 'v') this.fmtFloat(x, 'g', -1);
        else if ('bgGxX'.includes(verb)) this.fmtFloat(x, verb, -1);
        else if ('feEF'.includes(verb)) this.fmtFloat(x, verb, 6);
        else this.badVerb(verb, arg);
        return;
      }
      case 'int':
      case 'uint': {
        const v = typeof arg === 'bigint' ? arg : ((arg as GoTyped).value as bigint);
        switch (verb) {
          case 'v':
            if (f.sharpV && kindOf(arg) === 'uint') {
              f.sharp = true;
              this.fmtInteger(v, 16, verb, false);
              f.sharp = false;
            } else this.fmtInteger(v, 10, verb, false);
            return;
          case 'd':
            return this.fmtInteger(v, 10, verb, false);
          case 'b':
            return this.fmtInteger(v, 2, verb, false);
          case 'o':
          case 'O':
            return this.fmtInteger(v, 8, verb, false);
          case 'x':
            return this.fmtInteger(v, 16, verb, false);
          case 'X':
            return this.fmtInteger(v, 16, verb, true);
          case 'c':
          case 'q':
          case 'U':
            return this.fmtRune(v, verb);
        }
        this.badVerb(verb, arg);
        return;
      }
      case 'string': {
        this.fmtString(stringOf(arg) as string, verb, arg);
        return;
      }
      case 'slice': {
        const list = arg as GoValue[];
        if (f.sharpV) {
          this.out += `${typeName(arg)}{`;
          list.forEach((e, i) => {
            if (i > 0) this.out += ', ';
            this.printArg(e, verb, depth + 1);
          });
          this.out += '}';
          return;
        }
        this.out += '[';
        list.forEach((e, i) => {
          if (i > 0) this.out += ' ';
          this.printArg(e, verb, depth + 1);
        });
        this.out += ']';
        return;
      }
      case 'map': {
        const m = arg as Map<string, GoValue>;
        this.out += f.sharpV ? `${typeName(arg)}{` : 'map[';
        sortedKeys(m).forEach((k, i) => {
          if (i > 0) this.out += f.sharpV ? ', ' : ' ';
          this.printArg(k, verb, depth + 1);
          this.out += ':';
          this.printArg(m.get(k), verb, depth + 1);
        });
        this.out += f.sharpV ? '}' : ']';
        return;
      }
      case 'struct': {
        const t = arg as GoTyped;
        if (verb === 'v' || verb === 's') this.pad(t.display ?? '{}');
        else this.badVerb(verb, arg);
        return;
      }
    }
  }
}

/** fmt.Sprint. */
export function sprint(args: readonly GoValue[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = kindOf(arg) === 'string';
    if (i > 0 && !isString && !prevString) p.out += ' ';
    p.f = newFlags();
    p.printArg(arg, 'v', 0);
    prevString = isString;
  });
  return p.out;
}

/** fmt.Sprintln. */
export function sprintln(args: readonly GoValue[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.out += ' ';
    p.f = newFlags();
    p.printArg(arg, 'v', 0);
  });
  return `${p.out}\n`;
}

const tooLarge = (n: number): boolean => n > 1e6 || n < -1e6;

function parsenum(s: string, start: number, end: number): { num: number; isnum: boolean; next: number } {
  if (start >= end) return { num: 0, isnum: false, next: end };
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s[i] !== undefined && (s[i] as string) >= '0' && (s[i] as string) <= '9'; i++) {
    if (tooLarge(num)) return { num: 0, isnum: false, next: end };
    num = num * 10 + (s.charCodeAt(i) - 48);
    isnum = true;
  }
  return { num, isnum, next: i };
}

/**
 * fmt.Sprintf. The verb parser is a state machine kept in the shape of Go's doPrintf, so every state
 * variable is set where Go sets it, even where the next step overwrites it before reading.
 */
export function sprintf(format: string, args: readonly GoValue[]): string {
  const p = new Printer();
  const end = format.length;
  let argNum = 0;
  let afterIndex = false;
  let reordered = false;
  let goodArgNum = true;

  const argNumber = (i: number): { argNum: number; i: number; found: boolean } => {
    if (format.length <= i || format[i] !== '[') return { argNum, i, found: false };
    reordered = true;
    const rest = format.slice(i);
    let index = 0;
    let wid = 1;
    let ok = false;
    if (rest.length >= 3) {
      const close = rest.indexOf(']', 1);
      if (close > 0) {
        const n = parsenum(rest, 1, close);
        wid = close + 1;
        if (n.isnum && n.next === close) {
          index = n.num - 1;
          ok = true;
        }
      }
    }
    if (ok && index >= 0 && index < args.length) return { argNum: index, i: i + wid, found: true };
    goodArgNum = false;
    return { argNum, i: i + wid, found: ok };
  };

  const intFromArg = (): { num: number; isInt: boolean } => {
    let num = 0;
    let isInt = false;
    if (argNum < args.length) {
      const a = args[argNum];
      const k = kindOf(a);
      if (k === 'int' || k === 'uint') {
        const v = typeof a === 'bigint' ? a : ((a as GoTyped).value as bigint);
        if (v >= -(1n << 63n) && v < 1n << 63n) {
          num = Number(v);
          isInt = true;
        }
      }
      argNum++;
      if (tooLarge(num)) {
        num = 0;
        isInt = false;
      }
    }
    return { num, isInt };
  };

  let i = 0;
  formatLoop: while (i < end) {
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.out += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    p.f = newFlags();
    const f = p.f;
    simple: for (; i < end; i++) {
      const c = format[i] as string;
      switch (c) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = !f.minus;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          f.zero = false;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          if (c >= 'a' && c <= 'z' && argNum < args.length) {
            if (c === 'v') {
              f.sharpV = f.sharp;
              f.sharp = false;
              f.plusV = f.plus;
              f.plus = false;
            }
            p.printArg(args[argNum], c, 0);
            argNum++;
            i++;
            continue formatLoop;
          }
          break simple;
      }
    }
    let r = argNumber(i);
    argNum = r.argNum;
    i = r.i;
    afterIndex = r.found;
    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg();
      f.wid = w.num;
      f.widPresent = w.isInt;
      if (!f.widPresent) p.out += '%!(BADWIDTH)';
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      afterIndex = false;
    } else {
      const n = parsenum(format, i, end);
      f.wid = n.num;
      f.widPresent = n.isnum;
      i = n.next;
      if (afterIndex && f.widPresent) goodArgNum = false;
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      r = argNumber(i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg();
        f.prec = w.num;
        f.precPresent = w.isInt;
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!f.precPresent) p.out += '%!(BADPREC)';
        afterIndex = false;
      } else {
        const n = parsenum(format, i, end);
        f.prec = n.num;
        f.precPresent = n.isnum;
        i = n.next;
        if (!f.precPresent) {
          f.prec = 0;
          f.precPresent = true;
        }
      }
    }
    if (!afterIndex) {
      r = argNumber(i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
    }
    if (i >= end) {
      p.out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === '%') {
      p.out += '%';
    } else if (!goodArgNum) {
      p.out += `%!${verb}(BADINDEX)`;
    } else if (argNum >= args.length) {
      p.out += `%!${verb}(MISSING)`;
    } else {
      if (verb === 'v') {
        f.sharpV = f.sharp;
        f.sharp = false;
        f.plusV = f.plus;
        f.plus = false;
      }
      p.printArg(args[argNum], verb, 0);
      argNum++;
    }
  }
  if (!reordered && argNum < args.length) {
    p.f = newFlags();
    p.out += '%!(EXTRA ';
    args.slice(argNum).forEach((arg, j) => {
      if (j > 0) p.out += ', ';
      if (arg === undefined || arg === null) p.out += '<nil>';
      else {
        p.out += `${typeName(arg)}=`;
        p.printArg(arg, 'v', 0);
      }
    });
    p.out += ')';
  }
  return p.out;
}

export { byteLength };
