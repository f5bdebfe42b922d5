// Parsers for the value syntaxes annotations use. Each returns the typed value or a `Rejected` that says
// what was expected, so the caller can name the annotation and collect every problem at once.

export interface Rejected {
  readonly rejected: true;
  /** what would have been accepted, e.g. `one of 1, t, T, ...` */
  readonly expected: string;
}

export type Parsed<T> = T | Rejected;

export function isRejected<T>(value: Parsed<T>): value is Rejected {
  return typeof value === 'object' && value !== null && (value as Rejected).rejected === true;
}

function reject(expected: string): Rejected {
  return { rejected: true, expected };
}

// Go's strconv.ParseBool spellings, which vault-k8s uses (via parseutil). Case variants such as `tRuE`
// and words such as `yes` are errors there, so they are errors here.
const TRUE_SPELLINGS = ['1', 't', 'T', 'TRUE', 'true', 'True'] as const;
const FALSE_SPELLINGS = ['0', 'f', 'F', 'FALSE', 'false', 'False'] as const;
export const BOOLEAN_SPELLINGS: readonly string[] = [...TRUE_SPELLINGS, ...FALSE_SPELLINGS];

/** Kubernetes/Go boolean; the empty string is false, as parseutil.ParseBool treats it. */
export function parseBool(raw: string): Parsed<boolean> {
  if (raw === '') return false;
  if ((TRUE_SPELLINGS as readonly string[]).includes(raw)) return true;
  if ((FALSE_SPELLINGS as readonly string[]).includes(raw)) return false;
  return reject(`a boolean: one of ${BOOLEAN_SPELLINGS.join(', ')}`);
}

/** Any text that is not blank, trimmed. */
export function parseNonEmpty(raw: string): Parsed<string> {
  return raw.trim() === '' ? reject('a non-empty value') : raw.trim();
}

/** A decimal integer within [min, max]. */
export function parseInteger(raw: string, min: number, max: number = Number.MAX_SAFE_INTEGER): Parsed<number> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  if (!/^[+-]?\d+$/.test(raw)) return reject(expected);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) return reject(expected);
  return value;
}

export function parsePort(raw: string): Parsed<number> {
  return parseInteger(raw, 1, 65535);
}

/** A decimal fraction in [0, 1]. */
export function parseFraction(raw: string): Parsed<number> {
  const expected = 'a number from 0 to 1, such as 0.9';
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(raw)) return reject(expected);
  const value = Number(raw);
  return value >= 0 && value <= 1 ? value : reject(expected);
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;

/** A non-negative Go duration (`time.ParseDuration`: `300ms`, `1m30s`, `0`), in milliseconds. */
export function parseGoDuration(raw: string): Parsed<number> {
  const expected = 'a duration such as 500ms, 30s, 5m or 1h30m';
  if (raw === '0') return 0;
  const text = raw.startsWith('+') ? raw.slice(1) : raw;
  if (text === '') return reject(expected);
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = DURATION_PART.exec(text); match !== null; match = DURATION_PART.exec(text)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * (DURATION_UNITS_MS[unit ?? ''] ?? Number.NaN);
    consumed += whole.length;
  }
  if (consumed !== text.length || !Number.isFinite(total)) return reject(expected);
  return total;
}

/** Whole seconds, or a Go duration (upstream accepts only integers for agent-revoke-grace). */
export function parseSecondsOrDuration(raw: string): Parsed<number> {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = parseGoDuration(raw);
  if (isRejected(ms)) return reject('whole seconds such as 5, or a duration such as 5s');
  return Math.ceil(ms / 1000);
}

/** Client timeouts: Vault's VAULT_CLIENT_TIMEOUT takes seconds or a duration; result in milliseconds. */
export function parseTimeout(raw: string): Parsed<number> {
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const ms = parseGoDuration(raw);
  return isRejected(ms) ? reject('seconds such as 60, or a duration such as 60s') : ms;
}

// resource.ParseQuantity: a non-negative decimal with an SI, binary-SI or exponent suffix.
const QUANTITY = /^\+?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** A Kubernetes resource quantity, kept as written (the API server canonicalises it). */
export function parseQuantity(raw: string): Parsed<string> {
  return QUANTITY.test(raw) ? raw : reject('a Kubernetes quantity such as 250m, 0.5, 64Mi or 1Gi');
}

/** An octal file mode such as `0400` or `644`. */
export function parseFileMode(raw: string): Parsed<number> {
  return /^0?[0-7]{3}$/.test(raw) ? Number.parseInt(raw, 8) : reject('an octal file mode such as 0400, 0440 or 0644');
}

/** One of a fixed set, compared case-insensitively, returned lower-cased. */
export function parseChoice<T extends string>(raw: string, choices: readonly T[]): Parsed<T> {
  const lower = raw.toLowerCase();
  const found = choices.find((choice) => choice === lower);
  return found ?? reject(`one of ${choices.join(', ')}`);
}

// Vault's log level spellings (sdk/helper/logging ParseLogLevel, which vault-k8s copies): trimmed,
// case-insensitive, with `notice` for info, `warning` for warn and `err` for error; empty is info.
const LOG_LEVEL_SPELLINGS: Readonly<Record<string, 'trace' | 'debug' | 'info' | 'warn' | 'error'>> = {
  trace: 'trace',
  debug: 'debug',
  '': 'info',
  notice: 'info',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  err: 'error',
  error: 'error',
};

/** A log level as Vault accepts it, normalised to the five levels the agent and the webhook log at. */
export function parseAgentLogLevel(raw: string): Parsed<'trace' | 'debug' | 'info' | 'warn' | 'error'> {
  const level = LOG_LEVEL_SPELLINGS[raw.trim().toLowerCase()];
  return level ?? reject('a log level: trace, debug, info (or notice), warn (or warning), error (or err)');
}

/** An http(s) URL, as Vault addresses are. */
export function parseHttpUrl(raw: string): Parsed<string> {
  const expected = 'an http or https URL such as https://vault.vault.svc:8200';
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? raw : reject(expected);
  } catch {
    return reject(expected);
  }
}

/** A comma-separated list with blanks around items trimmed and empty items dropped. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
