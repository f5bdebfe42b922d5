// Templates moved between methods. Today every method renders handlebars through core's one engine, so
// a template moves by changing only what it is rendered over:
//  - the agent and the CSI provider: the secret's own data (KV v2 unwrapped) is the root;
//  - the operator: `{ Secrets, Metadata, Annotations, Labels }`, the data under `Secrets`.
// Going to the operator, the template is wrapped in `{{#with Secrets}}` and the helpers that read the
// root (`secret "key"`, `@root`) are pointed at `@root.Secrets`; going back, the reverse.
import { compileTemplate, consulTemplateFuncs, DependencyBrain, GoTemplate, GoTemplateError } from '@vaultbridge/core';
import { toHandlebarsSource } from '@vaultbridge/agent/contract';

export type AgentTemplateEngine =
  { readonly engine: 'go' | 'handlebars' } | { readonly engine: 'invalid'; readonly reason: string };

/**
 * Which engine renders an agent template. The agent on main renders handlebars (delimiters mapped as it
 * maps them), so a template that compiles there is handlebars; one that does not but parses as Go with
 * consul-template's functions is a vault-k8s (Go) template; else neither engine takes it. When the
 * agent chooses between the engines itself (issue 9), this should call the agent's own choice.
 */
export function agentTemplateEngine(
  name: string,
  text: string,
  leftDelimiter = '{{',
  rightDelimiter = '}}',
  strict = false,
): AgentTemplateEngine {
  let handlebarsError: Error;
  try {
    compileTemplate(name, toHandlebarsSource(text, leftDelimiter, rightDelimiter), { strict });
    return { engine: 'handlebars' };
  } catch (error) {
    handlebarsError = error as Error;
  }
  try {
    GoTemplate.parse(name, text, {
      funcs: consulTemplateFuncs({ brain: new DependencyBrain() }),
      delims: [leftDelimiter, rightDelimiter],
    });
    return { engine: 'go' };
  } catch (error) {
    if (!(error instanceof GoTemplateError)) throw error;
  }
  return { engine: 'invalid', reason: handlebarsError.message };
}

/** `{{ secret` / `(secret` calls that read the root (no object argument before the key, or no argument). */
const ROOT_SECRET_CALL = /((?:\{\{~?|\()\s*)secret(?=\s*(?:["']|~?\}\}|\)))/g;
const ROOT_REFERENCE = /@root\b(?!\.Secrets\b)/g;

/** An agent (or CSI object) template with its delimiters → the operator's form of the same template. */
export function toOperatorTemplate(source: string, leftDelimiter = '{{', rightDelimiter = '}}'): string {
  const handlebars = toHandlebarsSource(source, leftDelimiter, rightDelimiter);
  const pointed = handlebars
    .replace(ROOT_REFERENCE, '@root.Secrets')
    .replace(ROOT_SECRET_CALL, '$1secret @root.Secrets');
  return `{{#with Secrets}}${pointed}{{/with}}`;
}

/** The agent's `map` default (core renderDefault) as an operator template: `key: value` lines. */
export const OPERATOR_DEFAULT_MAP = '{{#each Secrets}}{{@key}}: {{this}}\n{{/each}}';
/** The agent's `json` default as an operator template. */
export const OPERATOR_DEFAULT_JSON = '{{json Secrets}}\n';

/** The same defaults for a CSI object template (rendered over the data itself). */
export const CSI_DEFAULT_MAP = '{{#each this}}{{@key}}: {{this}}\n{{/each}}';
export const CSI_DEFAULT_JSON = '{{json this}}\n';

const WRAPPED = /^\{\{#with Secrets\}\}([\s\S]*)\{\{\/with\}\}$/;

/**
 * An operator template → a template over the secret's data (CSI object, agent), or undefined when it
 * reads what only the operator has (`Metadata`, `Annotations`, `Labels`). The operator's root `Secrets`
 * is the other methods' root, so `@root.Secrets` and a top-level `Secrets` both become `@root`.
 */
export function fromOperatorTemplate(text: string): string | undefined {
  const wrapped = WRAPPED.exec(text);
  const body = wrapped ? wrapped[1]! : text;
  if (/(^|[^.\w])(Metadata|Annotations|Labels)\b/.test(body)) return undefined;
  const rooted = body.replace(/@root\.Secrets\b/g, '@root');
  return wrapped ? rooted : rooted.replace(/(^|[^.\w@])Secrets\b/g, '$1@root');
}
