// The parser: tokens → trees, one per template (the file's body, each `define` and each `block`).
// Grammar, the `else if`/`else with` rewriting, variable scoping and the error wording follow Go's
// text/template/parse, so a template that Go rejects is rejected here with the same line.
import type {
  ActionNode,
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  Source,
  TemplateNode,
  Tree,
  VariableNode,
} from './ast.ts';
import { isEmptyTree, nodeText } from './ast.ts';
import { GoTemplateError } from './errors.ts';
import { KEYWORDS, Lexer, type Token, type TokenKind } from './lex.ts';
import {
  fitsInt64,
  fitsUint64,
  parseGoFloat,
  parseGoInteger,
  SyntaxError,
  unquoteChar,
  unquoteString,
} from './unquote.ts';

export interface ParseOptions {
  leftDelim?: string;
  rightDelim?: string;
  /** Function names known to the template; an unknown one is a parse error, as in Go. */
  hasFunction: (name: string) => boolean;
}

class ParseFailure extends Error {}

function tokenText(t: Token): string {
  if (t.kind === 'eof') return 'EOF';
  if (t.kind === 'error') return t.value;
  if (KEYWORDS.has(t.kind)) return `<${t.value}>`;
  if ([...t.value].length > 10) return `${goQuote([...t.value].slice(0, 10).join(''))}...`;
  return goQuote(t.value);
}

/** A minimal strconv.Quote for parse messages (the full one lives in fmt.ts). */
function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

const OPERAND_START: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'bool',
  'charConstant',
  'complex',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);

class TreeParser {
  name: string;
  root!: ListNode;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;
  private token: Token[] = [];
  private peekCount = 0;

  private readonly lexer: Lexer;
  private readonly src: Source;
  private readonly options: ParseOptions;
  private readonly treeSet: Map<string, Tree>;

  constructor(name: string, lexer: Lexer, src: Source, options: ParseOptions, treeSet: Map<string, Tree>) {
    this.name = name;
    this.lexer = lexer;
    this.src = src;
    this.options = options;
    this.treeSet = treeSet;
  }

  // --- token buffer (three tokens of look-ahead, as Go's parser has) ---
  private next(): Token {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lexer.nextToken();
    return this.token[this.peekCount] as Token;
  }
  private backup(): void {
    this.peekCount++;
  }
  private backup2(t1: Token): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }
  private backup3(t2: Token, t1: Token): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }
  private peek(): Token {
    if (this.peekCount > 0) return this.token[this.peekCount - 1] as Token;
    this.peekCount = 1;
    this.token[0] = this.lexer.nextToken();
    return this.token[0];
  }
  private nextNonSpace(): Token {
    let t: Token;
    do t = this.next();
    while (t.kind === 'space');
    return t;
  }
  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  // --- errors ---
  errorf(message: string): never {
    const token = this.token[0];
    const line = token?.line ?? 1;
    // Go's message names the line only; the column (bytes into the line, from 0, as exec errors count)
    // is kept beside it so callers can point at the action.
    const before = token === undefined ? '' : this.src.text.slice(0, token.pos);
    const column = Buffer.byteLength(before.slice(before.lastIndexOf('\n') + 1), 'utf8');
    throw new GoTemplateError(
      'parse',
      this.src.parseName,
      `template: ${this.src.parseName}:${line}: ${message}`,
      line,
      column,
    );
  }
  private expect(kind: TokenKind, context: string): Token {
    const t = this.nextNonSpace();
    if (t.kind !== kind) this.unexpected(t, context);
    return t;
  }
  private unexpected(t: Token, context: string): never {
    if (t.kind === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.src.parseName}:${this.actionLine}`;
        if (t.value.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${t.value}${extra}`);
    }
    this.errorf(`unexpected ${tokenText(t)} in ${context}`);
  }

  // --- structure ---
  parse(): void {
    this.root = this.newList(this.peek().pos);
    while (this.peek().kind !== 'eof') {
      if (this.peek().kind === 'leftDelim') {
        const delim = this.next();
        if (this.nextNonSpace().kind === 'define') {
          const definition = new TreeParser('definition', this.lexer, this.src, this.options, this.treeSet);
          definition.token = this.token;
          definition.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeText(n)}`);
      this.root.nodes.push(n);
    }
    this.add();
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const nameToken = this.nextNonSpace();
    if (nameToken.kind !== 'string' && nameToken.kind !== 'rawString') this.unexpected(nameToken, context);
    this.name = this.unquote(nameToken.value);
    this.expect('rightDelim', context);
    const [list, end] = this.itemList();
    this.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeText(end)} in ${context}`);
    this.add();
  }

  add(): void {
    const existing = this.treeSet.get(this.name);
    const tree: Tree = { name: this.name, root: this.root, src: this.src };
    if (existing === undefined || isEmptyTree(existing.root)) {
      this.treeSet.set(this.name, tree);
      return;
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template ${goQuote(this.name)}`);
  }

  private newList(pos: number): ListNode {
    return { type: 'list', pos, src: this.src, nodes: [] };
  }

  private itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().kind !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const t = this.nextNonSpace();
    if (t.kind === 'text') return { type: 'text', pos: t.pos, src: this.src, text: t.value };
    if (t.kind === 'leftDelim') {
      this.actionLine = t.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(t, 'input');
  }

  private action(): Node {
    const t = this.nextNonSpace();
    switch (t.kind) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue':
        return this.breakControl(t);
      case 'else':
        return this.elseControl();
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos, line: t.line, src: this.src };
      case 'if':
        return this.branchControl('if');
      case 'range':
        return this.branchControl('range');
      case 'template':
        return this.templateControl();
      case 'with':
        return this.branchControl('with');
    }
    this.backup();
    const first = this.peek();
    const node: ActionNode = {
      type: 'action',
      pos: first.pos,
      line: first.line,
      src: this.src,
      pipe: this.pipeline('command', 'rightDelim'),
    };
    return node;
  }

  private breakControl(t: Token): Node {
    const after = this.nextNonSpace();
    if (after.kind !== 'rightDelim') this.unexpected(after, `{{${t.kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${t.kind}}} outside {{range}}`);
    return { type: t.kind as 'break' | 'continue', pos: t.pos, line: t.line, src: this.src };
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.kind === 'if' || peek.kind === 'with')
      return { type: 'else', pos: peek.pos, line: peek.line, src: this.src };
    const t = this.expect('rightDelim', 'else');
    return { type: 'else', pos: t.pos, line: t.line, src: this.src };
  }

  private branchControl(context: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        if ((context === 'if' && this.peek().kind === 'if') || (context === 'with' && this.peek().kind === 'with')) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branchControl(context));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeText(next)}`);
        }
      }
      return { type: context, pos: pipe.pos, line: pipe.line, src: this.src, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private parseTemplateName(t: Token, context: string): string {
    if (t.kind === 'string' || t.kind === 'rawString') return this.unquote(t.value);
    this.unexpected(t, context);
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().kind !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: t.pos, line: t.line, src: this.src, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    const pipe = this.pipeline(context, 'rightDelim');
    const block = new TreeParser(name, this.lexer, this.src, this.options, this.treeSet);
    block.token = this.token;
    const [list, end] = block.itemList();
    block.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeText(end)} in ${context}`);
    block.add();
    return { type: 'template', pos: t.pos, line: t.line, src: this.src, name, pipe };
  }

  // --- pipelines ---
  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.peekNonSpace();
    const pipe: PipeNode = {
      type: 'pipe',
      pos: start.pos,
      line: start.line,
      src: this.src,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.kind !== 'variable') break;
      this.next();
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.kind === 'assign' || next.kind === 'declare') {
        pipe.isAssign = next.kind === 'assign';
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.value));
        this.vars.push(v.value);
      } else if (next.kind === 'char' && next.value === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.value));
        this.vars.push(v.value);
        if (context === 'range' && pipe.decl.length < 2) {
          const k = this.peekNonSpace().kind;
          if (k === 'variable' || k === 'rightDelim' || k === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.kind === 'space') {
        this.backup3(v, tokenAfterVariable);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.kind === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      if (OPERAND_START.has(t.kind)) {
        this.backup();
        pipe.cmds.push(this.command());
      } else {
        this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const k = pipe.cmds[i]?.args[0]?.type;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, src: this.src, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const t = this.next();
      if (t.kind === 'space') continue;
      if (t.kind === 'rightDelim' || t.kind === 'rightParen') this.backup();
      else if (t.kind !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().kind !== 'field') return node;
    const fields: string[] = [];
    // Go positions a chained field or variable at its first chained field.
    const chainPos = this.peek().pos;
    while (this.peek().kind === 'field') fields.push(this.next().value.slice(1));
    switch (node.type) {
      // concat, not spread: a spread steps an iterator, an object per element when not optimised.
      case 'field':
        return { type: 'field', pos: chainPos, src: this.src, ident: node.ident.concat(fields) };
      case 'variable':
        return { type: 'variable', pos: chainPos, src: this.src, ident: node.ident.concat(fields) };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.errorf(`unexpected . after term ${goQuote(nodeText(node))}`);
      default:
        return { type: 'chain', pos: chainPos, src: this.src, node, field: fields };
    }
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.kind) {
      case 'identifier':
        if (!this.options.hasFunction(t.value)) this.errorf(`function ${goQuote(t.value)} not defined`);
        return { type: 'identifier', pos: t.pos, src: this.src, ident: t.value };
      case 'dot':
        return { type: 'dot', pos: t.pos, src: this.src };
      case 'nil':
        return { type: 'nil', pos: t.pos, src: this.src };
      case 'variable':
        return this.useVar(t.pos, t.value);
      case 'field':
        return { type: 'field', pos: t.pos, src: this.src, ident: t.value.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: t.pos, src: this.src, value: t.value === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        return this.newNumber(t);
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString':
        return { type: 'string', pos: t.pos, src: this.src, quoted: t.value, text: this.unquote(t.value) };
    }
    this.backup();
    return null;
  }

  private unquote(quoted: string): string {
    try {
      return unquoteString(quoted);
    } catch (error) {
      this.errorf(error instanceof Error ? error.message : 'invalid syntax');
    }
  }

  private newVariable(pos: number, name: string): VariableNode {
    return { type: 'variable', pos, src: this.src, ident: name.split('.') };
  }

  private useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (!this.vars.includes(v.ident[0] as string)) this.errorf(`undefined variable ${goQuote(v.ident[0] as string)}`);
    return v;
  }

  private newNumber(t: Token): NumberNode {
    const n: NumberNode = {
      type: 'number',
      pos: t.pos,
      src: this.src,
      text: t.value,
      isInt: false,
      isUint: false,
      isFloat: false,
      int: 0n,
      float: 0,
    };
    if (t.kind === 'complex') this.errorf(`complex numbers are not supported: ${goQuote(t.value)}`);
    if (t.kind === 'charConstant') {
      let cp: number;
      try {
        cp = unquoteChar(t.value);
      } catch (error) {
        this.errorf(error instanceof SyntaxError || !(error instanceof Error) ? 'invalid syntax' : error.message);
      }
      return { ...n, isInt: true, isUint: true, isFloat: true, int: BigInt(cp), float: cp };
    }
    const text = t.value;
    const parsed = parseGoInteger(text);
    if (parsed !== undefined) {
      if (fitsUint64(parsed)) n.isUint = true;
      if (fitsInt64(parsed)) {
        n.isInt = true;
        n.int = parsed;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float = Number(n.int);
    } else if (n.isUint && parsed !== undefined) {
      n.isFloat = true;
      n.float = Number(parsed);
      n.int = parsed;
    } else {
      const f = parseGoFloat(text);
      if (f !== undefined && Number.isFinite(f)) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${goQuote(text)}`);
        n.isFloat = true;
        n.float = f;
        if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
          n.isInt = true;
          n.int = BigInt(f);
        }
        if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
          n.isUint = true;
          if (!n.isInt) n.int = BigInt(f);
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${goQuote(text)}`);
    return n;
  }
}

/**
 * Parses one template file named `name` into its trees: the body under `name`, plus one tree per
 * `define` and `block`. Throws {@link GoTemplateError} (phase 'parse').
 */
export function parseTemplate(
  name: string,
  text: string,
  options: ParseOptions,
  treeSet = new Map<string, Tree>(),
): Map<string, Tree> {
  const src: Source = { parseName: name, text };
  const lexer = new Lexer(text, {
    leftDelim: options.leftDelim || '{{',
    rightDelim: options.rightDelim || '}}',
    breakOK: !options.hasFunction('break'),
    continueOK: !options.hasFunction('continue'),
  });
  const parser = new TreeParser(name, lexer, src, options, treeSet);
  try {
    parser.parse();
  } catch (error) {
    if (error instanceof ParseFailure) throw new GoTemplateError('parse', name, error.message);
    throw error;
  }
  return treeSet;
}
