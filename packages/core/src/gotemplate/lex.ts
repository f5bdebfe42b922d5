// The lexer of Go's text/template language: text and actions between delimiters, trim markers,
// comments, and the tokens inside an action. Token kinds, the terminator rule after words and the
// error texts follow the language's documented behaviour so that messages read as Go's do.

export type TokenKind =
  | 'error'
  | 'eof'
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'assign'
  | 'declare'
  | 'pipe'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'number'
  | 'string'
  | 'rawString'
  | 'identifier'
  | 'field'
  | 'variable'
  | 'bool'
  | 'leftParen'
  | 'rightParen'
  | 'dot'
  | 'nil'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'range'
  | 'template'
  | 'with';

export const KEYWORDS: ReadonlySet<TokenKind> = new Set([
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'range',
  'nil',
  'template',
  'with',
  'dot',
] as TokenKind[]);

const KEYWORD_BY_WORD: ReadonlyMap<string, TokenKind> = new Map([
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
] as [string, TokenKind][]);

export interface Token {
  kind: TokenKind;
  /** Offset in the source (UTF-16 units). */
  pos: number;
  value: string;
  line: number;
}

export interface LexOptions {
  leftDelim: string;
  rightDelim: string;
  /** false when a function named break exists (then it is an identifier). */
  breakOK: boolean;
  continueOK: boolean;
}

// The lexer walks the source by index with charCodeAt and takes one slice per token, so what it allocates
// grows with the number of tokens, not of characters: the webhook compiles every inline template at
// admission and the agent each of its templates at start. EOF is -1 wherever a character code is read.
const EOF = -1;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const DOLLAR = 0x24;
const APOSTROPHE = 0x27;
const LEFT_PAREN = 0x28;
const RIGHT_PAREN = 0x29;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PERIOD = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const BACKQUOTE = 0x60;
const PIPE = 0x7c;

/** What {@link Lexer.rightDelimAt} finds at the position: nothing, the delimiter, or " -" and the delimiter. */
const NO_DELIM = 0;
const DELIM = 1;
const TRIM_DELIM = 2;

const isSpace = (c: number): boolean => c === SPACE || c === TAB || c === CR || c === LF;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
// Go's unicode.IsLetter || unicode.IsDigit || '_': ASCII by comparison, the rest (rare) by Unicode's categories.
const ALNUM = /^[\p{L}\p{Nd}_]$/u;
const isAlphaNumeric = (cp: number): boolean =>
  cp < 0x80
    ? (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) || isDigit(cp) || cp === UNDERSCORE
    : ALNUM.test(String.fromCodePoint(cp));
/** UTF-16 units of a code point. */
const width = (cp: number): number => (cp > 0xffff ? 2 : 1);

/** The ASCII characters of `chars` as a lookup table, for the number scanner's accept. */
function charSet(chars: string): Uint8Array {
  const set = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) set[chars.charCodeAt(i)] = 1;
  return set;
}
const SIGNS = charSet('+-');
const LEADING_ZERO = charSet('0');
const HEX_PREFIX = charSet('xX');
const OCTAL_PREFIX = charSet('oO');
const BINARY_PREFIX = charSet('bB');
const POINT = charSet('.');
const DECIMAL_EXPONENT = charSet('eE');
const HEX_EXPONENT = charSet('pP');
const IMAGINARY = charSet('i');
const DECIMAL_DIGITS = charSet('0123456789_');
const HEX_DIGITS = charSet('0123456789abcdefABCDEF_');
const OCTAL_DIGITS = charSet('01234567_');
const BINARY_DIGITS = charSet('01_');

/** Go's %#U of a code point: U+0041 'A'. */
export function goRuneDescription(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

const describe = (cp: number): string => goRuneDescription(cp === EOF ? '' : String.fromCodePoint(cp));

/** Turns a template source into tokens; errors become one 'error' token and stop the stream. */
export class Lexer {
  private readonly input: string;
  private readonly options: LexOptions;
  private readonly lineStarts: number[];
  /** Index in lineStarts of the line lineAt found last. */
  private lineIndex = 0;
  private pos = 0;
  private start = 0;
  private insideAction = false;
  private parenDepth = 0;
  private done = false;
  // One step of the lexer queues at most two tokens (text and the left delimiter, or text and an error
  // in a comment), and nextToken steps only when both are taken: two slots, no array to grow and trim.
  private first: Token | undefined = undefined;
  private second: Token | undefined = undefined;

  constructor(input: string, options: LexOptions) {
    this.input = input;
    this.options = options;
    this.lineStarts = [0];
    for (let i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** The 1-based line of `pos`. Tokens come in source order, so this walks on from the last answer. */
  lineAt(pos: number): number {
    if (pos < (this.lineStarts[this.lineIndex] ?? 0)) this.lineIndex = 0;
    while (this.lineIndex + 1 < this.lineStarts.length && (this.lineStarts[this.lineIndex + 1] ?? 0) <= pos)
      this.lineIndex++;
    return this.lineIndex + 1;
  }

  nextToken(): Token {
    while (this.first === undefined) {
      if (this.done) return { kind: 'eof', pos: this.input.length, value: '', line: this.lineAt(this.input.length) };
      if (this.insideAction) this.lexInsideAction();
      else this.lexText();
    }
    const token = this.first;
    this.first = this.second;
    this.second = undefined;
    return token;
  }

  private push(token: Token): void {
    if (this.first === undefined) this.first = token;
    else if (this.second === undefined) this.second = token;
    else throw new Error('template lexer: more than two tokens queued in one step');
  }

  private emit(kind: TokenKind, value = this.input.slice(this.start, this.pos)): void {
    this.push({ kind, pos: this.start, value, line: this.lineAt(this.start) });
    this.start = this.pos;
  }

  private error(message: string): void {
    this.push({ kind: 'error', pos: this.start, value: message, line: this.lineAt(this.start) });
    this.done = true;
    this.insideAction = false;
  }

  /** The UTF-16 unit at `at`, or EOF. */
  private unit(at: number): number {
    return at < this.input.length ? this.input.charCodeAt(at) : EOF;
  }

  /** The code point at the position, or EOF. */
  private peekChar(): number {
    return this.input.codePointAt(this.pos) ?? EOF;
  }

  private nextChar(): number {
    const c = this.peekChar();
    if (c !== EOF) this.pos += width(c);
    return c;
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.unit(at) === MINUS && isSpace(this.unit(at + 1));
  }

  private hasRightTrimMarker(at: number): boolean {
    return isSpace(this.unit(at)) && this.unit(at + 1) === MINUS;
  }

  private rightDelimAt(): number {
    if (this.hasRightTrimMarker(this.pos) && this.input.startsWith(this.options.rightDelim, this.pos + 2))
      return TRIM_DELIM;
    if (this.input.startsWith(this.options.rightDelim, this.pos)) return DELIM;
    return NO_DELIM;
  }

  private leftTrimLength(at: number): number {
    let i = at;
    while (isSpace(this.unit(i))) i++;
    return i - at;
  }

  private lexText(): void {
    const x = this.input.indexOf(this.options.leftDelim, this.pos);
    if (x < 0) {
      this.pos = this.input.length;
      if (this.pos > this.start) this.emit('text');
      this.done = true;
      return;
    }
    if (x > this.pos || x > this.start) {
      this.pos = x;
      let end = x;
      if (this.hasLeftTrimMarker(x + this.options.leftDelim.length)) {
        while (end > this.start && isSpace(this.unit(end - 1))) end--;
      }
      if (end > this.start) {
        this.push({
          kind: 'text',
          pos: this.start,
          value: this.input.slice(this.start, end),
          line: this.lineAt(this.start),
        });
      }
      this.start = this.pos;
    }
    this.lexLeftDelim();
  }

  private lexLeftDelim(): void {
    this.pos += this.options.leftDelim.length;
    const trim = this.hasLeftTrimMarker(this.pos);
    const afterMarker = trim ? 2 : 0;
    if (this.input.startsWith('/*', this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.start = this.pos;
      this.lexComment();
      return;
    }
    this.push({
      kind: 'leftDelim',
      pos: this.start,
      value: this.options.leftDelim,
      line: this.lineAt(this.start),
    });
    this.insideAction = true;
    this.pos += afterMarker;
    this.start = this.pos;
    this.parenDepth = 0;
  }

  private lexComment(): void {
    this.pos += 2;
    const x = this.input.indexOf('*/', this.pos);
    if (x < 0) {
      this.error('unclosed comment');
      return;
    }
    this.pos = x + 2;
    const delim = this.rightDelimAt();
    if (delim === NO_DELIM) {
      this.error('comment ends before closing delimiter');
      return;
    }
    if (delim === TRIM_DELIM) this.pos += 2;
    this.pos += this.options.rightDelim.length;
    if (delim === TRIM_DELIM) this.pos += this.leftTrimLength(this.pos);
    this.start = this.pos;
  }

  private lexRightDelim(): void {
    const trim = this.rightDelimAt() === TRIM_DELIM;
    if (trim) {
      this.pos += 2;
      this.start = this.pos;
    }
    this.pos += this.options.rightDelim.length;
    // The token's text is the delimiter itself (the marker is skipped above): no slice needed.
    this.emit('rightDelim', this.options.rightDelim);
    if (trim) {
      this.pos += this.leftTrimLength(this.pos);
      this.start = this.pos;
    }
    this.insideAction = false;
  }

  private atTerminator(): boolean {
    const c = this.unit(this.pos);
    if (c === EOF || isSpace(c)) return true;
    if (c === PERIOD || c === COMMA || c === PIPE || c === COLON || c === RIGHT_PAREN || c === LEFT_PAREN) return true;
    return this.input.startsWith(this.options.rightDelim, this.pos);
  }

  private lexInsideAction(): void {
    if (this.rightDelimAt() !== NO_DELIM) {
      if (this.parenDepth === 0) this.lexRightDelim();
      else this.error('unclosed left paren');
      return;
    }
    const c = this.nextChar();
    if (c === EOF) return this.error('unclosed action');
    if (isSpace(c)) {
      this.pos -= 1;
      return this.lexSpace();
    }
    switch (c) {
      case EQUALS:
        return this.emit('assign');
      case COLON:
        if (this.nextChar() !== EQUALS) return this.error('expected :=');
        return this.emit('declare');
      case PIPE:
        return this.emit('pipe');
      case QUOTE:
        return this.lexQuote();
      case BACKQUOTE:
        return this.lexRawQuote();
      case DOLLAR:
        return this.lexVariable();
      case APOSTROPHE:
        return this.lexChar();
      case LEFT_PAREN:
        this.parenDepth++;
        return this.emit('leftParen');
      case RIGHT_PAREN:
        this.parenDepth--;
        if (this.parenDepth < 0) return this.error('unexpected right paren');
        return this.emit('rightParen');
    }
    if (c === PERIOD && !isDigit(this.unit(this.pos))) return this.lexFieldOrVariable('field');
    if (c === PERIOD || c === PLUS || c === MINUS || isDigit(c)) {
      this.pos -= 1;
      return this.lexNumber();
    }
    if (isAlphaNumeric(c)) {
      this.pos -= width(c);
      return this.lexIdentifier();
    }
    if (c <= 0x7f && c >= 0x20 && c !== 0x7f) return this.emit('char');
    return this.error(`unrecognized character in action: ${describe(c)}`);
  }

  private lexSpace(): void {
    let spaces = 0;
    while (isSpace(this.unit(this.pos))) {
      this.pos++;
      spaces++;
    }
    if (this.hasRightTrimMarker(this.pos - 1) && this.input.startsWith(this.options.rightDelim, this.pos - 1 + 2)) {
      this.pos -= 1;
      if (spaces === 1) return this.lexRightDelim();
    }
    this.emit('space');
  }

  /** Moves past letters, digits and underscores; returns the code point that stopped it. */
  private skipAlphaNumeric(): number {
    const input = this.input;
    for (;;) {
      // ASCII without a call per character: the agent runs on the interpreter alone.
      const unit = this.pos < input.length ? input.charCodeAt(this.pos) : EOF;
      if (unit < 0x80) {
        if ((unit >= 0x61 && unit <= 0x7a) || (unit >= 0x41 && unit <= 0x5a) || (unit >= ZERO && unit <= NINE)) {
          this.pos++;
          continue;
        }
        if (unit === UNDERSCORE) {
          this.pos++;
          continue;
        }
        return unit;
      }
      const c = this.peekChar();
      if (!isAlphaNumeric(c)) return c;
      this.pos += width(c);
    }
  }

  private lexIdentifier(): void {
    const stop = this.skipAlphaNumeric();
    if (!this.atTerminator()) return this.error(`bad character ${describe(stop)}`);
    const word = this.input.slice(this.start, this.pos);
    const keyword = KEYWORD_BY_WORD.get(word);
    if (keyword !== undefined) {
      if ((keyword === 'break' && !this.options.breakOK) || (keyword === 'continue' && !this.options.continueOK))
        return this.emit('identifier', word);
      return this.emit(keyword, word);
    }
    if (word === 'true' || word === 'false') return this.emit('bool', word);
    return this.emit('identifier', word);
  }

  private lexVariable(): void {
    if (this.atTerminator()) return this.emit('variable');
    this.lexFieldOrVariable('variable');
  }

  private lexFieldOrVariable(kind: 'field' | 'variable'): void {
    if (this.atTerminator()) return this.emit(kind === 'variable' ? 'variable' : 'dot');
    const stop = this.skipAlphaNumeric();
    if (!this.atTerminator()) return this.error(`bad character ${describe(stop)}`);
    this.emit(kind);
  }

  /**
   * Moves past a quoted string or character constant whose opening quote is behind; false when a
   * newline, an escaped newline or the end comes first. Every character that ends or escapes is ASCII,
   * so stepping by UTF-16 unit finds what stepping by code point would.
   */
  private skipQuoted(quote: number): boolean {
    for (;;) {
      const c = this.unit(this.pos++);
      if (c === BACKSLASH) {
        const r = this.unit(this.pos++);
        if (r !== EOF && r !== LF) continue;
        return false;
      }
      if (c === EOF || c === LF) return false;
      if (c === quote) return true;
    }
  }

  private lexChar(): void {
    if (!this.skipQuoted(APOSTROPHE)) return this.error('unterminated character constant');
    this.emit('charConstant');
  }

  private lexQuote(): void {
    if (!this.skipQuoted(QUOTE)) return this.error('unterminated quoted string');
    this.emit('string');
  }

  private lexRawQuote(): void {
    const x = this.input.indexOf('`', this.pos);
    if (x < 0) return this.error('unterminated raw quoted string');
    this.pos = x + 1;
    this.emit('rawString');
  }

  private accept(valid: Uint8Array): boolean {
    const c = this.unit(this.pos);
    if (c >= 0 && c < 0x80 && valid[c] === 1) {
      this.pos++;
      return true;
    }
    return false;
  }

  private acceptRun(valid: Uint8Array): void {
    while (this.accept(valid));
  }

  private scanNumber(): boolean {
    this.accept(SIGNS);
    let digits = DECIMAL_DIGITS;
    if (this.accept(LEADING_ZERO)) {
      if (this.accept(HEX_PREFIX)) digits = HEX_DIGITS;
      else if (this.accept(OCTAL_PREFIX)) digits = OCTAL_DIGITS;
      else if (this.accept(BINARY_PREFIX)) digits = BINARY_DIGITS;
    }
    this.acceptRun(digits);
    if (this.accept(POINT)) this.acceptRun(digits);
    if (digits === DECIMAL_DIGITS && this.accept(DECIMAL_EXPONENT)) {
      this.accept(SIGNS);
      this.acceptRun(DECIMAL_DIGITS);
    }
    if (digits === HEX_DIGITS && this.accept(HEX_EXPONENT)) {
      this.accept(SIGNS);
      this.acceptRun(DECIMAL_DIGITS);
    }
    this.accept(IMAGINARY);
    if (isAlphaNumeric(this.peekChar())) {
      this.nextChar();
      return false;
    }
    return true;
  }

  private lexNumber(): void {
    if (!this.scanNumber())
      return this.error(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
    const sign = this.unit(this.pos);
    if (sign === PLUS || sign === MINUS) {
      if (!this.scanNumber() || this.unit(this.pos - 1) !== 0x69 /* i */) {
        return this.error(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
      }
      return this.emit('complex');
    }
    this.emit('number');
  }
}
