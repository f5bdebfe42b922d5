// Go's regexp (RE2 syntax) on top of JavaScript RegExp: the syntax differences templates meet
// ((?i) flags, (?P<name>), \A \z), Go's FindAll rule (an empty match right after a match is skipped),
// Split, and $-expansion in replacements.
import { GoFuncError } from '../errors.ts';

const cache = new Map<string, RegExp>();

/** Compiles an RE2 pattern; throws GoFuncError worded like regexp.Compile's errors. */
export function compileGoRegexp(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached !== undefined) return cached;
  let source = pattern;
  let flags = 'g';
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading !== null) {
    for (const f of leading[1] as string) if (f !== 'U' && !flags.includes(f)) flags += f;
    source = source.slice(leading[0].length);
  }
  source = source.replace(/\(\?P</g, '(?<').replace(/\\A/g, '^').replace(/\\z/g, '$(?![\\s\\S])');
  let re: RegExp;
  try {
    re = new RegExp(source, `${flags}u`);
  } catch {
    try {
      re = new RegExp(source, flags);
    } catch {
      throw new GoFuncError(`error parsing regexp: invalid or unsupported syntax: \`${pattern}\``, 'error parsing regexp');
    }
  }
  if (cache.size > 250) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Match positions as Go's FindAll...Index returns them (n < 0: all). Offsets are UTF-16. */
export function findAllIndex(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  if (n === 0) return out;
  const r = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length) {
    r.lastIndex = pos;
    const m = r.exec(s);
    if (m === null) break;
    const end = m.index + m[0].length;
    if (m[0].length === 0 && m.index === prevEnd) {
      // Go ignores an empty match abutting the previous match; step one character on.
      const cp = s.codePointAt(m.index);
      pos = m.index + (cp !== undefined && cp > 0xffff ? 2 : 1);
      continue;
    }
    out.push(m);
    if (n > 0 && out.length >= n) break;
    prevEnd = end;
    if (m[0].length === 0) {
      const cp = s.codePointAt(end);
      pos = end + (cp !== undefined && cp > 0xffff ? 2 : 1);
    } else pos = end;
  }
  return out;
}

/** regexp.Regexp.Split. */
export function goSplit(re: RegExp, s: string, n: number): string[] {
  if (n === 0) return [];
  if (re.source.length > 0 && s.length === 0) return [''];
  const matches = findAllIndex(re, s, n);
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of matches) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.index + m[0].length !== 0) out.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** regexp's Expand: $1, ${1}, $name, ${name}, $$ in a replacement template. */
function expand(template: string, m: RegExpExecArray): string {
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
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
  }
  return out;
}

/** ReplaceAllString (expand $ references) or ReplaceAllLiteralString. */
export function goReplaceAll(re: RegExp, s: string, replacement: string, literal: boolean): string {
  let out = '';
  let last = 0;
  for (const m of findAllIndex(re, s, -1)) {
    out += s.slice(last, m.index) + (literal ? replacement : expand(replacement, m));
    last = m.index + m[0].length;
  }
  return out + s.slice(last);
}

/** regexp.QuoteMeta. */
export const quoteMeta = (s: string): string => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
