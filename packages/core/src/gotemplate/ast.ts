// The parse tree of a Go template. `String()`-like rendering (nodeText) reproduces the source form Go
// prints in execution errors ("executing \"t\" at <.Data.x>: …").

/** Where a node came from: the template file it was parsed in (Go's ParseName) and its text. */
export interface Source {
  parseName: string;
  text: string;
}

interface Base {
  pos: number;
  src: Source;
}

export interface TextNode extends Base {
  type: 'text';
  text: string;
}
export interface ActionNode extends Base {
  type: 'action';
  line: number;
  pipe: PipeNode;
}
export interface PipeNode extends Base {
  type: 'pipe';
  line: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode extends Base {
  type: 'command';
  args: ArgNode[];
}
export interface IdentifierNode extends Base {
  type: 'identifier';
  ident: string;
}
export interface VariableNode extends Base {
  type: 'variable';
  ident: string[];
}
export interface DotNode extends Base {
  type: 'dot';
}
export interface NilNode extends Base {
  type: 'nil';
}
export interface FieldNode extends Base {
  type: 'field';
  ident: string[];
}
export interface ChainNode extends Base {
  type: 'chain';
  node: ArgNode;
  field: string[];
}
export interface BoolNode extends Base {
  type: 'bool';
  value: boolean;
}
export interface NumberNode extends Base {
  type: 'number';
  text: string;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int: bigint;
  float: number;
}
export interface StringNode extends Base {
  type: 'string';
  quoted: string;
  text: string;
}
export interface ListNode extends Base {
  type: 'list';
  nodes: Node[];
}
export interface BranchNode extends Base {
  type: 'if' | 'range' | 'with';
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface TemplateNode extends Base {
  type: 'template';
  line: number;
  name: string;
  pipe: PipeNode | null;
}
export interface BreakNode extends Base {
  type: 'break' | 'continue';
  line: number;
}
/** Only while parsing: {{end}} and {{else}} close a list. */
export interface EndNode extends Base {
  type: 'end' | 'else';
  line: number;
}

export type ArgNode =
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;
export type Node =
  TextNode | ActionNode | ListNode | BranchNode | TemplateNode | BreakNode | EndNode | CommandNode | ArgNode;

/** A parsed template (one `define`, `block` or the file's main body). */
export interface Tree {
  name: string;
  root: ListNode;
  src: Source;
}

// unicode.IsSpace's set, which bytes.TrimSpace uses.
const GO_SPACE_ONLY = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

export function isEmptyTree(node: Node): boolean {
  switch (node.type) {
    case 'list':
      return node.nodes.every(isEmptyTree);
    case 'text':
      return GO_SPACE_ONLY.test(node.text);
    case 'if':
    case 'range':
    case 'with':
    case 'template':
    case 'action':
    case 'break':
    case 'continue':
      return false;
    default:
      return true;
  }
}

export function nodeText(node: Node): string {
  switch (node.type) {
    case 'text':
      return node.text;
    case 'action':
      return `{{${nodeText(node.pipe)}}}`;
    case 'pipe': {
      let s = '';
      if (node.decl.length > 0) {
        s = node.decl.map(nodeText).join(', ') + (node.isAssign ? ' = ' : ' := ');
      }
      return s + node.cmds.map(nodeText).join(' | ');
    }
    case 'command':
      return node.args.map((a) => (a.type === 'pipe' ? `(${nodeText(a)})` : nodeText(a))).join(' ');
    case 'identifier':
      return node.ident;
    case 'variable':
      return node.ident.join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'field':
      return node.ident.map((i) => `.${i}`).join('');
    case 'chain':
      return (
        (node.node.type === 'pipe' ? `(${nodeText(node.node)})` : nodeText(node.node)) +
        node.field.map((f) => `.${f}`).join('')
      );
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'number':
      return node.text;
    case 'string':
      return node.quoted;
    case 'list':
      return node.nodes.map(nodeText).join('');
    case 'if':
    case 'range':
    case 'with': {
      const elsePart = node.elseList === null ? '' : `{{else}}${nodeText(node.elseList)}`;
      return `{{${node.type} ${nodeText(node.pipe)}}}${nodeText(node.list)}${elsePart}{{end}}`;
    }
    case 'template':
      return node.pipe === null
        ? `{{template ${JSON.stringify(node.name)}}}`
        : `{{template ${JSON.stringify(node.name)} ${nodeText(node.pipe)}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'end':
      return '{{end}}';
    case 'else':
      return '{{else}}';
  }
}
