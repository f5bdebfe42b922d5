// JSON bytes as Go's encoding/json writes them, so what we store (a Secret's `_raw`, a JSON-encoded
// field, the MAC input) is byte-identical to what the Go projects we replace store for the same data.
//
// Go differs from JSON.stringify in four ways that matter here:
//   - strings are HTML-safe: `<`, `>`, `&` become \u003c, \u003e, \u0026, and U+2028/2029 are escaped;
//     a lone surrogate (invalid UTF-8 on Go's side) becomes U+FFFD;
//   - map keys are sorted by their UTF-8 bytes;
//   - Vault's Go client decodes numbers as json.Number, which re-encodes the literal exactly as Vault
//     sent it (`1.0`, `1e3`, a 20-digit integer), where JS would print 1, 1000 or a rounded value;
//   - a float64 prints as strconv's shortest form, e.g. -0 stays `-0`.

const htmlEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string as Go's encoding/json writes it. */
export function goJsonString(text: string): string {
  // toWellFormed: a lone surrogate is what Go sees as invalid UTF-8, which it writes as U+FFFD.
  const wellFormed = hasLoneSurrogate(text)
    ? text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    : text;
  return JSON.stringify(wellFormed).replace(/[<>&\u2028\u2029]/g, (char) => htmlEscapes[char] ?? char);
}

function hasLoneSurrogate(text: string): boolean {
  return (
    /[\ud800-\udfff]/.test(text) && /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)
  );
}

/**
 * A float64 as encoding/json writes it: strconv's shortest form, `e` notation below 1e-6 and from
 * 1e21 on with a two-digit-minimum exponent trimmed (`1e-7`, `1e+21`), which is JavaScript's own
 * rendering except for -0. Go refuses NaN and ±Inf; they cannot come from parsed JSON, so `null`.
 */
export function goJsonNumber(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/** Where parseJsonKeepingNumbers keeps, on an object or array, the literals JS would not print back. */
const NUMBER_LITERALS = Symbol('vaultbridge.jsonNumberLiterals');
type Holder = { [NUMBER_LITERALS]?: Map<string | number, string> };

/** The literal text of `holder[key]` as it was parsed, when JS's rendering of the number differs. */
function literalOf(holder: object, key: string | number): string | undefined {
  return (holder as Holder)[NUMBER_LITERALS]?.get(key);
}

/** Go sorts map keys by their UTF-8 bytes; UTF-16 order differs above the BMP. */
function byteOrder(a: string, b: string): number {
  if (a === b) return 0;
  // Plain comparison is the UTF-8 byte order when neither has characters at or above U+D800.
  if (!/[\ud800-\uffff]/.test(a) && !/[\ud800-\uffff]/.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Go `json.Marshal` of a decoded JSON value (`map[string]interface{}` semantics: keys sorted;
 * numbers as Vault's Go client keeps them when the value came from parseJsonKeepingNumbers).
 * `undefined` members are left out, as if absent; a top-level `undefined` is `null`.
 */
export function goJson(value: unknown): string {
  return encode(value, undefined, '');
}

/** goJson of `holder[key]`, keeping the number literal parseJsonKeepingNumbers recorded for that member. */
export function goJsonMember(holder: object, key: string | number): string {
  return encode((holder as Record<string | number, unknown>)[key], holder, key);
}

function encode(value: unknown, holder: object | undefined, key: string | number): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return goJsonString(value);
    case 'number':
      return (holder && literalOf(holder, key)) ?? goJsonNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item, index) => encode(item, value, index)).join(',')}]`;
      if (value instanceof Date) return goJsonString(value.toISOString());
      const entries = Object.keys(value)
        .filter((name) => (value as Record<string, unknown>)[name] !== undefined)
        .sort(byteOrder);
      return `{${entries.map((name) => `${goJsonString(name)}:${encode((value as Record<string, unknown>)[name], value, name)}`).join(',')}}`;
    }
    default:
      return 'null';
  }
}

/**
 * JSON.parse that remembers number literals JavaScript would print differently (`1.0`, `1e3`,
 * integers past 2^53, `-0`), so goJson writes them back as Go's json.Number does. The values are
 * plain numbers, objects and arrays; the literals ride along on a hidden symbol and are dropped by
 * copies (a copy then encodes as float64 would).
 */
export function parseJsonKeepingNumbers(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  // Fast path: without a fraction, an exponent, a long integer or a negative zero there is nothing to keep.
  if (!/[0-9][.eE]|[0-9]{16}|-0/.test(text)) return value;
  new LiteralScanner(text).attach(value);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Walks the text in step with the already-parsed value and records the literals that matter. */
class LiteralScanner {
  private position = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  attach(value: unknown): void {
    this.value(value, undefined, '');
  }

  private skipSpace(): void {
    while (this.position < this.text.length && ' \t\n\r'.includes(this.text.charAt(this.position))) this.position++;
  }

  private value(value: unknown, holder: object | undefined, key: string | number): void {
    this.skipSpace();
    const char = this.text[this.position];
    // A container that is not what JSON.parse kept (an earlier duplicate key) is walked against a throwaway.
    if (char === '{') return this.object(isRecord(value) ? value : {});
    if (char === '[') return this.array(Array.isArray(value) ? value : []);
    if (char === '"') return this.skipString();
    const literal = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null/y;
    literal.lastIndex = this.position;
    const match = literal.exec(this.text);
    if (!match) throw new SyntaxError(`JSON: unexpected character at ${this.position}`);
    this.position += match[0].length;
    if (typeof value !== 'number' || holder === undefined) return;
    const keeper = holder as Holder;
    if (goJsonNumber(value) === match[0]) {
      // An earlier duplicate key may have left a literal that the last one replaces.
      keeper[NUMBER_LITERALS]?.delete(key);
      return;
    }
    let literals = keeper[NUMBER_LITERALS];
    if (!literals) {
      literals = new Map();
      Object.defineProperty(keeper, NUMBER_LITERALS, { value: literals, enumerable: false });
    }
    literals.set(key, match[0]);
  }

  private readString(): string {
    const start = this.position;
    this.position++;
    while (this.text[this.position] !== '"') this.position += this.text[this.position] === '\\' ? 2 : 1;
    this.position++;
    return JSON.parse(this.text.slice(start, this.position)) as string;
  }

  private skipString(): void {
    this.position++;
    while (this.text[this.position] !== '"') this.position += this.text[this.position] === '\\' ? 2 : 1;
    this.position++;
  }

  private object(object: Record<string, unknown>): void {
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === '}') {
      this.position++;
      return;
    }
    for (;;) {
      this.skipSpace();
      const name = this.readString();
      this.skipSpace();
      this.position++; // ':'
      // A duplicate name: JSON.parse kept the last one, and so does this walk (the last write wins).
      this.value(object[name], object, name);
      this.skipSpace();
      if (this.text[this.position++] === '}') return;
    }
  }

  private array(array: unknown[]): void {
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === ']') {
      this.position++;
      return;
    }
    for (let index = 0; ; index++) {
      this.value(array[index], array, index);
      this.skipSpace();
      if (this.text[this.position++] === ']') return;
    }
  }
}
