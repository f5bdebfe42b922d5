// sprig's semver and semverCompare: github.com/Masterminds/semver/v3 (v3.3.0, what sprig v3.3.0
// pins) — its version grammar, ordering and constraint rules (`^`, `~`, x-ranges, `a - b`, `,` and
// `||`), written from that library's documented behaviour. Its patterns are Go regexps, matched here
// with the same engine as the template regex functions (RE2: same leftmost-first choices).
import { GoFuncError } from '../errors.ts';
import { type GoFunction, type GoParam, fn } from '../func.ts';
import { GoTyped, type GoValue } from '../values.ts';
import { compileGoRegexp, findAllIndex, type GoMatch } from './goregexp.ts';

export interface SemVersion {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
  metadata: string;
  original: string;
}

const SEMVER = String.raw`v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const CV = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const OPS = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;

const versionRe = () => compileGoRegexp(`^${SEMVER}$`);
const constraintRe = () => compileGoRegexp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const rangeRe = () => compileGoRegexp(String.raw`\s*(${CV})\s+-\s+(${CV})\s*`);
const findRe = () => compileGoRegexp(`(${OPS})\\s*(${CV})`);
const validRe = () => compileGoRegexp(String.raw`^(\s*(${OPS})\s*(${CV})\s*)((?:\s+|,\s*)(${OPS})\s*(${CV})\s*)*$`);

const firstMatch = (re: ReturnType<typeof compileGoRegexp>, s: string): GoMatch | undefined =>
  findAllIndex(re, s, 1)[0];

class SemverError extends Error {}

const ALLOWED = /^[0-9A-Za-z-]*$/;
const NUM = /^[0-9]*$/;

function validatePrerelease(p: string): void {
  for (const part of p.split('.')) {
    if (NUM.test(part)) {
      if (part.length > 1 && part[0] === '0') throw new SemverError('Version segment starts with 0');
    } else if (!ALLOWED.test(part)) throw new SemverError('Invalid Prerelease string');
  }
}

function validateMetadata(m: string): void {
  for (const part of m.split('.')) if (!ALLOWED.test(part)) throw new SemverError('Invalid Metadata string');
}

function parseSegment(text: string): bigint {
  const n = BigInt(text);
  if (n >= 1n << 64n)
    throw new SemverError(
      `Error parsing version segment: strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`,
    );
  return n;
}

/** semver.NewVersion. */
export function newVersion(v: string): SemVersion {
  const m = firstMatch(versionRe(), v);
  if (m === undefined) throw new SemverError('Invalid Semantic Version');
  const version: SemVersion = {
    major: parseSegment(m.group(1)),
    minor: m.group(2) === '' ? 0n : parseSegment(m.group(2).slice(1)),
    patch: m.group(3) === '' ? 0n : parseSegment(m.group(3).slice(1)),
    pre: m.group(5),
    metadata: m.group(8),
    original: v,
  };
  if (version.pre !== '') validatePrerelease(version.pre);
  if (version.metadata !== '') validateMetadata(version.metadata);
  return version;
}

export function versionString(v: SemVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.pre === '' ? '' : `-${v.pre}`}${v.metadata === '' ? '' : `+${v.metadata}`}`;
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function parseUintOrNull(s: string): bigint | null {
  return /^[0-9]+$/.test(s) && BigInt(s) < 1n << 64n ? BigInt(s) : null;
}

function comparePrePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === '') return o !== '' ? -1 : 1;
  if (o === '') return s !== '' ? 1 : -1;
  const oi = parseUintOrNull(o);
  const si = parseUintOrNull(s);
  if (oi === null && si === null) return s > o ? 1 : -1;
  if (oi === null) return -1;
  if (si === null) return 1;
  return si > oi ? 1 : -1;
}

function comparePrerelease(v: string, o: string): number {
  const sp = v.split('.');
  const op = o.split('.');
  for (let i = 0; i < Math.max(sp.length, op.length); i++) {
    const d = comparePrePart(sp[i] ?? '', op[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

export function compareVersions(v: SemVersion, o: SemVersion): number {
  const d = cmp(v.major, o.major) || cmp(v.minor, o.minor) || cmp(v.patch, o.patch);
  if (d !== 0) return d;
  if (v.pre === '' && o.pre === '') return 0;
  if (v.pre === '') return 1;
  if (o.pre === '') return -1;
  return comparePrerelease(v.pre, o.pre);
}

interface Constraint {
  con: SemVersion;
  orig: string;
  op: string;
  minorDirty: boolean;
  patchDirty: boolean;
  dirty: boolean;
}

const isX = (x: string): boolean => x === 'x' || x === '*' || x === 'X';

function parseConstraint(c: string): Constraint {
  if (c.length === 0)
    return { con: newVersion('0.0.0'), orig: c, op: '', minorDirty: false, patchDirty: false, dirty: true };
  const m = firstMatch(constraintRe(), c);
  if (m === undefined) throw new SemverError(`improper constraint: ${c}`);
  let ver = m.group(2);
  let minorDirty = false;
  let patchDirty = false;
  let dirty = false;
  if (isX(m.group(3)) || m.group(3) === '') {
    ver = `0.0.0${m.group(6)}`;
    dirty = true;
  } else if (isX(m.group(4).replace(/^\./, '')) || m.group(4) === '') {
    minorDirty = true;
    dirty = true;
    ver = `${m.group(3)}.0.0${m.group(6)}`;
  } else if (isX(m.group(5).replace(/^\./, '')) || m.group(5) === '') {
    dirty = true;
    patchDirty = true;
    ver = `${m.group(3)}${m.group(4)}.0${m.group(6)}`;
  }
  let con: SemVersion;
  try {
    con = newVersion(ver);
  } catch {
    throw new SemverError('constraint Parser Error');
  }
  return { con, orig: m.group(2), op: m.group(1), minorDirty, patchDirty, dirty };
}

function rewriteRange(text: string): string {
  let out = text;
  for (const m of findAllIndex(rangeRe(), text, -1)) out = out.replace(m.text, `>= ${m.group(1)}, <= ${m.group(11)} `);
  return out;
}

/** semver.NewConstraint: OR groups of AND-ed constraints. */
export function newConstraint(text: string): Constraint[][] {
  const rewritten = rewriteRange(text);
  return rewritten.split('||').map((group) => {
    if (firstMatch(validRe(), group) === undefined) throw new SemverError(`improper constraint: ${group}`);
    const found = findAllIndex(findRe(), group, -1).map((m) => m.text);
    return (found.length === 0 ? [group] : found).map(parseConstraint);
  });
}

function checkOne(v: SemVersion, c: Constraint): boolean {
  const preBlocked = v.pre !== '' && c.con.pre === '';
  switch (c.op) {
    case '':
    case '=':
      if (preBlocked) return false;
      if (c.dirty) return tilde(v, c);
      return compareVersions(v, c.con) === 0;
    case '!=': {
      if (c.dirty) {
        if (preBlocked) return false;
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return compareVersions(v, c.con) !== 0;
    }
    case '>':
      if (preBlocked) return false;
      if (!c.dirty) return compareVersions(v, c.con) === 1;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return compareVersions(v, c.con) === 1;
    case '<':
      if (preBlocked) return false;
      return compareVersions(v, c.con) < 0;
    case '>=':
    case '=>':
      if (preBlocked) return false;
      return compareVersions(v, c.con) >= 0;
    case '<=':
    case '=<':
      if (preBlocked) return false;
      if (!c.dirty) return compareVersions(v, c.con) <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      return tilde(v, c);
    case '^':
      return caret(v, c);
  }
  return false;
}

function tilde(v: SemVersion, c: Constraint): boolean {
  if (v.pre !== '' && c.con.pre === '') return false;
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

function caret(v: SemVersion, c: Constraint): boolean {
  if (v.pre !== '' && c.con.pre === '') return false;
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
  if (c.con.major === 0n && v.major > 0n) return false;
  if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
  if (c.con.minor === 0n && v.minor > 0n) return false;
  return c.con.patch === v.patch;
}

export function checkConstraint(groups: Constraint[][], v: SemVersion): boolean {
  return groups.some((group) => group.every((c) => checkOne(v, c)));
}

const uint64 = (n: bigint): GoTyped => new GoTyped('uint64', 'uint', n);

/** A *semver.Version template value: prints as its String(), with its methods. */
export function versionValue(v: SemVersion, pointer = true): GoTyped {
  const other = (o: GoValue): SemVersion => {
    if (o instanceof GoTyped && o.type.endsWith('semver.Version'))
      return (o.value as { '#version': SemVersion })['#version'];
    throw new GoFuncError('expected a *semver.Version');
  };
  const vPrefix = v.original.startsWith('v') ? 'v' : '';
  // IncMajor & co return a semver.Version (not a pointer): only the value-receiver methods apply to it.
  const next = (n: SemVersion): GoTyped => versionValue({ ...n, original: vPrefix + versionString(n) }, false);
  const methods = new Map<string, GoFunction>([
    ['Major', fn([], () => uint64(v.major))],
    ['Minor', fn([], () => uint64(v.minor))],
    ['Patch', fn([], () => uint64(v.patch))],
    ['Prerelease', fn([], () => v.pre)],
    ['Metadata', fn([], () => v.metadata)],

    ['String', fn([], () => versionString(v))],
    ['IncMajor', fn([], () => next({ ...v, major: v.major + 1n, minor: 0n, patch: 0n, pre: '', metadata: '' }))],
    ['IncMinor', fn([], () => next({ ...v, minor: v.minor + 1n, patch: 0n, pre: '', metadata: '' }))],
    [
      'IncPatch',
      fn([], () =>
        next(v.pre !== '' ? { ...v, pre: '', metadata: '' } : { ...v, patch: v.patch + 1n, pre: '', metadata: '' }),
      ),
    ],
  ]);
  if (pointer) {
    methods.set(
      'Original',
      fn([], () => v.original),
    );
    // The pointer-receiver comparisons: each is compareVersions(v, other) read one way.
    const comparisons: ReadonlyArray<readonly [string, (order: number) => GoValue]> = [
      ['Compare', (order) => BigInt(order)],
      ['LessThan', (order) => order < 0],
      ['LessThanEqual', (order) => order <= 0],
      ['GreaterThan', (order) => order > 0],
      ['GreaterThanEqual', (order) => order >= 0],
      ['Equal', (order) => order === 0],
    ];
    for (const [name, read] of comparisons) {
      methods.set(
        name,
        fn(['any'], (o) => read(compareVersions(v, other(o)))),
      );
    }
  }
  return new GoTyped(
    pointer ? '*semver.Version' : 'semver.Version',
    'struct',
    { '#version': v as unknown as GoValue },
    versionString(v),
    methods,
  );
}

/** A template function over the semver library: its SemverError becomes the call's error text. */
function semverFn(params: readonly GoParam[], call: GoFunction['call']): GoFunction {
  return fn(params, (...args) => {
    try {
      return call(...args);
    } catch (error) {
      if (error instanceof SemverError) throw new GoFuncError(error.message);
      throw error;
    }
  });
}

export const SEMVER_FUNCS: ReadonlyArray<readonly [string, GoFunction]> = [
  ['semver', semverFn(['string'], (v) => versionValue(newVersion(v as string)))],
  [
    'semverCompare',
    semverFn(['string', 'string'], (constraint, version) =>
      checkConstraint(newConstraint(constraint as string), newVersion(version as string)),
    ),
  ],
];
