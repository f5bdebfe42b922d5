// Secret data → file content, pure. A template is handlebars (core's one environment) with the secret's
// own data as its context (KV v2 unwrapped), so `{{username}}` and `{{secret "username"}}` both work;
// with no template the secret renders with core's default: sorted `key: value` lines, or JSON.

import { compileTemplate, renderDefault, type TemplateRenderer } from '@vaultbridge/core';
import type { AgentSecretConfig } from '../mutate/agent-config.ts';
import type { FetchedSecret } from './fetch.ts';

export type SecretRenderer = (fetched: FetchedSecret | undefined) => string;

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

/** Compiles once; `templateText` is the inline template or the template file's content. */
export function compileSecretRenderer(secret: AgentSecretConfig, templateText: string | undefined): SecretRenderer {
  if (templateText === undefined) {
    return (fetched) => {
      if (fetched === undefined) throw new Error(`secret "${secret.name}" has neither a Vault path nor a template`);
      return renderDefault(defaultRenderInput(fetched), secret.defaultTemplate);
    };
  }
  const render: TemplateRenderer = compileTemplate(secret.name, toHandlebarsSource(templateText, secret.leftDelimiter, secret.rightDelimiter), {
    strict: secret.errorOnMissingKey,
  });
  return (fetched) => render(fetched?.data ?? {});
}

/** The shape renderDefault unwraps without guessing, whatever keys the secret has. */
function defaultRenderInput(fetched: FetchedSecret): unknown {
  if (fetched.kind === 'kv') return { request_id: '', data: { data: fetched.data, metadata: { version: fetched.version ?? 0 } } };
  return { request_id: fetched.secret.requestId, lease_id: fetched.secret.leaseId, renewable: fetched.secret.renewable, lease_duration: fetched.secret.leaseDurationSeconds, data: fetched.data };
}
