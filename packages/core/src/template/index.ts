// Templating shared by the three delivery methods: one handlebars environment, its helpers, and the
// default rendering of a secret that has no template.
export {
  compileTemplate,
  TEMPLATE_HELPER_NAMES,
  type CompileTemplateOptions,
  type TemplateRenderer,
} from './engine.ts';
export { TemplateError, HelperError, type TemplateErrorCode } from './errors.ts';
export { renderDefault, stableJson, DEFAULT_TEMPLATE_FORMATS, type DefaultTemplateFormat } from './default-renderer.ts';
export { secretData, lookupPath } from './secret-data.ts';
export { pemPart, PemError, type PemPart } from './pem.ts';
export { shellQuote, envQuote } from './quote.ts';
export {
  compileUserTemplate,
  looksLikeGo,
  type TemplateEngineName,
  type UserTemplate,
  type UserTemplateOptions,
} from './select.ts';
