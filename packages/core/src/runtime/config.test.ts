import { z } from 'zod';
import { ConfigError, fromEnv, NO_GIVEN_VALUE, parseConfig } from './config.ts';
import { booleanValue, durationMs, httpUrl } from './config-values.ts';

const schema = z.object({
  vault: z.object({
    address: httpUrl(),
    token: z.string().min(8).optional(),
    namespace: z.string().optional(),
  }),
  // core's value schemas are zod/mini ones; a classic zod object holds them all the same.
  renderInterval: z._default(durationMs(), 300_000),
  exitOnError: z._default(booleanValue(), true),
  concurrency: z.number().int().min(1).max(64).default(8),
  mode: z.enum(['map', 'json']).default('map'),
});

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  test('returns the typed value with defaults', () => {
    expect(parseConfig(schema, { vault: { address: 'https://vault:8200' } })).toEqual({
      vault: { address: 'https://vault:8200' },
      renderInterval: 300_000,
      exitOnError: true,
      concurrency: 8,
      mode: 'map',
    });
  });

  test('names every bad field by its dotted path, with what was expected and given', () => {
    const error = errorOf(() =>
      parseConfig(
        schema,
        {
          vault: { address: 'vault:8200' },
          renderInterval: 'soon',
          exitOnError: 'maybe',
          concurrency: 0,
          mode: 'yaml',
        },
        { source: 'config.yaml' },
      ),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.source).toBe('config.yaml');
    expect(error.issues).toEqual([
      { field: 'vault.address', message: 'expected a URL like https://vault:8200, got "vault:8200"' },
      {
        field: 'renderInterval',
        message: 'expected a duration like 30s, 5m, 1h30m or a number of seconds, got "soon"',
      },
      { field: 'exitOnError', message: 'expected true or false (also yes/no, on/off, 1/0), got "maybe"' },
      { field: 'concurrency', message: 'expected at least 1, got 0' },
      { field: 'mode', message: 'expected one of "map", "json", got "yaml"' },
    ]);
    expect(error.message).toBe(
      [
        'invalid configuration from config.yaml:',
        '  vault.address: expected a URL like https://vault:8200, got "vault:8200"',
        '  renderInterval: expected a duration like 30s, 5m, 1h30m or a number of seconds, got "soon"',
        '  exitOnError: expected true or false (also yes/no, on/off, 1/0), got "maybe"',
        '  concurrency: expected at least 1, got 0',
        '  mode: expected one of "map", "json", got "yaml"',
      ].join('\n'),
    );
  });

  test('says when a required field is missing, and what type was wanted', () => {
    const error = errorOf(() => parseConfig(schema, { vault: {}, concurrency: 'four' }));
    expect(error.issues).toEqual([
      { field: 'vault.address', message: 'expected a URL like https://vault:8200, got nothing' },
      { field: 'concurrency', message: 'expected a number, got "four"' },
    ]);
  });

  test('never shows the value of a secret-looking field', () => {
    const error = errorOf(() => parseConfig(schema, { vault: { address: 'https://v:8200', token: 'short' } }));
    expect(error.message).toBe(
      'invalid configuration from configuration: vault.token: expected at least 8 characters (the given value is not shown: the field is secret)',
    );
    expect(error.message).not.toContain('short');
  });

  test('hides values of fields listed as secret', () => {
    const error = errorOf(() =>
      parseConfig(z.object({ roleName: z.string().min(3) }), { roleName: 'ab' }, { secretFields: ['roleName'] }),
    );
    expect(error.message).not.toContain('"ab"');
  });

  test('isSecret replaces the name heuristic: a file path under `secrets` is shown', () => {
    const paths = z.object({ secrets: z.array(z.object({ destination: z.string().startsWith('/') })) });
    const error = errorOf(() => parseConfig(paths, { secrets: [{ destination: 'db' }] }, { isSecret: () => false }));
    expect(error.issues).toEqual([
      { field: 'secrets.0.destination', message: 'expected a valid starts_with, got "db"' },
    ]);
    // secretFields still hide what they list.
    const hidden = errorOf(() =>
      parseConfig(
        paths,
        { secrets: [{ destination: 'db' }] },
        { isSecret: () => false, secretFields: ['secrets.0.destination'] },
      ),
    );
    expect(hidden.message).not.toContain('"db"');
  });

  test('a custom issue with NO_GIVEN_VALUE carries only its own message', () => {
    const pair = z.object({ a: z.number(), b: z.number() }).superRefine((value, context) => {
      if (value.a > value.b)
        context.addIssue({
          code: 'custom',
          path: ['b'],
          message: `expected at least a (${value.a})`,
          params: NO_GIVEN_VALUE,
        });
      if (value.a === value.b) context.addIssue({ code: 'custom', path: ['b'], message: 'expected more than a' });
    });
    expect(errorOf(() => parseConfig(pair, { a: 2, b: 1 })).issues).toEqual([
      { field: 'b', message: 'expected at least a (2)' },
    ]);
    // Without it, the given value (here the whole object the refinement saw) is appended as before.
    expect(errorOf(() => parseConfig(pair, { a: 1, b: 1 })).issues).toEqual([
      { field: 'b', message: 'expected more than a, got a mapping' },
    ]);
  });

  test('reports unknown fields of a strict object', () => {
    const error = errorOf(() => parseConfig(z.strictObject({ a: z.string() }), { a: 'x', b: 1, c: 2 }));
    expect(error.issues).toEqual([{ field: '(root)', message: 'unknown fields "b", "c"; remove or correct them' }]);
  });

  test('names list elements by index', () => {
    const error = errorOf(() =>
      parseConfig(z.object({ objects: z.array(z.object({ objectName: z.string() })) }), {
        objects: [{ objectName: 'a' }, {}],
      }),
    );
    expect(error.issues).toEqual([{ field: 'objects.1.objectName', message: 'expected text, got nothing' }]);
  });

  test('keeps a message a schema gives itself', () => {
    const error = errorOf(() =>
      parseConfig(z.object({ role: z.string({ error: 'expected the Vault role name' }) }), {}),
    );
    expect(error.issues).toEqual([{ field: 'role', message: 'expected the Vault role name, got nothing' }]);
  });
});

describe('fromEnv', () => {
  const mapping = {
    VAULT_ADDR: 'vault.address',
    VAULT_TOKEN: 'vault.token',
    VAULT_NAMESPACE: 'vault.namespace',
    RENDER_INTERVAL: 'renderInterval',
    EXIT_ON_ERROR: 'exitOnError',
  };

  test('reads the mapped variables; empty ones count as unset', () => {
    const env = {
      VAULT_ADDR: 'http://127.0.0.1:8200',
      VAULT_NAMESPACE: '',
      RENDER_INTERVAL: '1h30m',
      EXIT_ON_ERROR: 'off',
    };
    expect(fromEnv(schema, mapping, { env })).toEqual({
      vault: { address: 'http://127.0.0.1:8200' },
      renderInterval: 5_400_000,
      exitOnError: false,
      concurrency: 8,
      mode: 'map',
    });
  });

  test('names the variables in errors', () => {
    const error = errorOf(() =>
      fromEnv(schema, mapping, {
        env: { VAULT_ADDR: 'vault:8200', VAULT_TOKEN: 'hvs.x', RENDER_INTERVAL: '5 minutes' },
      }),
    );
    expect(error.message).toBe(
      [
        'invalid configuration from environment:',
        '  VAULT_ADDR: expected a URL like https://vault:8200, got "vault:8200"',
        '  VAULT_TOKEN: expected at least 8 characters (the given value is not shown: the field is secret)',
        '  RENDER_INTERVAL: expected a duration like 30s, 5m, 1h30m or a number of seconds, got "5 minutes"',
      ].join('\n'),
    );
  });
});
