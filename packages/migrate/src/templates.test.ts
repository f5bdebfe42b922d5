import { compileTemplate, renderDefault } from '@vaultbridge/core';
import {
  agentTemplateEngine,
  CSI_DEFAULT_MAP,
  fromOperatorTemplate,
  OPERATOR_DEFAULT_JSON,
  OPERATOR_DEFAULT_MAP,
  toOperatorTemplate,
} from './templates.ts';

const data = { username: 'app', password: 'p@ss', port: '5432' };
// The operator renders over this (sync/destination.ts transformSecretData); the agent and CSI over `data`.
const operatorContext = { Secrets: data, Metadata: { version: 3 }, Annotations: {}, Labels: {} };
const render = (source: string, context: unknown) => compileTemplate('t', source)(context);

describe('agent template → operator template renders the same text', () => {
  test.each([
    ['a field', 'user={{username}}'],
    [
      'the secret helper on the root',
      'postgres://{{secret "username"}}:{{secret "password"}}@db:{{secret "port"}}/app',
    ],
    ['@root inside a block', '{{#each this}}{{@key}}={{lookup @root @key}};{{/each}}'],
    ['a helper chain', '{{base64 (secret "password")}}'],
    ['whitespace control', '{{~ username ~}}\n'],
  ])('%s', (_name, template) => {
    expect(render(toOperatorTemplate(template), operatorContext)).toBe(render(template, data));
  });

  test('custom delimiters are turned into handlebars first', () => {
    expect(render(toOperatorTemplate('[[ username ]] {{literal}}', '[[', ']]'), operatorContext)).toBe(
      'app {{literal}}',
    );
  });

  test("the defaults render core's renderDefault bytes for data in Vault's (sorted) key order", () => {
    // Vault's JSON has its map keys sorted (Go encoding/json), and JSON.parse keeps that order.
    const fromVault = JSON.parse('{"password":"p@ss","port":"5432","username":"app"}') as Record<string, unknown>;
    expect(render(OPERATOR_DEFAULT_MAP, { ...operatorContext, Secrets: fromVault })).toBe(
      renderDefault(fromVault, 'map'),
    );
    expect(render(OPERATOR_DEFAULT_JSON, { ...operatorContext, Secrets: fromVault })).toBe(
      renderDefault(fromVault, 'json'),
    );
  });
});

describe('operator template → CSI/agent template', () => {
  test.each([
    ['a Secrets field', '{{Secrets.username}}'],
    ['get on Secrets', '{{get Secrets "password"}}'],
    ['each over Secrets', '{{#each Secrets}}{{@key}};{{/each}}'],
    ['a wrapped template from toOperatorTemplate', toOperatorTemplate('{{secret "username"}}-{{password}}')],
  ])('%s', (_name, template) => {
    const moved = fromOperatorTemplate(template);
    expect(moved).toBeDefined();
    expect(render(moved!, data)).toBe(render(template, operatorContext));
  });

  test('a template reading Metadata has no counterpart', () => {
    expect(fromOperatorTemplate('v{{Metadata.version}}')).toBeUndefined();
  });

  test('the CSI map default renders the agent default', () => {
    expect(render(CSI_DEFAULT_MAP, data)).toBe(render(OPERATOR_DEFAULT_MAP, operatorContext));
  });
});

describe('which engine the agent renders a template with', () => {
  test.each([
    ['a handlebars field', 'user={{username}}', 'handlebars'],
    ['the secret helper on the root', '{{secret "password"}}\n{{port}}', 'handlebars'],
    [
      'the vault-k8s documentation template',
      '{{- with secret "database/creds/db-app" -}}\npostgres://{{ .Data.username }}:{{ .Data.password }}@postgres:5432/appdb\n{{- end }}',
      'go',
    ],
    ['text only (both engines print it as is)', 'static\n', 'handlebars'],
    ['custom delimiters, handlebars', '[[ username ]]', 'handlebars'],
  ])('%s', (_name, text, engine) => {
    const delims = text.startsWith('[[') ? (['[[', ']]'] as const) : (['{{', '}}'] as const);
    expect(agentTemplateEngine('t', text, delims[0], delims[1]).engine).toBe(engine);
  });
});
