// The public face of the Go template engine: parse a template (plus any companion templates that
// hold `define` blocks) once with a function set, delimiters and a missingkey mode, then execute it
// many times.
import type { Tree } from './ast.ts';
import { BUILTINS } from './builtins.ts';
import { type ExecLimits, type MissingKey, execute, markBuiltinLogic } from './exec.ts';
import type { FuncMap, GoFunction } from './func.ts';
import { parseTemplate } from './parse.ts';
import { type GoValue, fromJs } from './values.ts';

for (const name of ['and', 'or', 'call']) markBuiltinLogic(BUILTINS.get(name) as GoFunction);

export const DEFAULT_LIMITS: ExecLimits = { maxOutput: 16 * 1024 * 1024, maxSteps: 1_000_000, maxDepth: 100 };

export interface GoTemplateOptions {
  /** Functions besides the builtins (a user function of a builtin's name replaces it, as in Go). */
  funcs?: FuncMap;
  /** Left and right delimiters; empty strings mean the defaults {{ and }}. */
  delims?: readonly [string, string];
  /** Go's Option("missingkey=…"): default (print "<no value>"), zero, or error. */
  missingKey?: MissingKey;
  limits?: Partial<ExecLimits>;
}

export interface NamedTemplateText {
  name: string;
  text: string;
}

/** A parsed template and its associated templates, ready to execute many times. */
export class GoTemplate {
  private readonly trees: Map<string, Tree>;
  private readonly lookup: (name: string) => GoFunction | undefined;
  private readonly options: GoTemplateOptions;
  private readonly limits: ExecLimits;

  readonly name: string;

  private constructor(name: string, trees: Map<string, Tree>, options: GoTemplateOptions) {
    this.name = name;
    this.trees = trees;
    this.options = options;
    const funcs = options.funcs;
    this.lookup = funcs === undefined ? (n) => BUILTINS.get(n) : (n) => funcs.get(n) ?? BUILTINS.get(n);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  /**
   * Parses `text` as the template `name`; `companions` are parsed first into the same set (their
   * `define`s are callable from `text`, as in VSO's sourceTemplates). Throws GoTemplateError.
   */
  static parse(
    name: string,
    text: string,
    options: GoTemplateOptions = {},
    companions: readonly NamedTemplateText[] = [],
  ): GoTemplate {
    const funcs = options.funcs;
    const hasFunction = (n: string): boolean => BUILTINS.has(n) || (funcs?.has(n) ?? false);
    const parseOptions = { leftDelim: options.delims?.[0] ?? '', rightDelim: options.delims?.[1] ?? '', hasFunction };
    const trees = new Map<string, Tree>();
    for (const c of companions) mergeTrees(trees, parseTemplate(c.name, c.text, parseOptions));
    mergeTrees(trees, parseTemplate(name, text, parseOptions));
    return new GoTemplate(name, trees, options);
  }

  /** Names of the templates in the set (the main one, companions, defines and blocks). */
  templateNames(): string[] {
    return [...this.trees.keys()].sort();
  }

  /** Executes the main template, or the associated template `name`, over already converted data. */
  executeValue(data: GoValue, name = this.name): string {
    // Go's Execute(nil) has no value at all, not a nil interface.
    const dot = data === null ? undefined : data;
    return execute(
      { trees: this.trees, funcs: this.lookup, missingKey: this.options.missingKey ?? 'default', limits: this.limits },
      name,
      dot,
    );
  }

  /** Executes over plain JavaScript data (objects become Go maps; numbers float64). */
  execute(data: unknown, name = this.name): string {
    return this.executeValue(fromJs(data), name);
  }
}

/** text/template's AddParseTree rule: a later empty definition does not replace a non-empty one. */
function mergeTrees(into: Map<string, Tree>, from: Map<string, Tree>): void {
  for (const [name, tree] of from) {
    const old = into.get(name);
    if (old !== undefined && tree.root.nodes.length === 0) continue;
    into.set(name, tree);
  }
}
