// The template dialect the agent renders, in the contract because the webhook compiles every inline
// template with it at admission (a template the agent would reject denies the pod).
// Secret data → file content. A template is, as in vault-k8s, a Go template in consul-template's dialect
// (`{{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }}`): it asks Vault for what it
// needs itself and is rendered as consul-template renders it (core's renderWithDependencies). A template
// that is not Go but compiles as handlebars (core's one environment, with the secret's own data as its
// context, KV v2 unwrapped: `{{username}}`, `{{secret "username"}}`) is rendered as before; see
// core's compileUserTemplate for how the engine is told apart. With no template the secret renders with
// core's default: sorted `key: value` lines, or JSON.

import {
  compileTemplate,
  consulTemplateFuncs,
  dependency,
  DependencyBrain,
  GoTemplate,
  GoTemplateError,
  looksLikeGo,
  renderDefault,
  renderWithDependencies,
  secretValue,
  TemplateError,
  type DependencyResolver,
  type DynamicSecret,
  type TemplateFileReader,
  type TemplateFileWriter,
  type TemplateRenderer,
} from '@vaultbridge/core';
import type { AgentSecretConfig } from './types.ts';

/** A secret as read from Vault, what a template renders. */
export type FetchedSecret =
  /** KV: `data` is the secret's own key/value map (KV v2's `data.data`) */
  | {
      readonly kind: 'kv';
      readonly path: string;
      readonly data: Record<string, unknown>;
      readonly version: number | undefined;
    }
  /** anything else: Vault's `data` with the lease, for the LeaseManager */
  | {
      readonly kind: 'dynamic';
      readonly path: string;
      readonly data: Record<string, unknown>;
      readonly secret: DynamicSecret<Record<string, unknown>>;
    };

/**
 * Renders one secret's file. `resolve` answers the Vault calls a Go template makes (secret, secrets,
 * pkiCert); the annotation's own secret, when fetched, answers its path without another call.
 */
export type SecretRenderer = ((
  fetched: FetchedSecret | undefined,
  resolve?: DependencyResolver,
) => string | Promise<string>) & {
  /** Go templates fetch for themselves: a failed read of the annotation's path is not yet an error. */
  readonly selfFetching?: boolean;
};

/**
 * Custom delimiters (agent-template-left/right-delim) are mapped onto handlebars' own: text that looks
 * like a handlebars mustache but is not a delimiter is escaped, so it comes out as written.
 */
export function toHandlebarsSource(source: string, left: string, right: string): string {
  if (left === '{{' && right === '}}') return source;
  const escaped = source.replace(/\{\{/g, '\\{{');
  const pattern = new RegExp(`${escapeRegExp(left)}([\\s\\S]*?)${escapeRegExp(right)}`, 'g');
  return escaped.replace(pattern, (_match, inner: string) => `{{${inner}}}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What a Go template may do to files (consul-template's writeToFile and file); without these, both
 * fail naming why (admission compiles templates only to check them).
 */
export interface TemplateFileAccess {
  readonly writeFile?: TemplateFileWriter;
  readonly readFile?: TemplateFileReader;
}

/** Compiles once; `templateText` is the inline template or the template file's content. */
export function compileSecretRenderer(
  secret: AgentSecretConfig,
  templateText: string | undefined,
  files: TemplateFileAccess = {},
): SecretRenderer {
  if (templateText === undefined) {
    return (fetched) => {
      if (fetched === undefined) throw new Error(`secret "${secret.name}" has neither a Vault path nor a template`);
      return renderDefault(defaultRenderInput(fetched), secret.defaultTemplate);
    };
  }
  const go = secret.templateEngine === 'handlebars' ? undefined : compileGoRenderer(secret, templateText, files);
  if (go !== undefined) return go;
  const render: TemplateRenderer = compileTemplate(
    secret.name,
    toHandlebarsSource(templateText, secret.leftDelimiter, secret.rightDelimiter),
    {
      strict: secret.errorOnMissingKey,
    },
  );
  return (fetched) => render(fetched?.data ?? {});
}

/** Go's message without its "template: NAME:LINE:COL: " prefix (TemplateError adds name and line). */
const goReason = (message: string): string => message.replace(/^template: [^:]*:\d+(?::\d+)?: /, '');

function templateError(error: GoTemplateError, code: 'TEMPLATE_PARSE' | 'TEMPLATE_RENDER'): TemplateError {
  return new TemplateError(
    code,
    error.templateName,
    goReason(error.redactedMessage),
    error.line,
    error.column === undefined ? undefined : error.column + 1,
  );
}

/** consul-template's *dependency.Secret for what the agent fetched for the annotation's path. */
function fetchedAsSecret(fetched: FetchedSecret) {
  if (fetched.kind === 'dynamic') {
    const s = fetched.secret;
    return secretValue({
      request_id: s.requestId,
      lease_id: s.leaseId,
      lease_duration: s.leaseDurationSeconds,
      renewable: s.renewable,
      data: s.data,
      warnings: s.warnings,
    });
  }
  // KV v2 answers carry the secret under data.data with its metadata; KV v1 answers are the data.
  return secretValue({
    data: fetched.version === undefined ? fetched.data : { data: fetched.data, metadata: { version: fetched.version } },
  });
}

const escapeRegExpText = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function handlebarsSecretCall(delims: readonly [string, string]): RegExp {
  return new RegExp(`${escapeRegExpText(delims[0])}~?\\s*secret\\s+"[^"/]*"\\s*~?${escapeRegExpText(delims[1])}`);
}

/** A Go renderer, or undefined when the text is handlebars (not Go, and nothing in it only Go writes). */
function compileGoRenderer(
  secret: AgentSecretConfig,
  templateText: string,
  files: TemplateFileAccess,
): SecretRenderer | undefined {
  const brain = new DependencyBrain(files.writeFile === undefined ? {} : { writeFile: files.writeFile });
  const delims = [secret.leftDelimiter, secret.rightDelimiter] as const;
  let template: GoTemplate;
  try {
    template = GoTemplate.parse(secret.name, templateText, {
      funcs: consulTemplateFuncs({
        brain,
        env: process.env,
        ...(files.readFile === undefined ? {} : { readFile: files.readFile }),
      }),
      delims,
      missingKey: secret.errorOnMissingKey ? 'error' : 'default',
    });
  } catch (error) {
    if (!(error instanceof GoTemplateError)) throw error;
    if (secret.templateEngine === 'go' || looksLikeGo(templateText, delims))
      throw templateError(error, 'TEMPLATE_PARSE');
    return undefined;
  }
  // `{{secret "username"}}` parses in both: consul-template's secret takes a Vault path (always with a
  // "/"), the handlebars helper a key of the secret's data (never with one). Without any action only Go
  // writes, a secret call whose only argument has no "/" is the handlebars helper.
  if (
    secret.templateEngine !== 'go' &&
    !looksLikeGo(templateText, delims) &&
    handlebarsSecretCall(delims).test(templateText)
  )
    return undefined;
  const render = async (fetched: FetchedSecret | undefined, resolve?: DependencyResolver): Promise<string> => {
    brain.reset();
    if (fetched !== undefined && secret.path !== undefined)
      brain.remember(dependency('read', secret.path), fetchedAsSecret(fetched));
    const answer: DependencyResolver =
      resolve ??
      (async (dep) => {
        throw new Error(`the template asks Vault for ${dep.path}, and this renderer has no Vault connection`);
      });
    try {
      return await renderWithDependencies(template, brain, answer);
    } catch (error) {
      if (error instanceof GoTemplateError)
        throw templateError(error, error.phase === 'parse' ? 'TEMPLATE_PARSE' : 'TEMPLATE_RENDER');
      throw error;
    }
  };
  return Object.assign(render, { selfFetching: true });
}

/** The shape renderDefault unwraps without guessing, whatever keys the secret has. */
function defaultRenderInput(fetched: FetchedSecret): unknown {
  if (fetched.kind === 'kv')
    return { request_id: '', data: { data: fetched.data, metadata: { version: fetched.version ?? 0 } } };
  return {
    request_id: fetched.secret.requestId,
    lease_id: fetched.secret.leaseId,
    renewable: fetched.secret.renewable,
    lease_duration: fetched.secret.leaseDurationSeconds,
    data: fetched.data,
  };
}
