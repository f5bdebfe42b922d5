// The annotation value syntaxes as schemas: what the reader checks every annotation with. Each is the
// agent contract's parser for that syntax (one rule for the webhook, which reads the annotation, and the
// agent, which reads the same spellings from its environment) behind a zod schema whose issue says what
// was expected, so annotations are validated the way CRDs and the agent config are: a schema, parsed
// with safeParse, its issue named by the annotation. zod/mini, not zod: the webhook's idle memory has a
// goal (64 MiB) and zod/mini bundles only what is used (README, "One way to validate": numbers).
import * as z from 'zod/mini';
import {
  isRejected,
  parseAgentLogLevel,
  parseBool,
  parseChoice,
  parseFileMode,
  parseFraction,
  parseGoDuration,
  parseHttpUrl,
  parseInteger,
  parseNonEmpty,
  parsePort,
  parseQuantity,
  parseSecondsOrDuration,
  parseTimeout,
  type Parsed,
} from '@vaultbridge/agent/contract';

/** An annotation's text in, its typed value out, or one issue whose message is `expected …`. */
export type ValueSchema<T> = z.ZodMiniType<T, string>;

/** The schema of the syntax `parse` reads; a rejection becomes the issue `expected <what it expected>`. */
export function valueSyntax<T>(parse: (raw: string) => Parsed<T>): ValueSchema<T> {
  // One transform, no z.string() stage before it: annotation values are always strings (the reader
  // keeps only those), and a review reads ~60 of them.
  return z.transform((raw: string, context): T => {
    const value = parse(raw);
    if (!isRejected(value)) return value;
    context.issues.push({ code: 'custom', message: `expected ${value.expected}`, input: raw });
    return z.NEVER;
  });
}

/** What `schema` reads from `raw`, or the message of its first issue. */
export function readValue<T>(
  schema: ValueSchema<T>,
  raw: string,
): { ok: true; value: T } | { ok: false; message: string } {
  const result = schema.safeParse(raw);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, message: result.error.issues[0]?.message ?? 'expected a valid value' };
}

export const boolValue = valueSyntax(parseBool);
export const nonEmptyValue = valueSyntax(parseNonEmpty);
export const portValue = valueSyntax(parsePort);
export const fractionValue = valueSyntax(parseFraction);
export const goDurationValue = valueSyntax(parseGoDuration);
export const secondsOrDurationValue = valueSyntax(parseSecondsOrDuration);
export const timeoutValue = valueSyntax(parseTimeout);
export const quantityValue = valueSyntax(parseQuantity);
export const fileModeValue = valueSyntax(parseFileMode);
export const httpUrlValue = valueSyntax(parseHttpUrl);
export const agentLogLevelValue = valueSyntax(parseAgentLogLevel);

/** A decimal integer within [min, max]. Build it once, at module level: a schema per review costs. */
export function integerValue(min: number, max?: number): ValueSchema<number> {
  return valueSyntax((raw) => parseInteger(raw, min, max));
}

/** One of `choices`, any case, returned lower-cased. Build it once, at module level. */
export function choiceValue<const T extends string>(choices: readonly T[]): ValueSchema<T> {
  return valueSyntax((raw) => parseChoice(raw, choices));
}
