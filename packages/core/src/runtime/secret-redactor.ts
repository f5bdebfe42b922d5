// Value-based redaction: the safety net behind key-based redaction. Whatever way a token or a secret
// value finds into a log line (an error message, a URL, a field under an innocent key), a registered
// value is replaced before the line is written. It works on the serialized JSON line, so it needs no
// knowledge of where the value sits, but only inside its string values: a short secret such as `4242`
// or `info` must not turn `"pid":4242` into invalid JSON or censor the level; each string value is
// decoded, scrubbed and encoded again, so every line stays valid JSON.

/** What replaces a token or secret value in logs. */
export const REDACTED = '[REDACTED]';

export interface SecretRedactorOptions {
  /**
   * Values shorter than this are not scrubbed by value: they would match ordinary words and numbers
   * everywhere and make logs unreadable. Key-based redaction still applies to them. Default 4.
   */
  minLength?: number;
  /** At most this many values are remembered; the oldest are forgotten first. Default 10 000. */
  maxEntries?: number;
}

// Token shapes scrubbed even when nobody registered them: Vault/OpenBao service, batch and recovery
// tokens (hvs./hvb./hvr., and the legacy s./b. forms) and JWTs such as service-account tokens.
const TOKEN_SHAPES =
  /\bhv[sbr]\.[A-Za-z0-9_-]{20,}|\b[sb]\.[A-Za-z0-9]{24,}\b|\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

// Lines of a multi-line secret (a PEM key) are also registered one by one when at least this long, so a
// single line of it logged on its own is caught too.
const MIN_LINE_LENGTH = 16;
const MAX_WALK_DEPTH = 16;
/** Registered forms longer than this are searched as strings, not put into the RegExp. */
const MAX_PATTERN_FORM_LENGTH = 1024;

// A JSON string literal, or a bracket outside one (to know the depth of each string).
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|[{}[\]]/g;
// Top-level fields pino writes from code, never from data: their values are left as they are.
const STRUCTURAL_FIELDS = new Set(['level', 'time']);

export class SecretRedactor {
  readonly #minLength: number;
  readonly #maxEntries: number;
  // Insertion-ordered, so the oldest entry is evicted first. Value → the forms searched in log lines.
  readonly #entries = new Map<string, readonly string[]>();
  #pattern: RegExp | null = null;
  #longForms: string[] = [];
  #dirty = false;

  constructor(options: SecretRedactorOptions = {}) {
    this.#minLength = Math.max(1, options.minLength ?? 4);
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  }

  /** Number of values currently registered. */
  get size(): number {
    return this.#entries.size;
  }

  /** Scrub `value` from every log line from now on. Non-strings and too-short strings are ignored. */
  register(value: unknown): void {
    if (typeof value !== 'string' || value.length < this.#minLength) return;
    if (this.#entries.has(value)) {
      // Refresh its position so a value still in use is not the next one evicted.
      const forms = this.#entries.get(value) ?? [];
      this.#entries.delete(value);
      this.#entries.set(value, forms);
      return;
    }
    this.#entries.set(value, this.#formsOf(value));
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#dirty = true;
  }

  /** Register every string found in `data` (a secret's key/value map, nested objects and lists). */
  registerData(data: unknown): void {
    this.#walk(data, 0, new WeakSet());
  }

  /** Stop scrubbing `value`, e.g. once a revoked token or an expired lease is gone for good. */
  forget(value: string): void {
    if (this.#entries.delete(value)) this.#dirty = true;
  }

  /**
   * A JSON log line with every registered value and token-shaped string replaced inside its string
   * values (object keys, numbers, booleans and pino's `level` and `time` are left alone); the result is
   * valid JSON whenever `line` was.
   */
  redactJsonLine(line: string): string {
    let depth = 0;
    let lastKey: string | undefined;
    return line.replace(JSON_TOKEN, (token, offset: number) => {
      if (token.length === 1) {
        depth += token === '{' || token === '[' ? 1 : -1;
        return token;
      }
      let decoded: string;
      try {
        decoded = JSON.parse(token) as string;
      } catch {
        // Not a valid literal (a line that is not JSON): scrub it as text.
        return this.redact(token);
      }
      if (isKey(line, offset + token.length)) {
        lastKey = decoded;
        return token;
      }
      if (depth === 1 && lastKey !== undefined && STRUCTURAL_FIELDS.has(lastKey)) return token;
      const redacted = this.redact(decoded);
      return redacted === decoded ? token : JSON.stringify(redacted);
    });
  }

  /** `text` with every registered value and every token-shaped string replaced by {@link REDACTED}. */
  redact(text: string): string {
    let result = text.replace(TOKEN_SHAPES, REDACTED);
    const pattern = this.#currentPattern();
    // Long values first (longest first, as in the pattern), by plain string search.
    for (const form of this.#longForms) result = result.replaceAll(form, REDACTED);
    if (pattern !== null) result = result.replace(pattern, REDACTED);
    return result;
  }

  #walk(value: unknown, depth: number, seen: WeakSet<object>): void {
    if (typeof value === 'string') {
      this.register(value);
      return;
    }
    if (typeof value !== 'object' || value === null || depth > MAX_WALK_DEPTH || seen.has(value)) return;
    seen.add(value);
    for (const item of Array.isArray(value) ? value : Object.values(value)) this.#walk(item, depth + 1, seen);
  }

  #formsOf(value: string): string[] {
    const forms = new Set<string>();
    const add = (text: string): void => {
      // The raw value, and its JSON-escaped form for a string value that itself holds JSON (a response
      // body in an error message).
      const escaped = JSON.stringify(text).slice(1, -1);
      if (escaped.length >= this.#minLength) forms.add(escaped);
      if (text.length >= this.#minLength) forms.add(text);
    };
    add(value);
    if (value.includes('\n')) {
      for (const line of value.split(/\r?\n/)) {
        const trimmed = line.trim();
        if (trimmed.length >= Math.max(MIN_LINE_LENGTH, this.#minLength)) add(trimmed);
      }
    }
    return [...forms];
  }

  #currentPattern(): RegExp | null {
    if (this.#dirty) {
      const forms = new Set<string>();
      for (const entry of this.#entries.values()) for (const form of entry) forms.add(form);
      // Longest first, so a value that contains another registered value is replaced whole.
      const sorted = [...forms].sort((a, b) => b.length - a.length);
      // V8 refuses a RegExp source of a few hundred KiB ("Regular expression too large"), and the error
      // would carry every registered value and token: long values are searched as plain strings instead.
      this.#longForms = sorted.filter((form) => form.length > MAX_PATTERN_FORM_LENGTH);
      const short = sorted.filter((form) => form.length <= MAX_PATTERN_FORM_LENGTH);
      this.#pattern = short.length === 0 ? null : new RegExp(short.map(escapeRegExp).join('|'), 'g');
      this.#dirty = false;
    }
    return this.#pattern;
  }
}

/** Whether the JSON literal ending at `end` is an object key (the next non-blank character is `:`). */
function isKey(line: string, end: number): boolean {
  for (let index = end; index < line.length; index++) {
    const char = line[index];
    if (char === ':') return true;
    if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') return false;
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The process-wide redactor every logger from {@link createLogger} uses unless given another. */
export const defaultSecretRedactor = new SecretRedactor();

/** Scrub `value` (a token, a password, a key) from every log line of the process's loggers. */
export function registerSecret(value: unknown): void {
  defaultSecretRedactor.register(value);
}

/** Scrub every string inside `data` (e.g. a secret's data map) from the process's log lines. */
export function registerSecretData(data: unknown): void {
  defaultSecretRedactor.registerData(data);
}
