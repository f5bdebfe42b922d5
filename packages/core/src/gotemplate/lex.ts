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

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const ALNUM = /^[\p{L}\p{Nd}_]$/u;
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && ALNUM.test(c);

/** Go's %#U of a code point: U+0041 'A'. */
export function goRuneDescription(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

/** Turns a template source into tokens; errors become one 'error' token and stop the stream. */
export class Lexer {
  private readonly input: string;
  private readonly options: LexOptions;
  private readonly lineStarts: number[];
  private pos = 0;
  private start = 0;
  private insideAction = false;
  private parenDepth = 0;
  private done = false;
  private readonly queue: Token[] = [];

  constructor(input: string, options: LexOptions) {
    this.input = input;
    this.options = options;
    this.lineStarts = [0];
    for (let i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  lineAt(pos: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  nextToken(): Token {
    while (this.queue.length === 0) {
      if (this.done) return { kind: 'eof', pos: this.input.length, value: '', line: this.lineAt(this.input.length) };
      if (this.insideAction) this.lexInsideAction();
      else this.lexText();
    }
    return this.queue.shift() as Token;
  }

  private emit(kind: TokenKind): void {
    this.queue.push({
      kind,
      pos: this.start,
      value: this.input.slice(this.start, this.pos),
      line: this.lineAt(this.start),
    });
    this.start = this.pos;
  }

  private error(message: string): void {
    this.queue.push({ kind: 'error', pos: this.start, value: message, line: this.lineAt(this.start) });
    this.done = true;
    this.insideAction = false;
  }

  private peekChar(): string | undefined {
    const cp = this.input.codePointAt(this.pos);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private nextChar(): string | undefined {
    const c = this.peekChar();
    if (c !== undefined) this.pos += c.length;
    return c;
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === '-' && isSpace(this.input[at + 1]);
  }

  private hasRightTrimMarker(at: number): boolean {
    return isSpace(this.input[at]) && this.input[at + 1] === '-';
  }

  private atRightDelim(): { delim: boolean; trim: boolean } {
    if (this.hasRightTrimMarker(this.pos) && this.input.startsWith(this.options.rightDelim, this.pos + 2))
      return { delim: true, trim: true };
    if (this.input.startsWith(this.options.rightDelim, this.pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  }

  private leftTrimLength(at: number): number {
    let i = at;
    while (isSpace(this.input[i])) i++;
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
        while (end > this.start && isSpace(this.input[end - 1])) end--;
      }
      if (end > this.start) {
        this.queue.push({
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
    this.queue.push({
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
    const { delim, trim } = this.atRightDelim();
    if (!delim) {
      this.error('comment ends before closing delimiter');
      return;
    }
    if (trim) this.pos += 2;
    this.pos += this.options.rightDelim.length;
    if (trim) this.pos += this.leftTrimLength(this.pos);
    this.start = this.pos;
  }

  private lexRightDelim(): void {
    const { trim } = this.atRightDelim();
    if (trim) {
      this.pos += 2;
      this.start = this.pos;
    }
    this.pos += this.options.rightDelim.length;
    this.emit('rightDelim');
    if (trim) {
      this.pos += this.leftTrimLength(this.pos);
      this.start = this.pos;
    }
    this.insideAction = false;
  }

  private atTerminator(): boolean {
    const c = this.input[this.pos];
    if (c === undefined || isSpace(c)) return true;
    if (c === '.' || c === ',' || c === '|' || c === ':' || c === ')' || c === '(') return true;
    return this.input.startsWith(this.options.rightDelim, this.pos);
  }

  private lexInsideAction(): void {
    const { delim } = this.atRightDelim();
    if (delim) {
      if (this.parenDepth === 0) this.lexRightDelim();
      else this.error('unclosed left paren');
      return;
    }
    const c = this.nextChar();
    if (c === undefined) return this.error('unclosed action');
    if (isSpace(c)) {
      this.pos -= 1;
      return this.lexSpace();
    }
    switch (c) {
      case '=':
        return this.emit('assign');
      case ':':
        if (this.nextChar() !== '=') return this.error('expected :=');
        return this.emit('declare');
      case '|':
        return this.emit('pipe');
      case '"':
        return this.lexQuote();
      case '`':
        return this.lexRawQuote();
      case '$':
        return this.lexVariable();
      case "'":
        return this.lexChar();
      case '(':
        this.parenDepth++;
        return this.emit('leftParen');
      case ')':
        this.parenDepth--;
        if (this.parenDepth < 0) return this.error('unexpected right paren');
        return this.emit('rightParen');
    }
    if (c === '.') {
      const n = this.input[this.pos];
      if (n === undefined || n < '0' || n > '9') return this.lexFieldOrVariable('field');
    }
    if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
      this.pos -= 1;
      return this.lexNumber();
    }
    if (isAlphaNumeric(c)) {
      this.pos -= c.length;
      return this.lexIdentifier();
    }
    const cp = c.codePointAt(0) ?? 0;
    if (cp <= 0x7f && cp >= 0x20 && cp !== 0x7f) return this.emit('char');
    return this.error(`unrecognized character in action: ${goRuneDescription(c)}`);
  }

  private lexSpace(): void {
    let spaces = 0;
    while (isSpace(this.input[this.pos])) {
      this.pos++;
      spaces++;
    }
    if (this.hasRightTrimMarker(this.pos - 1) && this.input.startsWith(this.options.rightDelim, this.pos - 1 + 2)) {
      this.pos -= 1;
      if (spaces === 1) return this.lexRightDelim();
    }
    this.emit('space');
  }

  private lexIdentifier(): void {
    for (;;) {
      const c = this.peekChar();
      if (isAlphaNumeric(c)) {
        this.pos += (c as string).length;
        continue;
      }
      const word = this.input.slice(this.start, this.pos);
      if (!this.atTerminator()) return this.error(`bad character ${goRuneDescription(c ?? '')}`);
      const keyword = KEYWORD_BY_WORD.get(word);
      if (keyword !== undefined) {
        if ((keyword === 'break' && !this.options.breakOK) || (keyword === 'continue' && !this.options.continueOK))
          return this.emit('identifier');
        return this.emit(keyword);
      }
      if (word === 'true' || word === 'false') return this.emit('bool');
      return this.emit('identifier');
    }
  }

  private lexVariable(): void {
    if (this.atTerminator()) return this.emit('variable');
    this.lexFieldOrVariable('variable');
  }

  private lexFieldOrVariable(kind: 'field' | 'variable'): void {
    if (this.atTerminator()) return this.emit(kind === 'variable' ? 'variable' : 'dot');
    let c: string | undefined;
    for (;;) {
      c = this.peekChar();
      if (!isAlphaNumeric(c)) break;
      this.pos += (c as string).length;
    }
    if (!this.atTerminator()) return this.error(`bad character ${goRuneDescription(c ?? '')}`);
    this.emit(kind);
  }

  private lexChar(): void {
    for (;;) {
      const c = this.nextChar();
      if (c === '\\') {
        const r = this.nextChar();
        if (r !== undefined && r !== '\n') continue;
      }
      if (c === undefined || c === '\n' || c === '\\') return this.error('unterminated character constant');
      if (c === "'") break;
    }
    this.emit('charConstant');
  }

  private lexQuote(): void {
    for (;;) {
      const c = this.nextChar();
      if (c === '\\') {
        const r = this.nextChar();
        if (r !== undefined && r !== '\n') continue;
      }
      if (c === undefined || c === '\n' || c === '\\') return this.error('unterminated quoted string');
      if (c === '"') break;
    }
    this.emit('string');
  }

  private lexRawQuote(): void {
    const x = this.input.indexOf('`', this.pos);
    if (x < 0) return this.error('unterminated raw quoted string');
    this.pos = x + 1;
    this.emit('rawString');
  }

  private accept(valid: string): boolean {
    const c = this.input[this.pos];
    if (c !== undefined && valid.includes(c)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peekChar())) {
      this.nextChar();
      return false;
    }
    return true;
  }

  private lexNumber(): void {
    if (!this.scanNumber())
      return this.error(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
    const sign = this.input[this.pos];
    if (sign === '+' || sign === '-') {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') {
        return this.error(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
      }
      return this.emit('complex');
    }
    this.emit('number');
  }
}
