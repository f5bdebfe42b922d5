// Configuration is parsed once, at the edge, into a typed value. When it is wrong, the error lists every
// bad field by the name the user wrote (a dotted path, or the env var), what was expected and what was
// given, so it can be fixed in one go. The given value is never shown for a field that looks secret.
// zod's core, not zod: the schema may be a zod or a zod/mini one (the agent's config schema is zod/mini,
// to keep full zod out of its bundle), and core's safeParse parses either.
import { safeParse, type $ZodIssue, type $ZodRawIssue, type $ZodType, type output } from 'zod/v4/core';

export interface ConfigIssue {
  /** The field as the user knows it: `vault.address`, `objects.0.objectName` or `VAULT_ADDR`. */
  field: string;
  /** E.g. `expected a URL like https://vault:8200, got "vault:8200"`. */
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  /** Where the configuration came from, e.g. `environment` or `/etc/vaultbridge/config.yaml`. */
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    const lines = issues.map((issue) => `${issue.field}: ${issue.message}`);
    super(
      lines.length === 1
        ? `invalid configuration from ${source}: ${lines[0]}`
        : `invalid configuration from ${source}:\n${lines.map((line) => `  ${line}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}

export interface ParseConfigOptions {
  /** Named in the error. Default `configuration`. */
  source?: string;
  /** Fields (dotted paths or display names) whose given value is never shown, beyond the name heuristic. */
  secretFields?: readonly string[];
  /**
   * Display name of a field from its dotted path (and the path itself, where list indexes are numbers
   * and mapping keys strings); default the dotted path.
   */
  fieldName?: (dottedPath: string, path: readonly PropertyKey[]) => string;
  /**
   * Whether a field's given value must never be shown, instead of the name heuristic (a field named
   * like `token` or `secret`). For configurations whose names mention secrets but hold none, such as
   * the agent's `secrets.0.destination` (a file path).
   */
  isSecret?: (dottedPath: string) => boolean;
}

// A field named like this never has its value quoted in an error.
const SECRET_NAME = /token|secret|passw|jwt|private|credential|api.?key|hmac|authorization|cookie/i;

/** Parse `input` with `schema`; throws {@link ConfigError} naming every bad field. */
export function parseConfig<Schema extends $ZodType>(
  schema: Schema,
  input: unknown,
  options: ParseConfigOptions = {},
): output<Schema> {
  const result = safeParse(schema, input, { reportInput: true, error: describeIssue });
  if (result.success) return result.data;
  const secretFields = new Set(options.secretFields ?? []);
  const issues = result.error.issues.map((issue): ConfigIssue => {
    const dotted = issue.path.map(String).join('.');
    const field = (options.fieldName ?? ((name: string) => name))(dotted, issue.path) || '(root)';
    const named = options.isSecret
      ? options.isSecret(dotted)
      : issue.path.some((part) => SECRET_NAME.test(String(part))) || SECRET_NAME.test(field);
    const secret = secretFields.has(dotted) || secretFields.has(field) || named;
    return { field, message: `${issue.message}${describeGiven(issue, secret)}` };
  });
  throw new ConfigError(options.source ?? 'configuration', issues);
}

export interface FromEnvOptions extends Omit<ParseConfigOptions, 'fieldName'> {
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Parse configuration from environment variables. `mapping` maps each variable to the dotted field it
 * fills (`{ VAULT_ADDR: 'vault.address' }`); errors name the variable. Empty variables count as unset,
 * as Kubernetes manifests often set `value: ""` to mean "not set".
 */
export function fromEnv<Schema extends $ZodType>(
  schema: Schema,
  mapping: Readonly<Record<string, string>>,
  options: FromEnvOptions = {},
): output<Schema> {
  const env = options.env ?? process.env;
  const input: Record<string, unknown> = {};
  const variableOf = new Map<string, string>();
  for (const [variable, field] of Object.entries(mapping)) {
    variableOf.set(field, variable);
    const value = env[variable];
    if (value !== undefined && value !== '') setPath(input, field.split('.'), value);
  }
  return parseConfig(schema, input, {
    source: options.source ?? 'environment',
    ...(options.secretFields === undefined ? {} : { secretFields: options.secretFields }),
    fieldName: (dotted) => variableOf.get(dotted) ?? dotted,
  });
}

function setPath(target: Record<string, unknown>, parts: readonly string[], value: unknown): void {
  let node = target;
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1) {
      node[part] = value;
      return;
    }
    const next = node[part];
    if (typeof next === 'object' && next !== null) {
      node = next as Record<string, unknown>;
    } else {
      const child: Record<string, unknown> = {};
      node[part] = child;
      node = child;
    }
  }
}

const NOUNS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping of fields',
  array: 'a list',
  bigint: 'an integer',
  date: 'a date',
};

// Messages in the form "expected …"; the given value is appended by parseConfig. Schemas that carry
// their own message (`z.string({ error: '…' })`) keep it.
function describeIssue(issue: $ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${NOUNS[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return `expected ${bound(issue.origin, 'at least', issue.minimum, issue.inclusive)}`;
    case 'too_big':
      return `expected ${bound(issue.origin, 'at most', issue.maximum, issue.inclusive)}`;
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue
        ? `expected text matching ${String(issue.pattern)}`
        : `expected a valid ${issue.format}`;
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'unrecognized_keys': {
      const one = issue.keys.length === 1;
      const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ');
      return `unknown field${one ? '' : 's'} ${keys}; remove or correct ${one ? 'it' : 'them'}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'expected one of the accepted forms';
    default:
      return undefined;
  }
}

function bound(origin: string, word: string, limit: number | bigint | Date, inclusive: boolean | undefined): string {
  const value = limit instanceof Date ? limit.toISOString() : String(limit);
  switch (origin) {
    case 'string':
      return `${word} ${value} characters`;
    case 'array':
    case 'set':
      return `${word} ${value} items`;
    default:
      return inclusive === false ? `a number ${word === 'at least' ? 'above' : 'below'} ${value}` : `${word} ${value}`;
  }
}

/** A custom issue (`addIssue`) whose message already says what was given, or that is about a missing field. */
export const NO_GIVEN_VALUE = { given: false } as const;

function describeGiven(issue: $ZodIssue, secret: boolean): string {
  if (issue.code === 'unrecognized_keys' || !('input' in issue)) return '';
  if (issue.code === 'custom' && issue.params?.given === false) return '';
  if (secret)
    return issue.input === undefined ? ', got nothing' : ' (the given value is not shown: the field is secret)';
  return `, got ${show(issue.input)}`;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
    return value === '' ? 'an empty string' : quoted;
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
