// The template helpers, as plain functions of their arguments so each is testable alone. The engine
// registers them; errors they throw name the helper and what was wrong with the input, never the
// input's value (it is usually a secret).
import { HelperError } from './errors.ts';
import { PemError, pemPart, type PemPart } from './pem.ts';
import { envQuote, shellQuote } from './quote.ts';
import { isRecord, lookupPath, secretData } from './secret-data.ts';

export interface HelperScope {
  /** The context the template was rendered with (`@root`). */
  root: unknown;
}

export type TemplateHelper = (args: readonly unknown[], scope: HelperScope) => unknown;

interface HelperSpec {
  /** Fewest arguments it needs (before handlebars' options object). */
  minArgs: number;
  run: TemplateHelper;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** Text from a scalar: undefined and null become empty, mappings and lists are refused. */
function text(helper: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  throw new HelperError(helper, `expected text, got ${kindOf(value)}`);
}

function pathOf(helper: string, args: readonly unknown[]): string[] {
  return args.map((arg) => {
    if (typeof arg === 'string' || typeof arg === 'number') return String(arg);
    throw new HelperError(helper, `expected key names as text, got ${kindOf(arg)}`);
  });
}

const isSource = (value: unknown): boolean => typeof value === 'object' && value !== null;

function secret(args: readonly unknown[], scope: HelperScope): unknown {
  // {{secret "a.b"}} reads from the root context; {{secret obj "a"}} from obj.
  const [first, ...rest] = args;
  const fromArgument = isSource(first);
  const data = secretData(fromArgument ? first : scope.root);
  const path = pathOf('secret', fromArgument ? rest : args);
  if (path.length === 0) return data;
  const value = lookupPath(data, path);
  if (value === undefined) {
    const keys = isRecord(data) ? Object.keys(data).sort() : [];
    const shown = keys.length > 20 ? [...keys.slice(0, 20), '…'] : keys;
    throw new HelperError(
      'secret',
      `no key ${JSON.stringify(path.join('.'))} in the secret data (keys: ${shown.join(', ') || 'none'}); use (get …) with default for an optional key`,
    );
  }
  return value;
}

function get(args: readonly unknown[]): unknown {
  const [source, ...rest] = args;
  if (source === undefined || source === null) return undefined;
  const data = secretData(source);
  const path = pathOf('get', rest);
  return path.length === 0 ? data : lookupPath(data, path);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64Decode(value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw new HelperError('base64Decode', 'the value is not valid base64');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

function pem(part: PemPart): HelperSpec {
  return { minArgs: 1, run: ([result]) => pemPart(result, part) };
}

const stringHelper = (name: string, transform: (value: string) => string): HelperSpec => ({
  minArgs: 1,
  run: ([value]) => transform(text(name, value)),
});

/** Every helper by name, with its arity. */
export const HELPERS: Readonly<Record<string, HelperSpec>> = {
  secret: { minArgs: 0, run: secret },
  get: { minArgs: 1, run: get },
  base64: stringHelper('base64', (value) => Buffer.from(value, 'utf8').toString('base64')),
  base64Decode: stringHelper('base64Decode', base64Decode),
  json: { minArgs: 1, run: ([value]) => JSON.stringify(value ?? null) },
  jsonPretty: {
    minArgs: 1,
    run: ([value, indent]) => JSON.stringify(value ?? null, null, typeof indent === 'number' ? indent : 2),
  },
  pemCertificate: pem('certificate'),
  pemPrivateKey: pem('privateKey'),
  pemCa: pem('ca'),
  pemChain: pem('chain'),
  default: {
    minArgs: 2,
    // The first argument that is not empty (undefined, null or ""), else the last one.
    run: (args) => args.find((value) => !isEmpty(value)) ?? args.at(-1),
  },
  upper: stringHelper('upper', (value) => value.toUpperCase()),
  lower: stringHelper('lower', (value) => value.toLowerCase()),
  trim: stringHelper('trim', (value) => value.trim()),
  join: {
    minArgs: 1,
    run: ([list, separator]) => {
      if (list === undefined || list === null) return '';
      if (!Array.isArray(list)) throw new HelperError('join', `expected a list, got ${kindOf(list)}`);
      return list.map((item) => text('join', item)).join(separator === undefined ? ',' : text('join', separator));
    },
  },
  split: {
    minArgs: 1,
    run: ([value, separator]) => {
      const whole = text('split', value);
      return whole === '' ? [] : whole.split(separator === undefined ? ',' : text('split', separator));
    },
  },
  shellQuote: stringHelper('shellQuote', shellQuote),
  envQuote: stringHelper('envQuote', envQuote),
};

/** Call helper `name` as a template would, without handlebars (for tests and for code reuse). */
export function callHelper(name: string, args: readonly unknown[], scope: HelperScope = { root: undefined }): unknown {
  const spec = HELPERS[name];
  if (spec === undefined) throw new HelperError(name, 'no such helper');
  if (args.length < spec.minArgs) {
    throw new HelperError(
      name,
      `expects at least ${spec.minArgs} argument${spec.minArgs === 1 ? '' : 's'}, got ${args.length}`,
    );
  }
  try {
    return spec.run(args, scope);
  } catch (error) {
    if (error instanceof PemError) throw new HelperError(name, error.message);
    throw error;
  }
}
