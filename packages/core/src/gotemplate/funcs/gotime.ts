// Go's time.Time as sprig's mustToDate and ago use it: time.ParseInLocation with Go's reference
// layouts ("2006-01-02 15:04:05 -0700 MST"), printing as Time.String(), and a few methods templates
// call (.Unix, .Format, .Year …). Written from the time package's documented layout rules.
//
// time.Local is UTC here (the services run in containers without a zone): a time parsed without a
// zone is UTC, printed "+0000 UTC", as Go prints it on such a machine.
import { GoFuncError } from '../errors.ts';
import { type GoFunction, fn } from '../func.ts';
import { GoTyped, type GoValue } from '../values.ts';

export interface GoTime {
  /** Seconds since 1970-01-01T00:00:00Z (any year, so a bigint). */
  unix: bigint;
  nsec: number;
  /** Seconds east of UTC. */
  offset: number;
  /** The zone's name; '' for a fixed zone without one (printed as its offset). */
  zone: string;
}

const LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const SHORT_MONTHS = LONG_MONTHS.map((m) => m.slice(0, 3));
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_DAYS = LONG_DAYS.map((d) => d.slice(0, 3));

type Std =
  | 'LongMonth'
  | 'Month'
  | 'NumMonth'
  | 'ZeroMonth'
  | 'LongWeekDay'
  | 'WeekDay'
  | 'Day'
  | 'UnderDay'
  | 'ZeroDay'
  | 'UnderYearDay'
  | 'ZeroYearDay'
  | 'Hour'
  | 'Hour12'
  | 'ZeroHour12'
  | 'Minute'
  | 'ZeroMinute'
  | 'Second'
  | 'ZeroSecond'
  | 'LongYear'
  | 'Year'
  | 'PM'
  | 'pm'
  | 'TZ'
  | 'ISO8601TZ'
  | 'ISO8601SecondsTZ'
  | 'ISO8601ShortTZ'
  | 'ISO8601ColonTZ'
  | 'ISO8601ColonSecondsTZ'
  | 'NumTZ'
  | 'NumSecondsTz'
  | 'NumShortTZ'
  | 'NumColonTZ'
  | 'NumColonSecondsTZ'
  | 'FracSecond0'
  | 'FracSecond9';

interface Chunk {
  prefix: string;
  std: Std | undefined;
  /** The layout text of the element (for errors). */
  text: string;
  suffix: string;
  /** Fraction digits (FracSecond0/9) and their separator. */
  digits?: number;
  separator?: string;
}

const ZERO_X: Std[] = ['ZeroMonth', 'ZeroDay', 'ZeroHour12', 'ZeroMinute', 'ZeroSecond', 'Year'];
const isDigitAt = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;
const startsWithLowerCase = (s: string): boolean => s.length > 0 && s[0]! >= 'a' && s[0]! <= 'z';

/** Go's nextStdChunk: the text before the first layout element, the element, and the rest. */
function nextChunk(layout: string): Chunk {
  const at = (i: number, std: Std, length: number, extra: Partial<Chunk> = {}): Chunk => ({
    prefix: layout.slice(0, i),
    std,
    text: layout.slice(i, i + length),
    suffix: layout.slice(i + length),
    ...extra,
  });
  for (let i = 0; i < layout.length; i++) {
    const rest = layout.slice(i);
    switch (layout[i]) {
      case 'J':
        if (rest.startsWith('Jan')) {
          if (rest.startsWith('January')) return at(i, 'LongMonth', 7);
          if (!startsWithLowerCase(rest.slice(3))) return at(i, 'Month', 3);
        }
        break;
      case 'M':
        if (rest.startsWith('Mon')) {
          if (rest.startsWith('Monday')) return at(i, 'LongWeekDay', 6);
          if (!startsWithLowerCase(rest.slice(3))) return at(i, 'WeekDay', 3);
        }
        if (rest.startsWith('MST')) return at(i, 'TZ', 3);
        break;
      case '0':
        if (rest.length >= 2 && rest[1]! >= '1' && rest[1]! <= '6') return at(i, ZERO_X[Number(rest[1]) - 1]!, 2);
        if (rest.startsWith('002')) return at(i, 'ZeroYearDay', 3);
        break;
      case '1':
        if (rest.startsWith('15')) return at(i, 'Hour', 2);
        return at(i, 'NumMonth', 1);
      case '2':
        if (rest.startsWith('2006')) return at(i, 'LongYear', 4);
        return at(i, 'Day', 1);
      case '_':
        if (rest.length >= 2 && rest[1] === '2') {
          if (rest.startsWith('_2006'))
            return { prefix: layout.slice(0, i + 1), std: 'LongYear', text: '2006', suffix: layout.slice(i + 5) };
          return at(i, 'UnderDay', 2);
        }
        if (rest.startsWith('__2')) return at(i, 'UnderYearDay', 3);
        break;
      case '3':
        return at(i, 'Hour12', 1);
      case '4':
        return at(i, 'Minute', 1);
      case '5':
        return at(i, 'Second', 1);
      case 'P':
        if (rest.startsWith('PM')) return at(i, 'PM', 2);
        break;
      case 'p':
        if (rest.startsWith('pm')) return at(i, 'pm', 2);
        break;
      case '-':
        if (rest.startsWith('-070000')) return at(i, 'NumSecondsTz', 7);
        if (rest.startsWith('-07:00:00')) return at(i, 'NumColonSecondsTZ', 9);
        if (rest.startsWith('-0700')) return at(i, 'NumTZ', 5);
        if (rest.startsWith('-07:00')) return at(i, 'NumColonTZ', 6);
        if (rest.startsWith('-07')) return at(i, 'NumShortTZ', 3);
        break;
      case 'Z':
        if (rest.startsWith('Z070000')) return at(i, 'ISO8601SecondsTZ', 7);
        if (rest.startsWith('Z07:00:00')) return at(i, 'ISO8601ColonSecondsTZ', 9);
        if (rest.startsWith('Z0700')) return at(i, 'ISO8601TZ', 5);
        if (rest.startsWith('Z07:00')) return at(i, 'ISO8601ColonTZ', 6);
        if (rest.startsWith('Z07')) return at(i, 'ISO8601ShortTZ', 3);
        break;
      case '.':
      case ',':
        if (rest.length >= 2 && (rest[1] === '0' || rest[1] === '9')) {
          const ch = rest[1];
          let j = 1;
          while (j < rest.length && rest[j] === ch) j++;
          if (!isDigitAt(rest, j))
            return at(i, ch === '0' ? 'FracSecond0' : 'FracSecond9', j, {
              digits: j - 1,
              separator: layout[i] as string,
            });
        }
        break;
    }
  }
  return { prefix: layout, std: undefined, text: '', suffix: '' };
}

/** time's own quote for ParseError (non-ASCII as \x escapes). */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c >= 0x80 || c < 0x20) for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  }
  return `${out}"`;
}

class ParseFailure extends Error {}

function parseError(layout: string, value: string, layoutElem: string, valueElem: string, message = ''): GoFuncError {
  if (message === '')
    return new GoFuncError(
      `parsing time ${timeQuote(value)} as ${timeQuote(layout)}: cannot parse ${timeQuote(valueElem)} as ${timeQuote(layoutElem)}`,
    );
  return new GoFuncError(`parsing time ${timeQuote(value)}${message}`);
}

function getnum(s: string, fixed: boolean): [number, string] {
  if (!isDigitAt(s, 0)) throw new ParseFailure();
  if (!isDigitAt(s, 1)) {
    if (fixed) throw new ParseFailure();
    return [Number(s[0]), s.slice(1)];
  }
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] {
  let i = 0;
  while (i < 3 && isDigitAt(s, i)) i++;
  if (i === 0 || (fixed && i !== 3)) throw new ParseFailure();
  return [Number(s.slice(0, i)), s.slice(i)];
}

function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new ParseFailure();
  return Number(s);
}

function lookup(table: readonly string[], value: string): [number, string] {
  for (let i = 0; i < table.length; i++) {
    const name = table[i] as string;
    if (value.length >= name.length && value.slice(0, name.length).toLowerCase() === name.toLowerCase())
      return [i, value.slice(name.length)];
  }
  throw new ParseFailure();
}

/** A failed skip: Go reports the value from where matching stopped. */
class SkipFailure extends Error {
  readonly rest: string;
  constructor(rest: string) {
    super('skip');
    this.rest = rest;
  }
}

function skip(value: string, prefix: string): string {
  let v = value;
  let p = prefix;
  while (p.length > 0) {
    if (p[0] === ' ') {
      if (v.length > 0 && v[0] !== ' ') throw new SkipFailure(v);
      p = p.replace(/^ +/, '');
      v = v.replace(/^ +/, '');
      continue;
    }
    if (v.length === 0 || v[0] !== p[0]) throw new SkipFailure(v);
    p = p.slice(1);
    v = v.slice(1);
  }
  return v;
}

function parseNanoseconds(value: string, nbytes: number): number {
  if (value[0] !== '.' && value[0] !== ',') throw new ParseFailure();
  const n = Math.min(nbytes, 10);
  const ns = atoi(value.slice(1, n));
  return ns * 10 ** (10 - n);
}

/** Go's parseTimeZone: the length of a zone abbreviation at the start of value, or 0. */
function timeZoneLength(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4;
  if (value.startsWith('GMT')) return 3 + signedOffsetLength(value.slice(3));
  if (value[0] === '+' || value[0] === '-') return signedOffsetLength(value);
  let upper = 0;
  while (upper < 6 && upper < value.length && value[upper]! >= 'A' && value[upper]! <= 'Z') upper++;
  if (upper === 5 && value[4] === 'T') return 5;
  if (upper === 4 && (value[3] === 'T' || value.startsWith('WITA'))) return 4;
  if (upper === 3) return 3;
  return 0;
}

/** Go's parseSignedOffset: a sign and digits ("+3", "-0000") of at most 23 hours; the length taken, or 0. */
function signedOffsetLength(value: string): number {
  const m = /^[+-](\d+)/.exec(value);
  if (m === null) return 0;
  const n = BigInt(m[1] as string);
  if (n > 23n) return 0;
  return m[0].length;
}

const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (month: number, year: number): number =>
  month === 2 && isLeap(year) ? 29 : (DAYS_IN[month - 1] as number);
const daysBefore = (month: number): number => DAYS_IN.slice(0, month - 1).reduce((a, b) => a + b, 0);

/** Days from 1970-01-01 to a proleptic Gregorian date (any year). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z0: number): { year: number; month: number; day: number } {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function fromWall(
  year: number,
  month: number,
  day: number,
  hour: number,
  min: number,
  sec: number,
  nsec: number,
  offset: number,
  zone: string,
): GoTime {
  const days = daysFromCivil(year, month, day);
  const unix = BigInt(days) * 86400n + BigInt(hour * 3600 + min * 60 + sec) - BigInt(offset);
  return { unix, nsec, offset, zone };
}

/** The wall clock of t in its own zone. */
function wall(t: GoTime) {
  const local = t.unix + BigInt(t.offset);
  const days = local >= 0n ? local / 86400n : -((-local + 86399n) / 86400n);
  const secs = Number(local - days * 86400n);
  const { year, month, day } = civilFromDays(Number(days));
  const weekday = (((Number(days) + 4) % 7) + 7) % 7;
  const yday = daysBefore(month) + day + (month > 2 && isLeap(year) ? 1 : 0);
  return {
    year,
    month,
    day,
    hour: Math.floor(secs / 3600),
    min: Math.floor((secs % 3600) / 60),
    sec: secs % 60,
    weekday,
    yday,
  };
}

/** time.ParseInLocation(layout, value, time.Local) with Local = UTC; throws GoFuncError with Go's words. */
export function parseGoTime(layout: string, value: string): GoTime {
  const alayout = layout;
  const avalue = value;
  let rest = layout;
  let v = value;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let utc = false;
  let zoneOffset: number | undefined;
  let zoneName = '';
  let amSet = false;
  let pmSet = false;
  for (;;) {
    const chunk = nextChunk(rest);
    try {
      v = skip(v, chunk.prefix);
    } catch (error) {
      throw parseError(alayout, avalue, chunk.prefix, error instanceof SkipFailure ? error.rest : v);
    }
    if (chunk.std === undefined) {
      if (v.length !== 0) throw parseError(alayout, avalue, '', v, `: extra text: ${timeQuote(v)}`);
      break;
    }
    rest = chunk.suffix;
    const hold = v;
    let range = '';
    try {
      switch (chunk.std) {
        case 'Year': {
          if (v.length < 2) throw new ParseFailure();
          year = atoi(v.slice(0, 2));
          v = v.slice(2);
          year += year >= 69 ? 1900 : 2000;
          break;
        }
        case 'LongYear':
          if (v.length < 4 || !isDigitAt(v, 0)) throw new ParseFailure();
          year = atoi(v.slice(0, 4));
          v = v.slice(4);
          break;
        case 'Month':
          [month, v] = lookup(SHORT_MONTHS, v);
          month++;
          break;
        case 'LongMonth':
          [month, v] = lookup(LONG_MONTHS, v);
          month++;
          break;
        case 'NumMonth':
        case 'ZeroMonth':
          [month, v] = getnum(v, chunk.std === 'ZeroMonth');
          if (month <= 0 || month > 12) range = 'month';
          break;
        case 'WeekDay':
          [, v] = lookup(SHORT_DAYS, v);
          break;
        case 'LongWeekDay':
          [, v] = lookup(LONG_DAYS, v);
          break;
        case 'Day':
        case 'UnderDay':
        case 'ZeroDay':
          if (chunk.std === 'UnderDay' && v[0] === ' ') v = v.slice(1);
          [day, v] = getnum(v, chunk.std === 'ZeroDay');
          break;
        case 'UnderYearDay':
        case 'ZeroYearDay':
          for (let i = 0; i < 2; i++) if (chunk.std === 'UnderYearDay' && v[0] === ' ') v = v.slice(1);
          [yday, v] = getnum3(v, chunk.std === 'ZeroYearDay');
          break;
        case 'Hour':
          [hour, v] = getnum(v, false);
          if (hour < 0 || hour >= 24) range = 'hour';
          break;
        case 'Hour12':
        case 'ZeroHour12':
          [hour, v] = getnum(v, chunk.std === 'ZeroHour12');
          if (hour < 0 || hour > 12) range = 'hour';
          break;
        case 'Minute':
        case 'ZeroMinute':
          [min, v] = getnum(v, chunk.std === 'ZeroMinute');
          if (min < 0 || min >= 60) range = 'minute';
          break;
        case 'Second':
        case 'ZeroSecond': {
          [sec, v] = getnum(v, chunk.std === 'ZeroSecond');
          if (sec < 0 || sec >= 60) {
            range = 'second';
            break;
          }
          // A fraction after the seconds is taken even when the layout has none.
          if (v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigitAt(v, 1)) {
            const next = nextChunk(rest).std;
            if (next === 'FracSecond0' || next === 'FracSecond9') break;
            let n = 2;
            while (n < v.length && isDigitAt(v, n)) n++;
            nsec = parseNanoseconds(v, n);
            v = v.slice(n);
          }
          break;
        }
        case 'PM':
        case 'pm': {
          if (v.length < 2) throw new ParseFailure();
          const p = v.slice(0, 2);
          v = v.slice(2);
          if (p === (chunk.std === 'PM' ? 'PM' : 'pm')) pmSet = true;
          else if (p === (chunk.std === 'PM' ? 'AM' : 'am')) amSet = true;
          else throw new ParseFailure();
          break;
        }
        case 'ISO8601TZ':
        case 'ISO8601SecondsTZ':
        case 'ISO8601ShortTZ':
        case 'ISO8601ColonTZ':
        case 'ISO8601ColonSecondsTZ':
        case 'NumTZ':
        case 'NumSecondsTz':
        case 'NumShortTZ':
        case 'NumColonTZ':
        case 'NumColonSecondsTZ': {
          if (chunk.std.startsWith('ISO') && v[0] === 'Z') {
            v = v.slice(1);
            utc = true;
            break;
          }
          let sign: string;
          let hh: string;
          let mm = '00';
          let ss = '00';
          const colon = chunk.std === 'ISO8601ColonTZ' || chunk.std === 'NumColonTZ';
          const short = chunk.std === 'NumShortTZ' || chunk.std === 'ISO8601ShortTZ';
          const colonSeconds = chunk.std === 'ISO8601ColonSecondsTZ' || chunk.std === 'NumColonSecondsTZ';
          const seconds = chunk.std === 'ISO8601SecondsTZ' || chunk.std === 'NumSecondsTz';
          if (colon) {
            if (v.length < 6 || v[3] !== ':') throw new ParseFailure();
            [sign, hh, mm] = [v[0]!, v.slice(1, 3), v.slice(4, 6)];
            v = v.slice(6);
          } else if (short) {
            if (v.length < 3) throw new ParseFailure();
            [sign, hh] = [v[0]!, v.slice(1, 3)];
            v = v.slice(3);
          } else if (colonSeconds) {
            if (v.length < 9 || v[3] !== ':' || v[6] !== ':') throw new ParseFailure();
            [sign, hh, mm, ss] = [v[0]!, v.slice(1, 3), v.slice(4, 6), v.slice(7, 9)];
            v = v.slice(9);
          } else if (seconds) {
            if (v.length < 7) throw new ParseFailure();
            [sign, hh, mm, ss] = [v[0]!, v.slice(1, 3), v.slice(3, 5), v.slice(5, 7)];
            v = v.slice(7);
          } else {
            if (v.length < 5) throw new ParseFailure();
            [sign, hh, mm] = [v[0]!, v.slice(1, 3), v.slice(3, 5)];
            v = v.slice(5);
          }
          // As Go: the numbers are read until one fails, and an out-of-range one wins over any failure.
          let failed = false;
          const num = (text: string): number => {
            if (failed) return 0;
            try {
              return getnum(text, true)[0];
            } catch {
              failed = true;
              return 0;
            }
          };
          const hr = num(hh);
          const mn = num(mm);
          const sc = num(ss);
          if (hr > 24) range = 'time zone offset hour';
          if (mn > 60) range = 'time zone offset minute';
          if (sc > 60) range = 'time zone offset second';
          zoneOffset = (hr * 60 + mn) * 60 + sc;
          if (sign === '-') zoneOffset = -zoneOffset;
          else if (sign !== '+') failed = true;
          if (failed && range === '') throw new ParseFailure();
          break;
        }
        case 'TZ': {
          if (v.startsWith('UTC')) {
            utc = true;
            v = v.slice(3);
            break;
          }
          const n = timeZoneLength(v);
          if (n === 0) throw new ParseFailure();
          zoneName = v.slice(0, n);
          v = v.slice(n);
          break;
        }
        case 'FracSecond0': {
          const n = 1 + (chunk.digits as number);
          if (v.length < n) throw new ParseFailure();
          nsec = parseNanoseconds(v, n);
          v = v.slice(n);
          break;
        }
        case 'FracSecond9': {
          if (v.length < 2 || (v[0] !== '.' && v[0] !== ',') || !isDigitAt(v, 1)) break;
          let i = 0;
          while (i + 1 < v.length && isDigitAt(v, i + 1)) i++;
          nsec = parseNanoseconds(v, 1 + i);
          v = v.slice(1 + i);
          break;
        }
      }
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error;
      throw parseError(alayout, avalue, chunk.text, hold);
    }
    if (range !== '') throw parseError(alayout, avalue, chunk.text, v, `: ${range} out of range`);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    let m = 0;
    let d = 0;
    let yd = yday;
    if (isLeap(year)) {
      if (yd === 31 + 29) {
        m = 2;
        d = 29;
      } else if (yd > 31 + 29) yd--;
    }
    if (yd < 1 || yd > 365) throw parseError(alayout, avalue, '', v, ': day-of-year out of range');
    if (m === 0) {
      m = Math.floor((yd - 1) / 31) + 1;
      if (daysBefore(m + 1) < yd) m++;
      d = yd - daysBefore(m);
    }
    if (month >= 0 && month !== m) throw parseError(alayout, avalue, '', v, ': day-of-year does not match month');
    month = m;
    if (day >= 0 && day !== d) throw parseError(alayout, avalue, '', v, ': day-of-year does not match day');
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw parseError(alayout, avalue, '', v, ': day out of range');
  if (utc) return fromWall(year, month, day, hour, min, sec, nsec, 0, 'UTC');
  if (zoneOffset !== undefined) {
    // Local (UTC) is used when the offset is its own; otherwise a fixed zone without a name.
    if (zoneOffset === 0 && (zoneName === '' || zoneName === 'UTC'))
      return fromWall(year, month, day, hour, min, sec, nsec, 0, 'UTC');
    return fromWall(year, month, day, hour, min, sec, nsec, zoneOffset, zoneName);
  }
  if (zoneName !== '') {
    if (zoneName === 'UTC') return fromWall(year, month, day, hour, min, sec, nsec, 0, 'UTC');
    const offset = zoneName.length > 3 && zoneName.startsWith('GMT') ? Number(zoneName.slice(3)) * 3600 : 0;
    // The wall clock is read as UTC and the zone only attached (Go's setLoc): GMT+3 shows 3 hours later.
    return { ...fromWall(year, month, day, hour, min, sec, nsec, 0, zoneName), offset };
  }
  return fromWall(year, month, day, hour, min, sec, nsec, 0, 'UTC');
}

const pad = (n: number, width: number): string =>
  n < 0 ? `-${String(-n).padStart(width, '0')}` : String(n).padStart(width, '0');

function formatOffset(offset: number, colon: boolean, withSeconds: boolean, short: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor((abs % 3600) / 60), 2);
  const ss = pad(abs % 60, 2);
  if (short) return sign + hh;
  return sign + hh + (colon ? ':' : '') + mm + (withSeconds ? (colon ? ':' : '') + ss : '');
}

/** Time.Format(layout). */
export function formatGoTime(t: GoTime, layout: string): string {
  const w = wall(t);
  let out = '';
  let rest = layout;
  for (;;) {
    const chunk = nextChunk(rest);
    out += chunk.prefix;
    if (chunk.std === undefined) return out;
    rest = chunk.suffix;
    const hour12 = w.hour % 12 === 0 ? 12 : w.hour % 12;
    switch (chunk.std) {
      case 'Year':
        out += pad(((w.year % 100) + 100) % 100, 2);
        break;
      case 'LongYear':
        out += pad(w.year, 4);
        break;
      case 'Month':
        out += SHORT_MONTHS[w.month - 1];
        break;
      case 'LongMonth':
        out += LONG_MONTHS[w.month - 1];
        break;
      case 'NumMonth':
        out += String(w.month);
        break;
      case 'ZeroMonth':
        out += pad(w.month, 2);
        break;
      case 'WeekDay':
        out += SHORT_DAYS[w.weekday];
        break;
      case 'LongWeekDay':
        out += LONG_DAYS[w.weekday];
        break;
      case 'Day':
        out += String(w.day);
        break;
      case 'UnderDay':
        out += w.day < 10 ? ` ${w.day}` : String(w.day);
        break;
      case 'ZeroDay':
        out += pad(w.day, 2);
        break;
      case 'UnderYearDay':
        out += String(w.yday).padStart(3, ' ');
        break;
      case 'ZeroYearDay':
        out += pad(w.yday, 3);
        break;
      case 'Hour':
        out += pad(w.hour, 2);
        break;
      case 'Hour12':
        out += String(hour12);
        break;
      case 'ZeroHour12':
        out += pad(hour12, 2);
        break;
      case 'Minute':
        out += String(w.min);
        break;
      case 'ZeroMinute':
        out += pad(w.min, 2);
        break;
      case 'Second':
        out += String(w.sec);
        break;
      case 'ZeroSecond':
        out += pad(w.sec, 2);
        break;
      case 'PM':
        out += w.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += w.hour >= 12 ? 'pm' : 'am';
        break;
      case 'TZ':
        out += t.zone !== '' ? t.zone : formatOffset(t.offset, false, false, false);
        break;
      case 'FracSecond0':
      case 'FracSecond9': {
        const digits = String(t.nsec).padStart(9, '0').slice(0, chunk.digits);
        if (chunk.std === 'FracSecond0') out += chunk.separator + digits;
        else {
          const trimmed = digits.replace(/0+$/, '');
          if (trimmed !== '') out += chunk.separator + trimmed;
        }
        break;
      }
      default: {
        // Zone offsets; the ISO 8601 forms print Z for UTC.
        if (chunk.std.startsWith('ISO') && t.offset === 0) {
          out += 'Z';
          break;
        }
        const colon = chunk.std.includes('Colon');
        const seconds = chunk.std.includes('Seconds');
        const short = chunk.std.includes('Short');
        out += formatOffset(t.offset, colon, seconds, short);
      }
    }
  }
}

const STRING_LAYOUT = '2006-01-02 15:04:05.999999999 -0700 MST';

/** A time.Time template value: prints as Time.String(), with the methods templates use. */
export function goTimeValue(t: GoTime): GoTyped {
  const w = () => wall(t);
  const methods = new Map<string, GoFunction>([
    ['Unix', fn([], () => new GoTyped('int64', 'int', t.unix))],
    ['UnixMilli', fn([], () => new GoTyped('int64', 'int', t.unix * 1000n + BigInt(Math.floor(t.nsec / 1e6))))],
    ['Format', fn(['string'], (layout) => formatGoTime(t, layout as string))],
    ['String', fn([], () => formatGoTime(t, STRING_LAYOUT))],
    ['UTC', fn([], () => goTimeValue({ ...t, offset: 0, zone: 'UTC' }))],
    ['Year', fn([], () => BigInt(w().year))],
    ['YearDay', fn([], () => BigInt(w().yday))],
    ['Day', fn([], () => BigInt(w().day))],
    ['Hour', fn([], () => BigInt(w().hour))],
    ['Minute', fn([], () => BigInt(w().min))],
    ['Second', fn([], () => BigInt(w().sec))],
    ['Nanosecond', fn([], () => BigInt(t.nsec))],
    ['Month', fn([], () => new GoTyped('time.Month', 'int', BigInt(w().month), LONG_MONTHS[w().month - 1]))],
    ['Weekday', fn([], () => new GoTyped('time.Weekday', 'int', BigInt(w().weekday), LONG_DAYS[w().weekday]))],
    ['IsZero', fn([], () => t.unix === -62135596800n && t.nsec === 0)],
  ]);
  return new GoTyped(
    'time.Time',
    'struct',
    { '#time': t as unknown as GoValue },
    formatGoTime(t, STRING_LAYOUT),
    methods,
  );
}

/** The GoTime inside a time.Time template value, if it is one. */
export function goTimeOf(v: GoValue): GoTime | undefined {
  if (v instanceof GoTyped && v.type === 'time.Time') return (v.value as { '#time': GoTime })['#time'];
  return undefined;
}

/** time.Since(t).Round(time.Second) in nanoseconds. */
export function sinceRoundedToSecond(t: GoTime, nowMs: number): bigint {
  const now = BigInt(Math.floor(nowMs)) * 1_000_000n;
  const then = t.unix * 1_000_000_000n + BigInt(t.nsec);
  const d = now - then;
  // Duration.Round: halfway values round away from zero.
  const second = 1_000_000_000n;
  const r = ((d % second) + second) % second;
  let down = d - r;
  if (r + r >= second) down += second;
  // For negative durations Go rounds the magnitude, away from zero on ties.
  if (d < 0n) {
    const m = -d;
    const mr = m % second;
    return -(mr + mr < second ? m - mr : m - mr + second);
  }
  return down;
}
