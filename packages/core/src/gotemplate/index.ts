// Go text/template in TypeScript: the language, builtins, fmt printing, and the function sets
// (sprig, VSO's allowlist, consul-template's helpers). See packages/core/README.md "Go templates".
export { GoTemplate, DEFAULT_LIMITS, type GoTemplateOptions, type NamedTemplateText } from './template.ts';
export { GoTemplateError, GoFuncError, type GoTemplatePhase } from './errors.ts';
export type { ExecLimits, MissingKey } from './exec.ts';
export { fn, type FuncMap, type GoFunction, type GoParam, type TemplateExecutor } from './func.ts';
export { GoTyped, fromJs, fromJson, toJs, jsonNumber, typeName, type GoValue, type GoMap } from './values.ts';
export { sprint, sprintf, sprintln, formatFloat } from './fmt.ts';
export { FUNC_SETS, SPRIG, VSO_FUNCS, VSO_ALLOWED_FUNCTIONS, VSO_MISSING_FUNCTIONS } from './funcsets.ts';
export {
  consulTemplateFuncs,
  DependencyBrain,
  dependency,
  renderWithDependencies,
  secretValue,
  pkiValue,
  type ConsulTemplateOptions,
  type DependencyResolver,
  type VaultDependency,
} from './funcs/consul.ts';
export { vaultDependencyResolver } from './vault-resolver.ts';
export { pemParts, certificateStillGood, type PemParts } from './funcs/consul.ts';
export {
  confinedFileReader,
  type TemplateFileReader,
  type TemplateFileWrite,
  type TemplateFileWriter,
} from './funcs/consul-state.ts';
