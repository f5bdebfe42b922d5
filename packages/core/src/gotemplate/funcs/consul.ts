// consul-template's function set for Vault Agent templates (vault-k8s `agent-inject-template-*`):
// `secret` (read, or write with "key=value" arguments), `secrets` (list), `pkiCert`, the helpers that
// need no Consul, and sprig under `sprig_` names. Consul-only functions are defined so a template that
// uses one fails with an error that names it and says why, not "function not defined".
//
// Secrets come from a DependencyBrain: a render records the Vault calls it could not answer yet, they
// are fetched, and the template is rendered again until nothing new is asked for — consul-template's
// own way of rendering (renderWithDependencies below).
import { createHash, createHmac, X509Certificate } from 'node:crypto';
import YAML from 'yaml';
import { GoFuncError, GoTemplateError } from '../errors.ts';
import { type FuncMap, type GoFunction, fn } from '../func.ts';
import type { GoTemplate } from '../template.ts';
import { GoTyped, type GoMap, type GoValue, fromJs, fromJson, toJs, typed, typeName } from '../values.ts';
import { marshalJson, strval, toFloat64, toInt64 } from './convert.ts';
import { formatFloat } from '../fmt.ts';
import { toToml } from './toml.ts';
import { compileGoRegexp, findAllIndex, goReplaceAll } from './goregexp.ts';
import { SPRIG_FUNCS, SPRIG_URL_FUNCS, goStringsSplit } from './sprig.ts';
import { SPRIG_MORE_FUNCS } from './sprig-more.ts';
import { goToLower, goToUpper } from './unicase.ts';
import {
  ExecutionState,
  explodeFunction,
  explodeMap,
  fileFunction,
  scratchValue,
  type TemplateFileReader,
  type TemplateFileWriter,
  writeToFileFunction,
} from './consul-state.ts';

/** One Vault call a template makes. */
export interface VaultDependency {
  kind: 'read' | 'write' | 'list' | 'pki';
  path: string;
  /** For writes and pkiCert: the "key=value" arguments, parsed. */
  data: Record<string, string>;
  /** Identity of the call (kind, path, arguments), as consul-template keys its dependencies. */
  key: string;
}

/** The values a render can use, and the calls it asked for that have none yet. */
export class DependencyBrain {
  private readonly values = new Map<string, GoValue>();
  private readonly asked = new Map<string, VaultDependency>();
  private state = new ExecutionState();
  /** Carries out `writeToFile` after the last render pass; without one, writeToFile fails naming why. */
  readonly writeFile: TemplateFileWriter | undefined;

  constructor(options: { writeFile?: TemplateFileWriter } = {}) {
    this.writeFile = options.writeFile;
  }

  /** What the running execution holds (its scratch, its file writes). */
  get execution(): ExecutionState {
    return this.state;
  }

  /** A new execution: an empty scratch and no writes, as consul-template builds for each Execute. */
  beginExecution(): void {
    this.state = new ExecutionState();
  }

  recall(dep: VaultDependency): GoValue | undefined {
    if (this.values.has(dep.key)) return this.values.get(dep.key);
    this.asked.set(dep.key, dep);
    return undefined;
  }

  remember(dep: VaultDependency, value: GoValue): void {
    this.values.set(dep.key, value);
  }

  /** Forgets every value and call (a new render with fresh data). */
  reset(): void {
    this.values.clear();
    this.asked.clear();
    this.state = new ExecutionState();
  }

  /** Calls asked for since the last take, without a value. */
  takeMissing(): VaultDependency[] {
    const missing = [...this.asked.values()].filter((d) => !this.values.has(d.key));
    this.asked.clear();
    return missing;
  }
}

export function dependency(kind: VaultDependency['kind'], path: string, args: readonly string[] = []): VaultDependency {
  const data: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0)
      throw new GoFuncError(
        `invalid value "${arg.replace(/=.*/, '=…')}": expected "key=value"`,
        'invalid key=value argument',
      );
    data[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  const clean = path.replace(/^\/+|\/+$/g, '');
  return {
    kind,
    path: clean,
    data,
    key: `${kind}:${clean}?${Object.keys(data)
      .sort()
      .map((k) => `${k}=${data[k]}`)
      .join('&')}`,
  };
}

/** consul-template's *dependency.Secret for a Vault response (Data with json.Number numbers). */
export function secretValue(response: {
  request_id?: string;
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  data?: unknown;
  warnings?: string[] | null;
}): GoTyped {
  const fields: Record<string, GoValue> = {
    RequestID: response.request_id ?? '',
    LeaseID: response.lease_id ?? '',
    LeaseDuration: BigInt(Math.trunc(response.lease_duration ?? 0)),
    Renewable: response.renewable ?? false,
    Data: fromJs(response.data ?? {}, 'json.Number'),
    Warnings: typed([...(response.warnings ?? [])], '[]string'),
  };
  return new GoTyped(
    '*dependency.Secret',
    'struct',
    fields,
    `&{${fields.RequestID} ${fields.LeaseID} ${fields.LeaseDuration} ${fields.Renewable} <data> <warnings> <nil> <nil>}`,
  );
}

export interface PemParts {
  Cert: string;
  Key: string;
  CA: string;
  /** The certificate's validity (ms since the epoch), when there is one. */
  notBefore?: number;
  notAfter?: number;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * The PEM blocks of `text` as pkiCert sorts them: a private key is Key, a CA certificate is CA, any
 * other certificate is Cert (consul-template reads the destination file, or the issued PEMs, this way).
 */
export function pemParts(text: string): PemParts {
  const parts: PemParts = { Cert: '', Key: '', CA: '' };
  for (const match of text.matchAll(PEM_BLOCK)) {
    const block = `${match[0]}\n`;
    if ((match[1] as string).endsWith('PRIVATE KEY')) {
      parts.Key = block;
      continue;
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      throw new GoFuncError('pkiCert: a PEM block is not a certificate');
    }
    if (cert.ca) parts.CA = block;
    else {
      parts.Cert = block;
      parts.notBefore = Date.parse(cert.validFrom);
      parts.notAfter = Date.parse(cert.validTo);
    }
  }
  return parts;
}

/** consul-template's rule: a certificate is reused while 90% of its remaining time exceeds 10% of its life. */
export function certificateStillGood(parts: PemParts, now: number = Date.now()): boolean {
  if (parts.notBefore === undefined || parts.notAfter === undefined || parts.Cert === '') return false;
  const start = Math.floor(parts.notBefore / 1000);
  const end = Math.floor(parts.notAfter / 1000);
  const nowSeconds = Math.floor(now / 1000);
  if (end <= nowSeconds) return false;
  return Math.floor(((end - nowSeconds) * 9) / 10) > Math.floor((end - start) / 10);
}

/** The PemEncoded value pkiCert returns: .Cert, .Key, .CA (and .Data, the same, as consul-template has). */
export function pkiValue(parts: Pick<PemParts, 'Cert' | 'Key' | 'CA'>): GoTyped {
  const fields: Record<string, GoValue> = { Cert: parts.Cert, Key: parts.Key, CA: parts.CA };
  const value = new GoTyped('dependency.PemEncoded', 'struct', fields, '{<pem>}');
  fields.Data = value;
  return value;
}

const CONSUL_ONLY = [
  'key',
  'keyExists',
  'keyOrDefault',
  'ls',
  'safeLs',
  'tree',
  'safeTree',
  'service',
  'services',
  'connect',
  'node',
  'nodes',
  'datacenters',
  'caRoots',
  'caLeaf',
  'byKey',
  'byPort',
  'byTag',
  'byMeta',
  'partitions',
  'peerings',
  'exportedServices',
  'nomadService',
  'nomadServices',
  'nomadVar',
  'nomadVarList',
  'nomadVarExists',
  'nomadVarListSafe',
];

/**
 * consul-template functions the agent refuses on purpose, each with why (the template fails at the
 * call, naming the function): they run programs or inspect the agent's own container.
 */
const REFUSED: ReadonlyArray<readonly [string, string]> = [
  [
    'plugin',
    "plugin runs a program inside the agent container, which holds the pod's Vault token; Vaultbridge's agent runs no programs from templates (render the input with secret and post-process it in the application)",
  ],
  [
    'sockaddr',
    "sockaddr reports the agent container's network interfaces, which are the pod's; read the pod IP from the downward API (status.podIP) instead",
  ],
  [
    'spew_dump',
    'spew_dump prints Go memory addresses and map orders that change from run to run; use toJSONPretty to inspect a value',
  ],
  [
    'spew_printf',
    'spew_printf prints Go memory addresses and map orders that change from run to run; use printf with toJSON',
  ],
  [
    'spew_sdump',
    'spew_sdump prints Go memory addresses and map orders that change from run to run; use toJSONPretty to inspect a value',
  ],
  [
    'spew_sprintf',
    'spew_sprintf prints Go memory addresses and map orders that change from run to run; use printf with toJSON',
  ],
];

const s = (v: GoValue): string => v as string;

/** strconv.ParseInt/ParseUint(s, 10, 64), as consul-template's parseInt/parseUint call them. */
function parseIntBase(v: string, unsigned: boolean): bigint {
  const name = unsigned ? 'parseUint' : 'parseInt';
  const m = unsigned ? /^\+?(\d+)$/.exec(v) : /^([+-]?\d+)$/.exec(v);
  if (m === null)
    throw new GoFuncError(
      `${name}: strconv.Parse${unsigned ? 'Uint' : 'Int'}: parsing ${JSON.stringify(v)}: invalid syntax`,
      `${name}: invalid syntax`,
    );
  const n = BigInt(m[1] as string);
  const ok = unsigned ? n < 1n << 64n : n >= -(1n << 63n) && n < 1n << 63n;
  if (!ok)
    throw new GoFuncError(
      `${name}: strconv.Parse${unsigned ? 'Uint' : 'Int'}: parsing ${JSON.stringify(v)}: value out of range`,
      `${name}: value out of range`,
    );
  return n;
}

/** A number as gopkg.in/yaml.v2 writes it: the exact text, emitted plain. */
class YamlNumberText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

const yamlNumberTag: YAML.ScalarTag = {
  tag: 'tag:vaultbridge.dev,2026:go-number',
  default: true,
  identify: (value) => value instanceof YamlNumberText,
  resolve: (text) => text,
  stringify: (item) => (item.value as YamlNumberText).text,
};

function yamlFloat(x: number): YamlNumberText {
  const text = formatFloat(x, 'g', -1);
  return new YamlNumberText(text === '+Inf' ? '.inf' : text === '-Inf' ? '-.inf' : text === 'NaN' ? '.nan' : text);
}

/**
 * The value as yaml.v2 sees it: float64 through strconv's 'g' (1e+06, not 1000000), and json.Number
 * (Vault's numbers) as yaml.v2 treats it — an int64 when it parses as one, else a float64, else its
 * text — so `port: 5432` is a number, not the quoted string "5432".
 */
function toYamlJs(v: GoValue): unknown {
  if (typeof v === 'number') return yamlFloat(v);
  if (Array.isArray(v)) return v.map(toYamlJs);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, toYamlJs(x)]));
  if (v instanceof GoTyped && v.type === 'json.Number') {
    const text = String(v.value);
    if (/^-?\d+$/.test(text)) {
      const n = BigInt(text);
      if (n >= -(2n ** 63n) && n < 2n ** 63n) return new YamlNumberText(n.toString());
    }
    const f = Number(text);
    return text.trim() !== '' && !Number.isNaN(f) ? yamlFloat(f) : text;
  }
  return toJs(v);
}

function toYaml(v: GoValue): string {
  // consul-template marshals with gopkg.in/yaml.v2: block style, sorted keys, no trailing newline, and
  // YAML 1.1 quoting (yaml.v2 quotes "on", "y", "no" … because 1.1 reads them as booleans).
  const out = YAML.stringify(toYamlJs(v), {
    version: '1.1',
    sortMapEntries: true,
    lineWidth: 0,
    indentSeq: false,
    customTags: [yamlNumberTag],
  });
  return out.endsWith('\n') ? out.slice(0, -1) : out;
}

function mergeMaps(dst: GoMap, src: GoMap, override: boolean): GoMap {
  const out: GoMap = new Map(dst);
  for (const [k, v] of src) {
    const existing = out.get(k);
    if (existing instanceof Map && v instanceof Map) out.set(k, mergeMaps(existing, v, override));
    else if (override || !out.has(k)) out.set(k, v);
  }
  return out;
}

/** consul-template's math: ints stay ints, a float makes a float; division by zero is an error. */
function math(op: string, b: GoValue, a: GoValue): GoValue {
  const isFloat = typeof a === 'number' || typeof b === 'number';
  if (isFloat) {
    const x = toFloat64(a);
    const y = toFloat64(b);
    switch (op) {
      case 'add':
        return x + y;
      case 'subtract':
        return x - y;
      case 'multiply':
        return x * y;
      case 'divide':
        if (y === 0) throw new GoFuncError('divide: division by 0');
        return x / y;
      case 'modulo':
        if (y === 0) throw new GoFuncError('modulo: division by 0');
        return x % y;
      case 'minimum':
        return Math.min(x, y);
      default:
        return Math.max(x, y);
    }
  }
  const x = toInt64(a);
  const y = toInt64(b);
  switch (op) {
    case 'add':
      return x + y;
    case 'subtract':
      return x - y;
    case 'multiply':
      return x * y;
    case 'divide':
      if (y === 0n) throw new GoFuncError('divide: division by 0');
      return x / y;
    case 'modulo':
      if (y === 0n) throw new GoFuncError('modulo: division by 0');
      return x % y;
    case 'minimum':
      return x < y ? x : y;
    default:
      return x > y ? x : y;
  }
}

export interface ConsulTemplateOptions {
  brain: DependencyBrain;
  /** What `file` may read (none: `file` fails naming why); see confinedFileReader. */
  readFile?: TemplateFileReader;
  /** The process environment the agent may expose (env, envOrDefault). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Clock for `timestamp`. */
  now?: () => Date;
}

/** What the functions that keep state are bound to: one function map's options, defaults filled in. */
interface Bindings {
  readonly brain: DependencyBrain;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => Date;
  readonly readFile: TemplateFileReader | undefined;
}

/** Makes one function map's own copy of a function that reads the brain, files, environment or clock. */
type Bind = (bindings: Bindings) => GoFunction;

const systemNow = (): Date => new Date();

/**
 * consul-template's functions, in its order. Most are pure and shared by every function map of the
 * process; the few that keep state are binders, made into functions per map when first looked up.
 */
const FUNCTIONS: ReadonlyArray<readonly [string, GoFunction | Bind]> = [
  [
    'secret',
    ({ brain }) =>
      fn(
        ['string'],
        (path, ...args) => {
          const dep = dependency(args.length > 0 ? 'write' : 'read', s(path), args as string[]);
          return brain.recall(dep) ?? null;
        },
        'string',
      ),
  ],
  [
    'secrets',
    ({ brain }) => fn(['string'], (path) => brain.recall(dependency('list', s(path))) ?? typed([], '[]string')),
  ],
  [
    'pkiCert',
    ({ brain }) =>
      fn(
        ['string'],
        (path, ...args) =>
          brain.recall(dependency('pki', s(path), args as string[])) ?? pkiValue({ Cert: '', Key: '', CA: '' }),
        'string',
      ),
  ],
  ['base64Encode', fn(['string'], (v) => Buffer.from(s(v), 'utf8').toString('base64'))],
  [
    'base64Decode',
    fn(['string'], (v) => {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s(v)) || s(v).length % 4 !== 0)
        throw new GoFuncError('base64Decode: illegal base64 data');
      return Buffer.from(s(v), 'base64').toString('utf8');
    }),
  ],
  [
    'base64URLEncode',
    fn(['string'], (v) =>
      Buffer.from(s(v), 'utf8')
        .toString('base64url')
        .padEnd(Math.ceil(Buffer.byteLength(s(v)) / 3) * 4, '='),
    ),
  ],
  [
    'base64URLDecode',
    fn(['string'], (v) => {
      if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s(v)) || s(v).length % 4 !== 0)
        throw new GoFuncError('base64URLDecode: illegal base64 data');
      return Buffer.from(s(v), 'base64url').toString('utf8');
    }),
  ],
  ['toJSON', fn(['any'], (v) => marshalJson(v))],
  ['toJSONPretty', fn(['any'], (v) => marshalJson(v, { escapeHTML: true, indent: '  ' }))],
  ['toUnescapedJSON', fn(['any'], (v) => marshalJson(v, { escapeHTML: false }))],
  ['toUnescapedJSONPretty', fn(['any'], (v) => marshalJson(v, { escapeHTML: false, indent: '  ' }))],
  ['toYAML', fn(['any'], (v) => toYaml(v))],
  ['toTOML', fn(['map'], (v) => toToml(v as GoMap))],
  [
    'parseJSON',
    fn(['string'], (v) => {
      if (s(v).trim() === '') return new Map();
      try {
        return fromJson(s(v));
      } catch {
        throw new GoFuncError('parseJSON: invalid JSON');
      }
    }),
  ],
  [
    'parseYAML',
    fn(['string'], (v) => {
      try {
        // yaml.v2 reads YAML 1.1: `y`, `yes`, `on` are booleans there.
        return fromJs(YAML.parse(s(v), { version: '1.1' }) ?? new Map());
      } catch {
        throw new GoFuncError('parseYAML: invalid YAML');
      }
    }),
  ],
  [
    'parseBool',
    fn(['string'], (v) => {
      if (s(v) === '') return false;
      if (/^(1|t|T|TRUE|true|True)$/.test(s(v))) return true;
      if (/^(0|f|F|FALSE|false|False)$/.test(s(v))) return false;
      throw new GoFuncError(
        `parseBool: strconv.ParseBool: parsing ${JSON.stringify(s(v))}: invalid syntax`,
        'parseBool: invalid syntax',
      );
    }),
  ],
  ['parseInt', fn(['string'], (v) => (s(v) === '' ? 0n : new GoTyped('int64', 'int', parseIntBase(s(v), false))))],
  ['parseUint', fn(['string'], (v) => (s(v) === '' ? 0n : new GoTyped('uint64', 'uint', parseIntBase(s(v), true))))],
  [
    'parseFloat',
    fn(['string'], (v) => {
      if (s(v) === '') return 0;
      const f = Number(s(v));
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s(v)) || Number.isNaN(f))
        throw new GoFuncError(`parseFloat: invalid syntax`);
      return f;
    }),
  ],
  [
    'split',
    fn(['string', 'string'], (sep, v) =>
      typed(s(v).trim() === '' ? [] : goStringsSplit(s(v).trim(), s(sep), -1), '[]string'),
    ),
  ],
  [
    'splitToMap',
    fn(['string', 'string', 'string'], (pairSep, kvSep, v) => {
      const out: GoMap = new Map();
      const text = s(v).trim();
      if (text === '') return typed(out, 'map[string]string');
      for (const pair of goStringsSplit(text, s(pairSep), -1)) {
        // A pair without the separator is skipped, as strings.Cut reports it.
        const kv = goStringsSplit(pair, s(kvSep), 2);
        if (kv.length === 2) out.set(kv[0] as string, kv[1] as string);
      }
      return typed(out, 'map[string]string');
    }),
  ],
  ['join', fn(['string', 'strings'], (sep, list) => (list as string[]).join(s(sep)))],
  ['trimSpace', fn(['string'], (v) => s(v).trim())],
  // The input comes last, so `{{ .x | trimPrefix "v" }}` reads as in consul-template's documentation.
  ['trim', fn(['string', 'string'], (cut, v) => trimSet(s(v), s(cut)))],
  ['trimPrefix', fn(['string', 'string'], (p, v) => (s(v).startsWith(s(p)) ? s(v).slice(s(p).length) : s(v)))],
  [
    'trimSuffix',
    fn(['string', 'string'], (p, v) => (s(p) !== '' && s(v).endsWith(s(p)) ? s(v).slice(0, -s(p).length) : s(v))),
  ],
  // contains is `in` with its arguments reversed, for pipes: `{{ .tags | contains "x" }}`.
  ['contains', fn(['any', 'any'], (needle, hay) => goIn(hay, needle))],
  // Go's []interface{} for the needles: a []string (split's result) is refused, as consul-template does.
  ['containsAll', fn(['list', 'any'], (needles, hay) => listOf(needles).every((n) => goIn(hay, n)))],
  ['containsAny', fn(['list', 'any'], (needles, hay) => listOf(needles).some((n) => goIn(hay, n)))],
  ['containsNone', fn(['list', 'any'], (needles, hay) => !listOf(needles).some((n) => goIn(hay, n)))],
  ['containsNotAll', fn(['list', 'any'], (needles, hay) => !listOf(needles).every((n) => goIn(hay, n)))],
  ['in', fn(['any', 'any'], (hay, needle) => goIn(hay, needle))],
  [
    'indent',
    fn(['int', 'string'], (n, v) => {
      if ((n as bigint) < 0n) throw new GoFuncError('indent value must be a positive integer');
      const pad = ' '.repeat(Number(n));
      // Only lines with something on them get the prefix.
      return s(v)
        .split('\n')
        .map((line) => (line === '' ? line : pad + line))
        .join('\n');
    }),
  ],
  ['replaceAll', fn(['string', 'string', 'string'], (from, to, v) => s(v).split(s(from)).join(s(to)))],
  ['regexMatch', fn(['string', 'string'], (re, v) => findAllIndex(compileGoRegexp(s(re)), s(v), 1).length > 0)],
  [
    'regexReplaceAll',
    fn(['string', 'string', 'string'], (re, to, v) => goReplaceAll(compileGoRegexp(s(re)), s(v), s(to), false)),
  ],
  ['sha256Hex', fn(['string'], (v) => createHash('sha256').update(s(v), 'utf8').digest('hex'))],
  ['md5sum', fn(['string'], (v) => createHash('md5').update(s(v), 'utf8').digest('hex'))],
  [
    'hmacSHA256Hex',
    fn(['string', 'string'], (message, key) => createHmac('sha256', s(key)).update(s(message), 'utf8').digest('hex')),
  ],
  [
    'timestamp',
    ({ now }) =>
      fn(
        [],
        (...f) => {
          const d = now();
          if (f.length === 0) return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
          if (f[0] === 'unix') return String(Math.floor(d.getTime() / 1000));
          throw new GoFuncError('timestamp: only the default layout and "unix" are supported');
        },
        'string',
      ),
  ],
  ['toLower', fn(['string'], (v) => goToLower(s(v)))],
  ['toUpper', fn(['string'], (v) => goToUpper(s(v)))],
  [
    'toTitle',
    fn(['string'], (v) =>
      s(v).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
    ),
  ],
  [
    'loop',
    fn(
      ['any'],
      (a, ...b) => {
        const start = b.length === 0 ? 0n : toInt64(a);
        const stop = b.length === 0 ? toInt64(a) : toInt64(b[0] as GoValue);
        const out: GoValue[] = [];
        for (let i = start; i < stop; i++) out.push(i);
        return typed(out, '[]int');
      },
      'any',
    ),
  ],
  ['explode', explodeFunction],
  ['explodeMap', fn(['map'], (m) => explodeMap(m as GoMap))],
  [
    'scratch',
    ({ brain }) => {
      // One value for the whole map; its methods act on the running execution's scratch.
      const scratch = scratchValue(() => brain.execution);
      return fn([], () => scratch);
    },
  ],
  ['writeToFile', ({ brain }) => writeToFileFunction(() => brain.execution)],
  ['file', ({ readFile }) => fileFunction(readFile)],
  // mergo.Merge(dst = the first map, src = the second): without override the first map's values stay.
  ['mergeMap', fn(['map', 'map'], (a, b) => mergeMaps(a as GoMap, b as GoMap, false))],
  ['mergeMapWithOverride', fn(['map', 'map'], (a, b) => mergeMaps(a as GoMap, b as GoMap, true))],
  [
    'executeTemplate',
    {
      params: ['string'],
      variadic: 'any',
      call: () => '',
      callWith: (executor, name, ...data) => {
        if (data.length > 1)
          throw new GoFuncError(
            `executeTemplate: wrong number of arguments, expected 1 or 2, but got ${data.length + 1}`,
          );
        return executor.execute(s(name), data.length === 0 ? undefined : (data[0] as GoValue));
      },
    },
  ],
  ['env', ({ env }) => fn(['string'], (k) => env[s(k)] ?? '')],
  ['envOrDefault', ({ env }) => fn(['string', 'string'], (k, d) => env[s(k)] ?? s(d))],
  [
    'mustEnv',
    ({ env }) =>
      fn(['string'], (k) => {
        const value = env[s(k)] ?? '';
        if (value === '') throw new GoFuncError(`required environment variable ${s(k)} is empty`);
        return value;
      }),
  ],
  ...(['add', 'subtract', 'multiply', 'divide', 'modulo', 'minimum', 'maximum'] as const).map(
    (op): [string, GoFunction] => [op, fn(['any', 'any'], (b, a) => math(op, b, a))],
  ),
  ...CONSUL_ONLY.map((name): [string, GoFunction] => [
    name,
    fn(
      [],
      () => {
        throw new GoFuncError(
          `${name} reads Consul or Nomad, which Vaultbridge's agent does not connect to; read the value from Vault with secret instead`,
        );
      },
      'any',
    ),
  ]),
  ...REFUSED.map(([name, why]): [string, GoFunction] => [
    name,
    fn(
      [],
      () => {
        throw new GoFuncError(why);
      },
      'any',
    ),
  ]),
  ...[...SPRIG_FUNCS, ...SPRIG_URL_FUNCS, ...SPRIG_MORE_FUNCS].map(([name, f]): [string, GoFunction] => [
    `sprig_${name}`,
    f,
  ]),
];

/** Name → shared function or binder; a later entry of a name replaces an earlier one, as Map.set did. */
const TABLE: ReadonlyMap<string, GoFunction | Bind> = new Map(FUNCTIONS);

/**
 * One template's view of consul-template's functions. Parsing only asks whether a name exists, which
 * the shared table answers, so a compile that only checks a template (the webhook at admission) makes
 * no functions at all; the stateful ones are made on first lookup, once per map.
 */
class ConsulFuncMap implements ReadonlyMap<string, GoFunction> {
  private readonly bindings: Bindings;
  private bound: Map<string, GoFunction> | undefined;

  constructor(bindings: Bindings) {
    this.bindings = bindings;
  }

  get size(): number {
    return TABLE.size;
  }

  has(name: string): boolean {
    return TABLE.has(name);
  }

  get(name: string): GoFunction | undefined {
    const entry = TABLE.get(name);
    if (typeof entry !== 'function') return entry;
    this.bound ??= new Map();
    let f = this.bound.get(name);
    if (f === undefined) {
      f = entry(this.bindings);
      this.bound.set(name, f);
    }
    return f;
  }

  forEach(
    callback: (value: GoFunction, key: string, map: ReadonlyMap<string, GoFunction>) => void,
    thisArg?: unknown,
  ): void {
    for (const [name, f] of this) callback.call(thisArg, f, name, this);
  }

  *entries(): MapIterator<[string, GoFunction]> {
    for (const name of TABLE.keys()) yield [name, this.get(name) as GoFunction];
  }

  keys(): MapIterator<string> {
    return TABLE.keys();
  }

  *values(): MapIterator<GoFunction> {
    for (const name of TABLE.keys()) yield this.get(name) as GoFunction;
  }

  [Symbol.iterator](): MapIterator<[string, GoFunction]> {
    return this.entries();
  }
}

/** consul-template's function map over a brain of Vault answers. */
export function consulTemplateFuncs(options: ConsulTemplateOptions): FuncMap {
  return new ConsulFuncMap({
    brain: options.brain,
    env: options.env ?? {},
    now: options.now ?? systemNow,
    readFile: options.readFile,
  });
}

function listOf(v: GoValue): GoValue[] {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined) return [];
  throw new GoFuncError(`expected a list, got ${typeName(v)}`);
}

/** Go's reflect kind and type of a value, as consul-template's `in` compares them. */
function kindOf(v: GoValue): { kind: string; type: string } {
  if (typeof v === 'string') return { kind: 'string', type: 'string' };
  if (typeof v === 'bigint') return { kind: 'int', type: 'int' };
  if (typeof v === 'number') return { kind: 'float', type: 'float64' };
  if (v instanceof GoTyped) return { kind: v.kind, type: v.type };
  return { kind: 'other', type: typeName(v) };
}

/**
 * consul-template's `in` on one element: ints equal ints, floats equal floats, and strings equal
 * only strings of the same Go type (a json.Number is never the string "5432"); nothing else matches.
 */
function goElementEqual(x: GoValue, needle: GoValue): boolean {
  const a = kindOf(x);
  const b = kindOf(needle);
  if (a.kind === 'int' && b.kind === 'int')
    return (
      BigInt((x instanceof GoTyped ? x.value : x) as bigint) ===
      BigInt((needle instanceof GoTyped ? needle.value : needle) as bigint)
    );
  if (a.kind === 'float' && b.kind === 'float')
    return Number(x instanceof GoTyped ? x.value : x) === Number(needle instanceof GoTyped ? needle.value : needle);
  if (a.kind === 'string') return a.type === b.type && strval(x) === strval(needle);
  return false;
}

function inList(list: GoValue[], needle: GoValue): boolean {
  return list.some((x) => goElementEqual(x, needle));
}

/** consul-template's `in l v`: membership in a slice, or a substring of a string of the same type. */
function goIn(hay: GoValue, needle: GoValue): boolean {
  if (Array.isArray(hay)) return inList(hay, needle);
  const h = kindOf(hay);
  if (h.kind === 'string') return h.type === kindOf(needle).type && strval(hay).includes(strval(needle));
  return false;
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

/** Fetches what a render asks Vault for; throws to fail the render (its message names the path). */
export type DependencyResolver = (dep: VaultDependency) => Promise<GoValue>;

/**
 * Renders the way consul-template does: a pass records the Vault calls it could not answer, they are
 * fetched in parallel, and the template renders again until no new call appears. Errors of a pass
 * that still had unanswered calls are not errors yet (the data was missing).
 */
export async function renderWithDependencies(
  template: GoTemplate,
  brain: DependencyBrain,
  resolve: DependencyResolver,
  data: GoValue = undefined,
  maxPasses = 10,
): Promise<string> {
  for (let pass = 0; pass < maxPasses; pass++) {
    let output: string | undefined;
    let failure: unknown;
    brain.beginExecution();
    try {
      output = template.executeValue(data);
    } catch (error) {
      failure = error;
    }
    const missing = brain.takeMissing();
    if (missing.length === 0) {
      if (failure !== undefined) throw failure;
      await carryOutWrites(template.name, brain);
      return output as string;
    }
    const values = await Promise.all(missing.map((dep) => resolve(dep)));
    missing.forEach((dep, i) => brain.remember(dep, values[i] as GoValue));
  }
  throw new GoTemplateError(
    'limit',
    template.name,
    `template: ${template.name}: still asking Vault for new secrets after ${maxPasses} renders`,
  );
}

/** The last pass's writeToFile calls, in the order the template made them. */
async function carryOutWrites(name: string, brain: DependencyBrain): Promise<void> {
  const writes = brain.execution.writes;
  if (writes.length === 0) return;
  const writer = brain.writeFile;
  for (const write of writes) {
    if (writer === undefined) {
      throw new GoTemplateError(
        'exec',
        name,
        `template: ${name}: writeToFile ${JSON.stringify(write.path)}: this renderer writes no files; the agent writes them inside the pod's volumes`,
      );
    }
    try {
      await writer(write);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new GoTemplateError(
        'exec',
        name,
        `template: ${name}: writeToFile ${JSON.stringify(write.path)}: ${reason}`,
      );
    }
  }
}
