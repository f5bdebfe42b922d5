import { TemplateError } from '@vaultbridge/core';
import type { AgentSecretConfig } from './types.ts';
import { compileSecretRenderer, toHandlebarsSource, type FetchedSecret } from './render.ts';

const secret: AgentSecretConfig = {
  name: 'db',
  path: 'secret/data/db',
  defaultTemplate: 'map',
  destination: '/vault/secrets/db',
  leftDelimiter: '{{',
  rightDelimiter: '}}',
  errorOnMissingKey: false,
};

const kv: FetchedSecret = {
  kind: 'kv',
  path: 'secret/data/db',
  data: { username: 'app', password: 'p@ss', port: 5432 },
  version: 3,
};
// Keys that look like a KV v2 envelope must still be rendered as the secret's own data.
const envelopeLike: FetchedSecret = {
  kind: 'kv',
  path: 'secret/data/odd',
  data: { data: { a: 1 }, metadata: { version: 1 } },
  version: 1,
};
const dynamic: FetchedSecret = {
  kind: 'dynamic',
  path: 'database/creds/app',
  data: { username: 'v-app-1', password: 'x' },
  secret: {
    path: 'database/creds/app',
    leaseId: 'database/creds/app/1',
    leaseDurationSeconds: 3600,
    renewable: true,
    data: { username: 'v-app-1', password: 'x' },
    warnings: [],
    requestId: 'r',
    obtainedAt: 0,
    expiresAt: 3_600_000,
  },
};

describe('compileSecretRenderer', () => {
  test.each<[string, Partial<AgentSecretConfig>, string | undefined, FetchedSecret, string]>([
    [
      'default map: sorted key: value lines, KV v2 unwrapped',
      {},
      undefined,
      kv,
      'password: p@ss\nport: 5432\nusername: app\n',
    ],
    ['default json', { defaultTemplate: 'json' }, undefined, kv, '{"password":"p@ss","port":5432,"username":"app"}\n'],
    [
      'default map of a dynamic secret: its data, not the lease',
      {},
      undefined,
      dynamic,
      'password: x\nusername: v-app-1\n',
    ],
    [
      'default map of data shaped like an envelope',
      {},
      undefined,
      envelopeLike,
      'data: {"a":1}\nmetadata: {"version":1}\n',
    ],
    [
      'a template sees the data as its context',
      {},
      'postgres://{{username}}:{{secret "password"}}@db:{{port}}/app',
      kv,
      'postgres://app:p@ss@db:5432/app',
    ],
    ['no HTML escaping', {}, '{{password}}&{{username}}', kv, 'p@ss&app'],
    ['a missing key prints empty without error-on-missing-key', {}, '[{{nope}}]', kv, '[]'],
    [
      'custom delimiters',
      { leftDelimiter: '[[', rightDelimiter: ']]' },
      'user=[[ username ]] {{literal}}',
      kv,
      'user=app {{literal}}',
    ],
  ])('%s', (_name, change, template, fetched, expected) => {
    expect(compileSecretRenderer({ ...secret, ...change }, template)(fetched)).toBe(expected);
  });

  test('a missing key fails with error-on-missing-key, naming the key and not the values', () => {
    const render = compileSecretRenderer({ ...secret, errorOnMissingKey: true }, 'x={{pasword}}');
    expect(() => render(kv)).toThrow(TemplateError);
    expect(() => render(kv)).toThrow(/pasword/);
    expect(() => render(kv)).not.toThrow(/p@ss/);
  });

  test('a syntax error fails at compile time, naming the secret', () => {
    expect(() => compileSecretRenderer(secret, '{{#if}}')).toThrow(/template "db"/);
  });

  test('a template without a path renders with an empty context', async () => {
    expect(await compileSecretRenderer({ ...secret, path: undefined }, 'static\n')(undefined)).toBe('static\n');
  });
});

describe('toHandlebarsSource', () => {
  test('leaves default delimiters alone and maps custom ones', () => {
    expect(toHandlebarsSource('{{a}}', '{{', '}}')).toBe('{{a}}');
    expect(toHandlebarsSource('<% a %> {{b}}', '<%', '%>')).toBe('{{ a }} \\{{b}}');
  });
});
