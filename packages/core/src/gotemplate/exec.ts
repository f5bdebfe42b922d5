// The executor: walks a parsed template over data, as text/template's exec does — field chains on
// maps, missingkey modes, pipelines with the previous value as the last argument, the interface
// unwrapping after each command (so a JSON null prints "<no value>"), range/with/if/template, and
// argument checking against each function's Go parameter types. Bounded: steps, output size and
// template nesting each have a limit with an error that names the template.
import type {
  ArgNode,
  BranchNode,
  CommandNode,
  FieldNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  Tree,
  VariableNode,
} from './ast.ts';
import { nodeText } from './ast.ts';
import { GoFuncError, GoTemplateError } from './errors.ts';
import { sprint } from './fmt.ts';
import { GO_PARAM_TYPE_NAMES, type GoFunction, type GoParam, type TemplateExecutor } from './func.ts';
import { GoTyped, type GoValue, kindOf, sortedKeys, truthOf, typeName } from './values.ts';

export type MissingKey = 'default' | 'invalid' | 'zero' | 'error';

export interface ExecLimits {
  /** Output bytes (UTF-16 units) before the render fails. */
  maxOutput: number;
  /** Nodes evaluated (actions, iterations, calls) before the render fails. */
  maxSteps: number;
  /** Nested {{template}} calls. */
  maxDepth: number;
}

export interface ExecContext {
  trees: ReadonlyMap<string, Tree>;
  funcs: (name: string) => GoFunction | undefined;
  missingKey: MissingKey;
  limits: ExecLimits;
}

// Distinct classes (not symbols) so a stray break/continue is recognised by instanceof below.
// eslint-disable-next-line @typescript-eslint/no-extraneous-class
class BreakSignal {}
// eslint-disable-next-line @typescript-eslint/no-extraneous-class
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

/** The "final" argument slot of a command when there is no previous pipeline value. */
const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;

interface Variable {
  name: string;
  value: GoValue;
}

/** Byte column of a position, and its line (both as Go's ErrorContext computes them). */
function location(node: { pos: number; src: { text: string } }): { line: number; column: number } {
  const before = node.src.text.slice(0, node.pos);
  const nl = before.lastIndexOf('\n');
  let line = 1;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  const column = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1), 'utf8');
  return { line, column };
}

// Go prints the whole node, however long.
const contextText = (node: Node): string => nodeText(node);

/** Where a render's text goes; shared by the states of nested {{template}} calls. */
interface Sink {
  text: string;
}

class State {
  private sink: Sink = { text: '' };
  private vars: Variable[];
  private node: Node | null = null;
  private steps = 0;

  private readonly ctx: ExecContext;
  private readonly tmplName: string;
  private readonly depth: number;

  constructor(ctx: ExecContext, tmplName: string, dot: GoValue, depth = 0) {
    this.ctx = ctx;
    this.tmplName = tmplName;
    this.depth = depth;
    this.vars = [{ name: '$', value: dot }];
  }

  result(): string {
    return this.sink.text;
  }

  // --- errors ---
  private at(node: Node): void {
    this.node = node;
  }

  errorf(message: string, redacted?: string): never {
    const node = this.node;
    if (node === null) {
      const text = `template: ${this.tmplName}: ${message}`;
      throw new GoTemplateError(
        'exec',
        this.tmplName,
        text,
        undefined,
        undefined,
        `template: ${this.tmplName}: ${redacted ?? message}`,
      );
    }
    const { line, column } = location(node);
    const prefix = `template: ${node.src.parseName}:${line}:${column}: executing ${JSON.stringify(this.tmplName)} at <${contextText(node)}>: `;
    // The context is template source, never data; the message may quote data.
    throw new GoTemplateError(
      'exec',
      node.src.parseName,
      prefix + message,
      line,
      column,
      prefix + (redacted ?? message),
    );
  }

  private limit(message: string): never {
    try {
      this.errorf(message);
    } catch (error) {
      const e = error as GoTemplateError;
      throw new GoTemplateError('limit', e.templateName, e.message, e.line, e.column);
    }
  }

  private step(): void {
    if (++this.steps > this.ctx.limits.maxSteps) {
      this.limit(
        `template ${JSON.stringify(this.tmplName)} stopped after ${this.ctx.limits.maxSteps} steps (a loop too long for a secret template?)`,
      );
    }
  }

  private write(s: string): void {
    if (s.length === 0) return;
    if (this.sink.text.length + s.length > this.ctx.limits.maxOutput) {
      this.limit(`template ${JSON.stringify(this.tmplName)} output exceeds ${this.ctx.limits.maxOutput} characters`);
    }
    this.sink.text += s;
  }

  // --- variables ---
  private mark(): number {
    return this.vars.length;
  }
  private pop(mark: number): void {
    this.vars.length = mark;
  }
  private push(name: string, value: GoValue): void {
    this.vars.push({ name, value });
  }
  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  private setTopVar(n: number, value: GoValue): void {
    (this.vars[this.vars.length - n] as Variable).value = value;
  }
  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) return v.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // --- walking ---
  walk(dot: GoValue, node: Node): void {
    this.at(node);
    this.step();
    switch (node.type) {
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, value);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node);
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'text':
        this.write(node.text);
        return;
      default:
        this.errorf(`unknown node: ${nodeText(node)}`);
    }
  }

  private walkIfOrWith(dot: GoValue, node: BranchNode): void {
    const mark = this.mark();
    try {
      const value = this.evalPipeline(dot, node.pipe);
      const k = kindOf(value);
      if (k === 'struct' && !(value instanceof GoTyped))
        this.errorf(`if/with can't use ${sprint([value])}`, "if/with can't use <redacted>");
      if (truthOf(value)) this.walk(node.type === 'with' ? value : dot, node.list);
      else if (node.elseList !== null) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: GoValue, node: BranchNode): void {
    this.at(node);
    const outerMark = this.mark();
    try {
      const value = this.evalPipeline(dot, node.pipe);
      const mark = this.mark();
      const decl = node.pipe.decl;
      const oneIteration = (index: GoValue, elem: GoValue): void => {
        this.step();
        if (decl.length > 0) {
          if (node.pipe.isAssign) this.setVar(decl[0]?.ident[0] as string, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (node.pipe.isAssign) this.setVar(decl[1]?.ident[0] as string, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, node.list);
        } catch (signal) {
          if (signal !== CONTINUE) throw signal;
        } finally {
          this.pop(mark);
        }
      };
      let ran = false;
      try {
        const k = kindOf(value);
        if (Array.isArray(value)) {
          value.forEach((elem, i) => {
            ran = true;
            oneIteration(BigInt(i), elem);
          });
        } else if (value instanceof Map) {
          for (const key of sortedKeys(value)) {
            ran = true;
            oneIteration(key, value.get(key));
          }
        } else if (k === 'int' || k === 'uint') {
          if (decl.length > 1) {
            this.errorf(
              `can't use ${sprint([value])} to iterate over more than one variable`,
              "can't use <redacted> to iterate over more than one variable",
            );
          }
          const n = typeof value === 'bigint' ? value : ((value as GoTyped).value as bigint);
          if (n > BigInt(this.ctx.limits.maxSteps))
            this.limit(`range over ${n} exceeds the step limit ${this.ctx.limits.maxSteps}`);
          for (let i = 0n; i < n; i++) {
            ran = true;
            const v = typeof value === 'bigint' ? i : new GoTyped((value as GoTyped).type, (value as GoTyped).kind, i);
            oneIteration(v, v);
          }
        } else if (k !== 'invalid' && k !== 'nil') {
          this.errorf(`range can't iterate over ${sprint([value])}`, "range can't iterate over <redacted>");
        }
      } catch (signal) {
        if (signal !== BREAK) throw signal;
        return;
      }
      if (!ran && node.elseList !== null) this.walk(dot, node.elseList);
    } finally {
      this.pop(outerMark);
    }
  }

  private walkTemplate(dot: GoValue, node: TemplateNode): void {
    this.at(node);
    const tree = this.ctx.trees.get(node.name);
    if (tree === undefined) this.errorf(`template ${JSON.stringify(node.name)} not defined`);
    if (this.depth >= this.ctx.limits.maxDepth)
      this.limit(`exceeded maximum template depth (${this.ctx.limits.maxDepth})`);
    const value = this.evalPipeline(dot, node.pipe);
    const inner = new State(this.ctx, tree.name, value, this.depth + 1);
    inner.sink = this.sink;
    inner.steps = this.steps;
    try {
      inner.walk(value, tree.root);
    } finally {
      this.steps = inner.steps;
    }
  }

  /** Runs another template of the set into its own text, sharing the step budget and nesting depth. */
  private executor(): TemplateExecutor {
    return {
      execute: (name, dot) => {
        const tree = this.ctx.trees.get(name);
        if (tree === undefined) this.errorf(`template ${JSON.stringify(name)} not defined`);
        if (this.depth >= this.ctx.limits.maxDepth)
          this.limit(`exceeded maximum template depth (${this.ctx.limits.maxDepth})`);
        const inner = new State(this.ctx, tree.name, dot, this.depth + 1);
        inner.steps = this.steps;
        try {
          inner.walk(dot, tree.root);
        } finally {
          this.steps = inner.steps;
        }
        return inner.result();
      },
    };
  }

  private printValue(node: Node, value: GoValue): void {
    this.at(node);
    // Fast paths for what secret templates print most: strings, and small integral numbers.
    if (typeof value === 'string') this.write(value);
    else if (value === undefined) this.write('<no value>');
    else if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e6 && !Object.is(value, -0))
      this.write(String(value));
    else this.write(sprint([value]));
  }

  // --- evaluation ---
  evalPipeline(dot: GoValue, pipe: PipeNode | null): GoValue {
    if (pipe === null) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // An interface{} holding nil is no value at all once a command has produced it.
      if (value === null) value = undefined;
    }
    const result = value === MISSING ? undefined : value;
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0] as string, result);
      else this.push(v.ident[0] as string, result);
    }
    return result;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING)
      this.errorf(`can't give argument to non-function ${nodeText(args[0] as ArgNode)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0] as ArgNode;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first.node, first.field, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first.ident, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    const isHexInt = /^[+-]?0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    const isRune = n.text.startsWith("'");
    if (n.isFloat && !isHexInt && !isRune && /[.eEpP]/.test(n.text)) return n.float;
    if (n.isInt) return n.int;
    if (n.isUint) this.errorf(`${n.text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: readonly ArgNode[], final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, dot, field.ident, args, final);
  }

  private evalChain(
    dot: GoValue,
    head: ArgNode,
    fields: readonly string[],
    node: ArgNode,
    args: readonly ArgNode[],
    final: Final,
  ): GoValue {
    this.at(node);
    if (head.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeText(node)}`);
    const receiver = this.evalArg(dot, 'value', head);
    return this.evalFieldChain(dot, receiver, fields, args, final);
  }

  private evalVariableNode(dot: GoValue, v: VariableNode, args: readonly ArgNode[], final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0] as string);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: GoValue,
    receiver: GoValue,
    ident: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): GoValue {
    let r = receiver;
    let staticType: string | undefined;
    for (let i = 0; i < ident.length - 1; i++) {
      const parent = r;
      r = this.evalField(dot, ident[i] as string, [], MISSING, r, staticType);
      // A map element's static type is the map's element type (interface {} for decoded JSON).
      staticType =
        parent instanceof Map ? (typeName(parent) === 'map[string]string' ? 'string' : 'interface {}') : undefined;
    }
    return this.evalField(dot, ident[ident.length - 1] as string, args, final, r, staticType);
  }

  private evalField(
    dot: GoValue,
    name: string,
    args: readonly ArgNode[],
    final: Final,
    receiver: GoValue,
    staticType?: string,
  ): GoValue {
    if (receiver === undefined) {
      if (this.ctx.missingKey === 'error') this.errorf(`nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    // A method wins over a field or map key of the same name, as reflect's MethodByName is asked first.
    const method = receiver instanceof GoTyped ? receiver.methods?.get(name) : undefined;
    if (method !== undefined) {
      // Inside a chain (`.a.M.b`) the method gets no arguments: Go passes it none.
      const node = (args[0] ?? this.node) as ArgNode;
      return this.evalCall(dot, method, node, name, args.length > 0 ? args : [node], final);
    }
    const hasArgs = args.length > 1 || final !== MISSING;
    if (receiver instanceof Map) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      if (receiver.has(name)) return receiver.get(name);
      switch (this.ctx.missingKey) {
        case 'zero':
          return typeName(receiver) === 'map[string]string' ? '' : null;
        case 'error':
          return this.errorf(`map has no entry for key ${JSON.stringify(name)}`);
        default:
          return undefined;
      }
    }
    if (receiver instanceof GoTyped && receiver.kind === 'struct') {
      const fields = receiver.value as Record<string, unknown>;
      if (Object.hasOwn(fields, name)) {
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        return fields[name] as GoValue;
      }
    }
    this.errorf(`can't evaluate field ${name} in type ${staticType ?? typeName(receiver)}`);
  }

  private evalFunction(
    dot: GoValue,
    name: string,
    node: Node,
    cmd: CommandNode | ArgNode,
    args: readonly ArgNode[],
    final: Final,
  ): GoValue {
    this.at(node);
    const f = this.ctx.funcs(name);
    if (f === undefined) this.errorf(`${JSON.stringify(name)} is not a defined function`);
    return this.evalCall(dot, f, cmd, name, args, final);
  }

  private evalCall(
    dot: GoValue,
    f: GoFunction,
    node: Node,
    name: string,
    allArgs: readonly ArgNode[],
    final: Final,
  ): GoValue {
    this.step();
    const args = allArgs.slice(1);
    let numIn = args.length;
    if (final !== MISSING) numIn++;
    let numFixed = args.length;
    if (f.variadic !== undefined) {
      numFixed = f.params.length;
      if (numIn < numFixed)
        this.errorf(`wrong number of args for ${name}: want at least ${f.params.length} got ${args.length}`);
    } else if (numIn !== f.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${f.params.length} got ${numIn}`);
    }
    // and/or short-circuit, as Go's builtins do.
    if ((name === 'and' || name === 'or') && f.params[0] === 'value' && f.variadic === 'value' && isBuiltinLogic(f)) {
      let v: GoValue;
      for (const arg of args) {
        v = this.evalArg(dot, 'value', arg);
        if (truthOf(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: GoValue[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++)
      argv.push(this.evalArg(dot, f.params[i] as GoParam, args[i] as ArgNode));
    if (f.variadic !== undefined)
      for (; i < args.length; i++) argv.push(this.evalArg(dot, f.variadic, args[i] as ArgNode));
    if (final !== MISSING) {
      let t: GoParam = (f.params[f.params.length - 1] ?? f.variadic) as GoParam;
      if (f.variadic !== undefined) t = numIn - 1 < numFixed ? (f.params[numIn - 1] as GoParam) : f.variadic;
      argv.push(this.validateType(final, t));
    }
    if (name === 'call' && isBuiltinLogic(f)) {
      this.at(node);
      const callee = argv[0];
      if (callee === undefined || callee === null) this.errorf('error calling call: call of nil');
      // Template data never holds Go functions, so anything else is not callable.
      this.errorf(
        `error calling call: non-function ${nodeText(args[0] ?? node)} of type ${typeName(callee)}`,
        'error calling call: non-function',
      );
    }
    try {
      return f.callWith === undefined ? f.call(...argv) : f.callWith(this.executor(), ...argv);
    } catch (error) {
      this.at(node);
      if (error instanceof GoFuncError)
        this.errorf(`error calling ${name}: ${error.message}`, `error calling ${name}: ${error.redacted}`);
      if (error instanceof GoTemplateError) throw error;
      // A JavaScript failure inside a function is reported without its text (it may quote a value).
      this.errorf(`error calling ${name}: ${error instanceof Error ? error.name : 'failure'}`);
    }
  }

  private validateType(value: GoValue, t: GoParam): GoValue {
    if (t === 'value') return value;
    if (value === undefined) {
      if (t === 'any' || t === 'map' || t === 'list' || t === 'strings' || t === 'keypairs')
        return t === 'any' ? null : t === 'map' ? new Map() : [];
      this.errorf(`invalid value; expected ${GO_PARAM_TYPE_NAMES[t]}`);
    }
    if (t === 'any') return value;
    const got = value === null ? 'interface {}' : typeName(value);
    const ok =
      (t === 'string' && typeof value === 'string') ||
      (t === 'int' && typeof value === 'bigint') ||
      (t === 'float64' && typeof value === 'number') ||
      (t === 'bool' && typeof value === 'boolean') ||
      (t === 'map' && value instanceof Map && got === 'map[string]interface {}') ||
      (t === 'list' && Array.isArray(value) && got === '[]interface {}') ||
      (t === 'strings' && Array.isArray(value) && got === '[]string');
    if (!ok) this.errorf(`wrong type for value; expected ${GO_PARAM_TYPE_NAMES[t]}; got ${got}`);
    return value;
  }

  private evalArg(dot: GoValue, t: GoParam, n: ArgNode): GoValue {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, t);
      case 'nil':
        // A reflect.Value parameter receives no value at all for nil; interface{} receives nil.
        if (t === 'value') return undefined;
        if (t === 'any') return null;
        if (t === 'map' || t === 'list' || t === 'strings' || t === 'keypairs') return t === 'map' ? new Map() : [];
        return this.errorf(`cannot assign nil to ${GO_PARAM_TYPE_NAMES[t]}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), t);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, [], MISSING), t);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), t);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n.ident, n, n, [], MISSING), t);
      case 'chain':
        return this.validateType(this.evalChain(dot, n.node, n.field, n, [], MISSING), t);
    }
    switch (t) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeText(n)}`);
      case 'float64':
        if (n.type === 'number' && n.isFloat) return n.float;
        return this.errorf(`expected float; found ${nodeText(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.int;
        return this.errorf(`expected integer; found ${nodeText(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeText(n)}`);
      case 'any':
      case 'value':
        switch (n.type) {
          case 'bool':
            return n.value;
          case 'number':
            return this.idealConstant(n);
          case 'string':
            return n.text;
        }
    }
    this.errorf(`can't handle ${nodeText(n)} for arg of type ${GO_PARAM_TYPE_NAMES[t]}`);
  }
}

const LOGIC = new WeakSet<GoFunction>();
/** Marks the and/or/call builtins so a user function of the same name is not treated as one. */
export function markBuiltinLogic(f: GoFunction): GoFunction {
  LOGIC.add(f);
  return f;
}
const isBuiltinLogic = (f: GoFunction): boolean => LOGIC.has(f);

/** Executes the tree `name` over `data`. Throws GoTemplateError. */
export function execute(ctx: ExecContext, name: string, data: GoValue): string {
  const tree = ctx.trees.get(name);
  const state = new State(ctx, name, data);
  if (tree === undefined) return state.errorf(`${JSON.stringify(name)} is an incomplete or empty template`);
  const root = tree.root;
  try {
    state.walk(data, root);
  } catch (error) {
    if (error instanceof BreakSignal || error instanceof ContinueSignal)
      state.errorf('break or continue outside range');
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new GoTemplateError('limit', name, `template: ${name}: nested too deeply`);
    }
    throw error;
  }
  return state.result();
}
