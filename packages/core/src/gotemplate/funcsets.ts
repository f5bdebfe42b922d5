// The function sets templates are parsed with, by name: sprig (what the reference renderer's
// sprig.TxtFuncMap offers, minus the non-hermetic functions), and VSO's allowlist over sprig.
import type { FuncMap, GoFunction } from './func.ts';
import { SPRIG_FUNCS, SPRIG_URL_FUNCS } from './funcs/sprig.ts';
import { SPRIG_MORE_FUNCS } from './funcs/sprig-more.ts';

/** The Vault Secrets Operator's allowlist over sprig's hermetic functions (its template/funcs.go). */
export const VSO_ALLOWED_FUNCTIONS: readonly string[] = [
  'abbrev', 'abbrevboth', 'add', 'add1', 'add1f', 'addf', 'adler32sum', 'ago', 'all', 'any', 'append', 'atoi',
  'b32dec', 'b32enc', 'b64dec', 'b64enc', 'base', 'bcrypt', 'biggest', 'buildCustomCert', 'camelcase', 'cat',
  'ceil', 'chunk', 'clean', 'coalesce', 'compact', 'concat', 'contains', 'deepCopy', 'deepEqual', 'default',
  'dict', 'dig', 'dir', 'div', 'divf', 'duration', 'durationRound', 'empty', 'ext', 'fail', 'first', 'float64',
  'floor', 'fromJson', 'get', 'has', 'hasKey', 'hasPrefix', 'hasSuffix', 'htpasswd', 'indent', 'initial',
  'initials', 'int', 'int64', 'isAbs', 'join', 'kebabcase', 'keys', 'kindIs', 'kindOf', 'last', 'list', 'lower',
  'max', 'maxf', 'merge', 'mergeOverwrite', 'min', 'minf', 'mod', 'mul', 'mulf', 'mustAppend', 'mustChunk',
  'mustCompact', 'mustDeepCopy', 'mustFirst', 'mustFromJson', 'mustHas', 'mustInitial', 'mustLast', 'mustMerge',
  'mustMergeOverwrite', 'mustPrepend', 'mustPush', 'mustRegexFind', 'mustRegexFindAll', 'mustRegexMatch',
  'mustRegexReplaceAll', 'mustRegexReplaceAllLiteral', 'mustRegexSplit', 'mustRest', 'mustReverse', 'mustSlice',
  'mustToDate', 'mustToJson', 'mustToPrettyJson', 'mustToRawJson', 'mustUniq', 'mustWithout', 'nindent',
  'nospace', 'omit', 'osBase', 'osClean', 'osDir', 'osExt', 'osIsAbs', 'pick', 'pluck', 'plural', 'prepend',
  'push', 'quote', 'randInt', 'regexFind', 'regexFindAll', 'regexMatch', 'regexQuoteMeta', 'regexReplaceAll',
  'regexReplaceAllLiteral', 'regexSplit', 'repeat', 'replace', 'rest', 'reverse', 'round', 'semver',
  'semverCompare', 'seq', 'set', 'sha1sum', 'sha256sum', 'sha512sum', 'shuffle', 'slice', 'snakecase',
  'sortAlpha', 'split', 'splitList', 'splitn', 'squote', 'sub', 'subf', 'substr', 'swapcase', 'ternary', 'title',
  'toDecimal', 'toJson', 'toPrettyJson', 'toRawJson', 'toString', 'toStrings', 'trim', 'trimAll', 'trimPrefix',
  'trimSuffix', 'trimall', 'trunc', 'tuple', 'typeIs', 'typeIsLike', 'typeOf', 'uniq', 'unset', 'until',
  'untilStep', 'untitle', 'upper', 'urlJoin', 'urlParse', 'values', 'without', 'wrap', 'wrapWith',
];

const ALL_SPRIG: FuncMap = new Map<string, GoFunction>([...SPRIG_FUNCS, ...SPRIG_URL_FUNCS, ...SPRIG_MORE_FUNCS]);

/** sprig v3.3.0's functions that are implemented here (see the README for the few that are not). */
export const SPRIG: FuncMap = ALL_SPRIG;

/** VSO's function map: its allowlist, over what is implemented (see the README for the gaps). */
export const VSO_FUNCS: FuncMap = new Map(VSO_ALLOWED_FUNCTIONS.flatMap((name) => {
  const f = ALL_SPRIG.get(name);
  return f === undefined ? [] : [[name, f] as const];
}));

/** VSO's allowlisted names this engine does not implement (none since all nine random/crypto ones landed). */
export const VSO_MISSING_FUNCTIONS: readonly string[] = VSO_ALLOWED_FUNCTIONS.filter((name) => !ALL_SPRIG.has(name));

export const FUNC_SETS: Readonly<Record<string, FuncMap | undefined>> = { none: undefined, sprig: SPRIG, vso: VSO_FUNCS };
