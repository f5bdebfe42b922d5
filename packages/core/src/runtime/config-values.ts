// Value forms that come as text from env vars, flags and annotations, and as typed values from YAML or
// JSON: each has a plain parser (undefined when the value is not of that form) and a zod schema whose
// error says what form is expected. The schemas accept both text and the already-typed value, so one
// schema serves the environment and a config file alike. zod/mini, not zod: the schemas are the same,
// and a service bundle that uses them does not carry full zod's classes and locales (~450 KiB).
import * as z from 'zod/mini';
import { LOG_LEVELS, type LogLevel } from './logger.ts';

// Kubernetes/YAML spellings, plus Go's strconv.ParseBool forms (t, f) that vault-k8s annotations accept.
const TRUE = new Set(['true', 'yes', 'on', '1', 't', 'y']);
const FALSE = new Set(['false', 'no', 'off', '0', 'f', 'n']);

/** `true`/`false`/`yes`/`no`/`on`/`off`/`1`/`0` (any case) or a boolean; undefined otherwise. */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h|d)/g;
const BARE_SECONDS = /^\d+(?:\.\d+)?$/;

/**
 * A duration in milliseconds from `30s`, `5m`, `1h`, Go-style `1h30m`, `250ms`, `2d`, or bare seconds
 * (`30`, or the number 30); undefined otherwise. Negative durations are refused.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (BARE_SECONDS.test(text)) return Math.round(Number(text) * 1000);
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART))
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/**
 * File permission bits from octal text (`0644`, `644`, `0o644`) or a number (YAML 1.1 reads `0644` as
 * 420); undefined otherwise. Text is always octal, as in `chmod`.
 */
export function parseFileMode(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 0o7777 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(?:0o|0)?([0-7]{1,4})$/i.exec(value.trim());
  return match?.[1] === undefined ? undefined : Number.parseInt(match[1], 8);
}

function valueSchema<T>(parse: (value: unknown) => T | undefined, expected: string) {
  return z.pipe(
    z.unknown(),
    z.transform((value: unknown, payload): T => {
      const parsed = parse(value);
      if (parsed === undefined) {
        // zod/mini's transform has no addIssue: the issue is pushed as zod's addIssue would.
        payload.issues.push({ code: 'custom', message: `expected ${expected}`, input: value });
        return z.NEVER;
      }
      return parsed;
    }),
  );
}

/** A boolean from Kubernetes spellings (see {@link parseBoolean}). */
export function booleanValue() {
  return valueSchema(parseBoolean, 'true or false (also yes/no, on/off, 1/0)');
}

/** A duration in milliseconds (see {@link parseDuration}). */
export function durationMs() {
  return valueSchema(parseDuration, 'a duration like 30s, 5m, 1h30m or a number of seconds');
}

/** File permission bits (see {@link parseFileMode}). */
export function fileMode() {
  return valueSchema(parseFileMode, 'an octal file mode like 0644 or 0o600');
}

/** An http(s) URL with a host, e.g. a Vault address. */
export function httpUrl(example = 'https://vault:8200') {
  return valueSchema((value) => {
    if (typeof value !== 'string') return undefined;
    const text = value.trim();
    // new URL('vault:8200') parses (as scheme "vault:"), so the scheme and host are checked explicitly.
    const url = URL.parse(text);
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '')
      return undefined;
    return text;
  }, `a URL like ${example}`);
}

/** A log level name, any case. */
export function logLevel() {
  return valueSchema(
    (value): LogLevel | undefined => {
      if (typeof value !== 'string') return undefined;
      const text = value.trim().toLowerCase();
      return LOG_LEVELS.find((level) => level === text);
    },
    `one of ${LOG_LEVELS.join(', ')}`,
  );
}
