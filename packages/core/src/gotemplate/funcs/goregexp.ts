// Go's regexp for the template functions (regexMatch, regexReplaceAll…) on re2js, a port of RE2: the
// same syntax as Go ((?i), (?P<name>), \A, \z, (?U)), the same leftmost-first matches, and matching time
// linear in the input, so a template a tenant writes cannot stall the process with a pattern such as
// `^(a+)+$` (a JavaScript RegExp backtracks exponentially on it). Go's FindAll rule (an empty match
// right after a match is skipped), Split and $-expansion in replacements are kept here.
import { RE2JS, RE2JSException } from 're2js';
import { GoFuncError } from '../errors.ts';
import { MAX_REGEX_LENGTH, MAX_REGEX_PROGRAM_SIZE } from '../../regex/linear-regex.ts';

/** A compiled Go regexp. */
export interface GoRegexp {
  readonly source: string;
  readonly re: RE2JS;
}

/** One match: its offsets (UTF-16) and groups. */
export interface GoMatch {
  index: number;
  end: number;
  text: string;
  /** Group by number (0: the whole match) or name; '' when it did not take part. */
  group(ref: number | string): string;
}

const cache = new Map<string, GoRegexp>();

/** Compiles an RE2 pattern; throws GoFuncError worded like regexp.Compile's errors. */
export function compileGoRegexp(pattern: string): GoRegexp {
  const cached = cache.get(pattern);
  if (cached !== undefined) return cached;
  if (pattern.length > MAX_REGEX_LENGTH)
    throw new GoFuncError(`error parsing regexp: expression too large`, 'error parsing regexp');
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, 0);
  } catch (error) {
    if (error instanceof RE2JSException)
      throw new GoFuncError(
        error.message.startsWith('error parsing regexp') ? error.message : `error parsing regexp: ${error.message}`,
        'error parsing regexp',
      );
    throw error;
  }
  if (re.programSize() > MAX_REGEX_PROGRAM_SIZE)
    throw new GoFuncError('error parsing regexp: expression too large', 'error parsing regexp');
  const compiled = { source: pattern, re };
  if (cache.size > 250) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/** Match positions as Go's FindAll...Index returns them (n < 0: all). Offsets are UTF-16. */
export function findAllIndex(regexp: GoRegexp, s: string, n: number): GoMatch[] {
  const out: GoMatch[] = [];
  if (n === 0) return out;
  const matcher = regexp.re.matcher(s);
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length) {
    if (!matcher.find(pos)) break;
    const index = matcher.start();
    const end = matcher.end();
    if (end === index && index === prevEnd) {
      // Go ignores an empty match abutting the previous match; step one character on.
      const cp = s.codePointAt(index);
      pos = index + (cp !== undefined && cp > 0xffff ? 2 : 1);
      continue;
    }
    const groups = new Map<number | string, string>();
    for (let i = 0; i <= matcher.groupCount(); i++) groups.set(i, matcher.group(i) ?? '');
    for (const name of Object.keys(regexp.re.namedGroups())) groups.set(name, matcher.group(name) ?? '');
    out.push({ index, end, text: s.slice(index, end), group: (ref) => groups.get(ref) ?? '' });
    if (n > 0 && out.length >= n) break;
    prevEnd = end;
    if (end === index) {
      const cp = s.codePointAt(end);
      pos = end + (cp !== undefined && cp > 0xffff ? 2 : 1);
    } else pos = end;
  }
  return out;
}

/** regexp.Regexp.Split. */
export function goSplit(regexp: GoRegexp, s: string, n: number): string[] {
  if (n === 0) return [];
  if (regexp.source.length > 0 && s.length === 0) return [''];
  const matches = findAllIndex(regexp, s, n);
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of matches) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.end !== 0) out.push(s.slice(beg, end));
    beg = m.end;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** regexp's Expand: $1, ${1}, $name, ${name}, $$ in a replacement template. */
function expand(template: string, m: GoMatch): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(inner)) {
        out += '$';
        continue;
      }
      name = inner;
      i = close;
    } else {
      const w = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (w === null) {
        out += '$';
        continue;
      }
      name = w[0];
      i += name.length;
    }
    out += /^\d+$/.test(name) ? m.group(Number(name)) : m.group(name);
  }
  return out;
}

/** ReplaceAllString (expand $ references) or ReplaceAllLiteralString. */
export function goReplaceAll(regexp: GoRegexp, s: string, replacement: string, literal: boolean): string {
  let out = '';
  let last = 0;
  for (const m of findAllIndex(regexp, s, -1)) {
    out += s.slice(last, m.index) + (literal ? replacement : expand(replacement, m));
    last = m.end;
  }
  return out + s.slice(last);
}

/** regexp.QuoteMeta. */
export const quoteMeta = (s: string): string => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
