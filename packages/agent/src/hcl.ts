// HCL (version 1, what Vault Agent 1.x reads its -config file with) for Vault Agent configurations
// brought in an `agent-configmap`: attributes (`key = value`), blocks (`template { … }`), labelled
// blocks (`method "kubernetes" { … }`), objects (`config = { role = "app" }`), lists, quoted strings
// with HCL's escapes, heredocs (`<<EOH` and the indented `<<-EOH`), numbers, booleans and the three
// comment forms. A file that is JSON is read as JSON (Vault accepts both).
//
// Written here rather than taken from npm: the HCL packages there parse HCL 2, where "${…}" in a
// string is an interpolation (it is plain text in HCL 1, and Go templates may contain it), and a
// configuration needs only this small part of the language.
//
// The result keeps every occurrence: each key maps to a list of values (a block or an object is an
// HclBody), so `template` blocks repeated five times are five entries, in order.

export type HclValue = string | number | boolean | HclValue[] | HclBody;
export interface HclBody {
  readonly entries: ReadonlyMap<string, HclValue[]>;
  /** line of the block's opening (1-based), for errors */
  readonly line: number;
}

export class HclError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

type Token =
  | { kind: 'ident'; text: string; line: number }
  | { kind: 'string'; text: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'punct'; text: '=' | '{' | '}' | '[' | ']' | ',' | ':'; line: number }
  | { kind: 'eof'; line: number };

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const at = (k: number): string => text[k] ?? '';
  while (i < text.length) {
    const c = at(i);
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#' || (c === '/' && at(i + 1) === '/')) {
      while (i < text.length && at(i) !== '\n') i++;
    } else if (c === '/' && at(i + 1) === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new HclError('comment not terminated ("/*" without "*/")', line);
      line += (text.slice(i, end).match(/\n/g) ?? []).length;
      i = end + 2;
    } else if ('={}[],:'.includes(c)) {
      tokens.push({ kind: 'punct', text: c as '=' | '{' | '}' | '[' | ']' | ',' | ':', line });
      i++;
    } else if (c === '"') {
      const start = line;
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new HclError('string not terminated', start);
        const ch = at(i);
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\n') throw new HclError('a quoted string cannot span lines; use a heredoc (<<EOH … EOH)', line);
        if (ch === '\\') {
          const next = at(i + 1);
          if (ESCAPES[next] !== undefined) {
            out += ESCAPES[next];
            i += 2;
            continue;
          }
          if (next === 'u' || next === 'U') {
            const width = next === 'u' ? 4 : 8;
            const hex = text.slice(i + 2, i + 2 + width);
            if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex))
              throw new HclError(`invalid escape \\${next}${hex}`, line);
            out += String.fromCodePoint(parseInt(hex, 16));
            i += 2 + width;
            continue;
          }
          throw new HclError(`invalid escape \\${next} in a string`, line);
        }
        out += ch;
        i++;
      }
      tokens.push({ kind: 'string', text: out, line: start });
    } else if (c === '<' && at(i + 1) === '<') {
      const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n/.exec(text.slice(i));
      if (m === null) throw new HclError('a heredoc starts with <<NAME and a line break', line);
      const indented = m[1] === '-';
      const marker = m[2] as string;
      const start = line;
      i += m[0].length;
      line++;
      const lines: string[] = [];
      for (;;) {
        if (i >= text.length) throw new HclError(`heredoc not terminated: no line with ${marker}`, start);
        const end = text.indexOf('\n', i);
        const raw = end < 0 ? text.slice(i) : text.slice(i, end);
        const current = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        i = end < 0 ? text.length : end + 1;
        line++;
        if (current.trim() === marker && (indented || current.trimEnd() === marker)) break;
        lines.push(current);
      }
      let body = lines;
      if (indented) {
        // <<- removes the smallest indentation of the lines, as HCL does.
        const widths = lines
          .filter((l) => l.trim() !== '')
          .map((l) => (/^[ \t]*/.exec(l) as RegExpExecArray)[0].length);
        const cut = widths.length === 0 ? 0 : Math.min(...widths);
        body = lines.map((l) => l.slice(cut));
      }
      tokens.push({ kind: 'string', text: body.length === 0 ? '' : `${body.join('\n')}\n`, line: start });
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(text.slice(i));
      if (m === null) throw new HclError(`unexpected "${c}"`, line);
      // HCL 1 reads a leading 0 as octal (perms = 0600 is 384), as Go's strconv with base 0 does.
      const octal = /^-?0[0-7]+$/.test(m[0]);
      tokens.push({ kind: 'number', value: octal ? parseInt(m[0], 8) : Number(m[0]), line });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', text: m[0], line });
      i += m[0].length;
    } else throw new HclError(`unexpected character ${JSON.stringify(c)}`, line);
  }
  tokens.push({ kind: 'eof', line });
  return tokens;
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    return this.tokens[this.pos++] as Token;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  body(line: number, closing: boolean): HclBody {
    const entries = new Map<string, HclValue[]>();
    const add = (key: string, value: HclValue) => entries.set(key, [...(entries.get(key) ?? []), value]);
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (closing) throw new HclError('block not closed: "}" expected', t.line);
        break;
      }
      if (t.kind === 'punct' && t.text === '}') {
        if (!closing) throw new HclError('unexpected "}"', t.line);
        this.next();
        break;
      }
      if (t.kind === 'punct' && t.text === ',') {
        this.next();
        continue;
      }
      if (t.kind !== 'ident' && t.kind !== 'string')
        throw new HclError('expected a key (a name or a quoted string)', t.line);
      this.next();
      const key = t.text;
      if (this.isPunct('=') || this.isPunct(':')) {
        this.next();
        add(key, this.value());
        continue;
      }
      // A block, perhaps with labels: `method "kubernetes" { … }` is method → kubernetes → { … }.
      const labels: string[] = [];
      while (this.peek().kind === 'string' || this.peek().kind === 'ident')
        labels.push((this.next() as { text: string }).text);
      if (!this.isPunct('{')) throw new HclError(`"${key}" must be followed by "=" or a block "{"`, this.peek().line);
      const open = this.next();
      let value: HclValue = this.body(open.line, true);
      for (const label of labels.reverse()) value = { entries: new Map([[label, [value]]]), line: open.line };
      add(key, value);
    }
    return { entries, line };
  }

  value(): HclValue {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return t.text;
      case 'number':
        return t.value;
      case 'ident':
        if (t.text === 'true') return true;
        if (t.text === 'false') return false;
        throw new HclError(`unexpected ${t.text}: values are strings, numbers, true, false, lists and objects`, t.line);
      case 'punct':
        if (t.text === '{') return this.body(t.line, true);
        if (t.text === '[') {
          const list: HclValue[] = [];
          while (!this.isPunct(']')) {
            if (this.peek().kind === 'eof') throw new HclError('list not closed: "]" expected', t.line);
            list.push(this.value());
            if (this.isPunct(',')) this.next();
            else if (!this.isPunct(']')) throw new HclError('"," or "]" expected in a list', this.peek().line);
          }
          this.next();
          return list;
        }
        throw new HclError(`unexpected "${t.text}"`, t.line);
      case 'eof':
        throw new HclError('a value is missing at the end of the file', t.line);
    }
  }
}

function fromJson(value: unknown, line: number): HclValue {
  if (Array.isArray(value)) return value.map((v) => fromJson(v, line));
  if (typeof value === 'object' && value !== null) {
    const entries = new Map<string, HclValue[]>();
    for (const [k, v] of Object.entries(value)) {
      // In JSON a repeated block is a list of objects.
      const list =
        Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x)) && v.length > 0
          ? v
          : [v];
      entries.set(
        k,
        list.map((x) => fromJson(x, line)),
      );
    }
    return { entries, line };
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new HclError('null is not a value in a Vault Agent configuration', line);
}

/** Parses an HCL 1 (or JSON) configuration file into its body. */
export function parseHcl(text: string): HclBody {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return fromJson(JSON.parse(trimmed), 1) as HclBody;
    } catch (error) {
      if (error instanceof HclError) throw error;
      // Not JSON: an HCL file may start with an object too.
    }
  }
  return new Parser(lex(text)).body(1, false);
}

export const isBody = (v: HclValue | undefined): v is HclBody =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
