// Regular expressions from untrusted specs (operator include/exclude rules) run on the service's only
// event loop, so they must take linear time in the input whatever the pattern: a backtracking engine
// (JavaScript's RegExp) lets `^(a+)+$` stall every tenant on one hostile key name. re2js is a pure
// JavaScript port of RE2 (no native build), with Go's `regexp` syntax and limits (repeat counts up to
// 1000, no backreferences, no lookaround), which is also the engine the Vault Secrets Operator uses, so
// a pattern means here what it means there.
import { RE2JS, RE2JSException } from 're2js';

/** Longest pattern accepted: compile cost and program size grow with it. */
export const MAX_REGEX_LENGTH = 1024;
/** Largest compiled program accepted (RE2 instructions); bounds memory and time per character. */
export const MAX_REGEX_PROGRAM_SIZE = 10_000;

export class UnsupportedRegexError extends Error {
  readonly code = 'REGEX_UNSUPPORTED';
  /** Why the pattern was refused, without the pattern itself. */
  readonly reason: string;

  constructor(reason: string) {
    super(`is not a supported RE2 regular expression: ${reason}`);
    this.name = 'UnsupportedRegexError';
    this.reason = reason;
  }
}

/** A compiled pattern whose matching time is linear in the input. */
export interface LinearRegex {
  readonly source: string;
  /** True when the pattern matches anywhere in `text` (Go's `MatchString`; anchor with ^ and $). */
  test(text: string): boolean;
}

/**
 * Compiles `source` with RE2 semantics; throws {@link UnsupportedRegexError} for syntax RE2 does not
 * have (backreferences, lookaround, possessive quantifiers) and for patterns over the size limits.
 */
export function compileLinearRegex(source: string): LinearRegex {
  if (source.length > MAX_REGEX_LENGTH) throw new UnsupportedRegexError(`longer than ${MAX_REGEX_LENGTH} characters`);
  let compiled: RE2JS;
  try {
    // Flags 0: no lookbehinds (re2js can opt into them; RE2 and Go cannot).
    compiled = RE2JS.compile(source, 0);
  } catch (error) {
    if (error instanceof RE2JSException)
      throw new UnsupportedRegexError(error.message.replace(/^error parsing regexp: /, ''));
    throw error;
  }
  if (compiled.programSize() > MAX_REGEX_PROGRAM_SIZE) {
    throw new UnsupportedRegexError(
      `compiles to ${compiled.programSize()} instructions, more than ${MAX_REGEX_PROGRAM_SIZE}; simplify it`,
    );
  }
  return {
    source,
    test: (text: string) => compiled.test(text),
  };
}
