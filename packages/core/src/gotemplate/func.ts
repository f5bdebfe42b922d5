// How a template function is described: its Go parameter types (so arguments are checked and
// converted exactly as text/template's reflection does) and its body. A body throws GoFuncError for
// the error result of a Go function; the executor reports it as "error calling NAME: …".
import type { GoValue } from './values.ts';

/**
 * Go parameter types the executor knows how to check:
 *  - 'value': a reflect.Value (builtins such as eq, len, index receive the raw value, even "no value");
 *  - 'any': interface{} ("no value" becomes nil);
 *  - 'string' | 'int' | 'float64' | 'bool': exact Go types (a json.Number is not a string, as in Go);
 *  - 'map': map[string]interface{}; 'list': []interface{}; 'strings': []string;
 *  - 'keypairs': Consul's []*dependency.KeyPair, which template data never holds (only nil fits).
 */
export type GoParam = 'value' | 'any' | 'string' | 'int' | 'float64' | 'bool' | 'map' | 'list' | 'strings' | 'keypairs';

/** What a function that runs templates of its own set (consul-template's executeTemplate) is given. */
export interface TemplateExecutor {
  /** Renders the associated template `name` with `dot`; throws GoTemplateError. */
  execute(name: string, dot: GoValue): string;
}

export interface GoFunction {
  params: readonly GoParam[];
  /** The element type of a trailing `...` parameter. */
  variadic?: GoParam;
  call: (...args: GoValue[]) => GoValue;
  /** Used instead of `call` when present: the function also gets the running template set. */
  callWith?: (executor: TemplateExecutor, ...args: GoValue[]) => GoValue;
}

export type FuncMap = ReadonlyMap<string, GoFunction>;

export const fn = (params: readonly GoParam[], call: GoFunction['call'], variadic?: GoParam): GoFunction =>
  variadic === undefined ? { params, call } : { params, call, variadic };

export const GO_PARAM_TYPE_NAMES: Readonly<Record<GoParam, string>> = {
  value: 'reflect.Value',
  any: 'interface {}',
  string: 'string',
  int: 'int',
  float64: 'float64',
  bool: 'bool',
  map: 'map[string]interface {}',
  list: '[]interface {}',
  strings: '[]string',
  keypairs: '[]*dependency.KeyPair',
};
