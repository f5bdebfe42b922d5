import { describe, expect, test } from '@jest/globals';
import { pod, VAULT_ADDR } from '../../test/support/pods.ts';
import { InvalidAnnotationsError } from './errors.ts';
import { parseAnnotations } from './parse.ts';
import type { SecretSpec } from './spec.ts';

function secretsOf(annotations: Record<string, string>): readonly SecretSpec[] {
  return parseAnnotations(pod(annotations), { vaultAddress: VAULT_ADDR }, { namespace: 'app' }).secrets;
}

function messagesOf(annotations: Record<string, string>): string[] {
  try {
    secretsOf(annotations);
  } catch (error) {
    if (error instanceof InvalidAnnotationsError) return error.issues.map((i) => `${i.annotation}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a rejection');
}

const BASE = {
  leftDelimiter: '{{',
  rightDelimiter: '}}',
  errorOnMissingKey: false,
  defaultTemplate: 'map',
  mountPath: '/vault/secrets',
} as const;

describe('which annotations define secrets', () => {
  test.each<[string, Record<string, string>, Array<Partial<SecretSpec>>]>([
    [
      'agent-inject-secret-<name> defines a secret with its Vault path',
      { 'agent-inject-secret-foo': 'secret/data/foo' },
      [
        {
          ...BASE,
          rawName: 'foo',
          name: 'foo',
          vaultPath: 'secret/data/foo',
          file: 'foo',
          destination: '/vault/secrets/foo',
        },
      ],
    ],
    [
      'an inline template alone defines a secret (GH-505)',
      { 'agent-inject-template-foo': '{{ .Data.x }}' },
      [
        {
          ...BASE,
          rawName: 'foo',
          name: 'foo',
          template: '{{ .Data.x }}',
          file: 'foo',
          destination: '/vault/secrets/foo',
        },
      ],
    ],
    [
      'a template file alone defines a secret',
      { 'agent-inject-template-file-foo': '/vault/custom/foo.tmpl' },
      [
        {
          ...BASE,
          rawName: 'foo',
          name: 'foo',
          templateFile: '/vault/custom/foo.tmpl',
          file: 'foo',
          destination: '/vault/secrets/foo',
        },
      ],
    ],
    [
      'the inline template wins over the template file',
      {
        'agent-inject-secret-foo': 'kv/foo',
        'agent-inject-template-foo': 'inline',
        'agent-inject-template-file-foo': '/x.tmpl',
      },
      [
        {
          ...BASE,
          rawName: 'foo',
          name: 'foo',
          vaultPath: 'kv/foo',
          template: 'inline',
          file: 'foo',
          destination: '/vault/secrets/foo',
        },
      ],
    ],
    ['blank values define nothing', { 'agent-inject-secret-foo': '', 'agent-inject-template-bar': '  ' }, []],
    ['an empty secret name defines nothing', { 'agent-inject-secret-': 'kv/x' }, []],
    [
      'names are lower-cased for the file name (upstream PreserveCase off)',
      { 'agent-inject-secret-FOOBAR': 'kv/foobar' },
      [
        {
          ...BASE,
          rawName: 'FOOBAR',
          name: 'foobar',
          vaultPath: 'kv/foobar',
          file: 'foobar',
          destination: '/vault/secrets/foobar',
        },
      ],
    ],
    [
      'preserve-secret-case keeps the case (upstream PreserveCase on)',
      { 'agent-inject-secret-FOOBAR': 'kv/foobar', 'preserve-secret-case': 'true' },
      [
        {
          ...BASE,
          rawName: 'FOOBAR',
          name: 'FOOBAR',
          vaultPath: 'kv/foobar',
          file: 'FOOBAR',
          destination: '/vault/secrets/FOOBAR',
        },
      ],
    ],
    [
      "preserve-secret-case-<name> keeps one secret's case",
      { 'agent-inject-secret-ONE': 'kv/1', 'agent-inject-secret-TWO': 'kv/2', 'preserve-secret-case-ONE': 'true' },
      [
        { ...BASE, rawName: 'ONE', name: 'ONE', vaultPath: 'kv/1', file: 'ONE', destination: '/vault/secrets/ONE' },
        { ...BASE, rawName: 'TWO', name: 'two', vaultPath: 'kv/2', file: 'two', destination: '/vault/secrets/two' },
      ],
    ],
    [
      'dots stay in the name (server.crt)',
      { 'agent-inject-secret-server.crt': 'pki/issue/x' },
      [
        {
          ...BASE,
          rawName: 'server.crt',
          name: 'server.crt',
          vaultPath: 'pki/issue/x',
          file: 'server.crt',
          destination: '/vault/secrets/server.crt',
        },
      ],
    ],
    [
      'secrets are sorted by name, whatever the annotation order',
      { 'agent-inject-secret-b': 'kv/b', 'agent-inject-secret-a': 'kv/a', 'agent-inject-template-c': 'c' },
      [
        { ...BASE, rawName: 'a', name: 'a', vaultPath: 'kv/a', file: 'a', destination: '/vault/secrets/a' },
        { ...BASE, rawName: 'b', name: 'b', vaultPath: 'kv/b', file: 'b', destination: '/vault/secrets/b' },
        { ...BASE, rawName: 'c', name: 'c', template: 'c', file: 'c', destination: '/vault/secrets/c' },
      ],
    ],
  ])('%s', (...[, annotations, expected]) => {
    expect(secretsOf(annotations)).toEqual(expected);
  });
});

describe('per-secret annotations are looked up by the raw name', () => {
  const secret = { 'agent-inject-secret-Foo': 'kv/foo' };
  test.each<[string, Record<string, string>, Partial<SecretSpec>]>([
    [
      'agent-inject-file-<name> names the file',
      { 'agent-inject-file-Foo': 'config/app.env' },
      { file: 'config/app.env', destination: '/vault/secrets/config/app.env' },
    ],
    [
      'agent-inject-file-<name> is normalised',
      { 'agent-inject-file-Foo': './app//x.txt' },
      { file: 'app/x.txt', destination: '/vault/secrets/app/x.txt' },
    ],
    ['agent-inject-perms-<name> is an octal mode', { 'agent-inject-perms-Foo': '0400' }, { perms: 0o400 }],
    [
      'agent-inject-command-<name> runs after a change',
      { 'agent-inject-command-Foo': 'pkill -HUP app' },
      { command: 'pkill -HUP app' },
    ],
    [
      'agent-template-left-delim / right-delim',
      { 'agent-template-left-delim-Foo': '[[', 'agent-template-right-delim-Foo': ']]' },
      { leftDelimiter: '[[', rightDelimiter: ']]' },
    ],
    ['error-on-missing-key-<name>', { 'error-on-missing-key-Foo': 'true' }, { errorOnMissingKey: true }],
    [
      'secret-volume-path-<name> moves the file to its own directory',
      { 'secret-volume-path-Foo': '/etc/app' },
      { mountPath: '/etc/app', destination: '/etc/app/foo' },
    ],
    [
      'agent-inject-default-template-<name> (ours) picks json for one secret',
      { 'agent-inject-default-template-Foo': 'json' },
      { defaultTemplate: 'json' },
    ],
    [
      'the pod-wide default template applies to each secret',
      { 'agent-inject-default-template': 'JSON' },
      { defaultTemplate: 'json' },
    ],
    [
      'the pod-wide secret-volume-path applies to each secret',
      { 'secret-volume-path': '/run/secrets' },
      { mountPath: '/run/secrets', destination: '/run/secrets/foo' },
    ],
  ])('%s', (...[, annotations, expected]) => {
    const [only] = secretsOf({ ...secret, ...annotations });
    expect(only).toMatchObject(expected);
  });
});

test('a per-secret annotation with a differently cased name does not apply, and is warned about', () => {
  const spec = parseAnnotations(
    pod({ 'agent-inject-secret-Foo': 'kv/foo', 'agent-inject-perms-foo': '0400' }),
    { vaultAddress: VAULT_ADDR },
    { namespace: 'app' },
  );
  expect(spec.secrets.map((s) => [s.rawName, s.perms])).toEqual([['Foo', undefined]]);
  expect(spec.warnings).toEqual([
    'vault.hashicorp.com/agent-inject-perms-foo refers to secret "foo", which no vault.hashicorp.com/agent-inject-secret-foo or vault.hashicorp.com/agent-inject-template-foo defines; it is ignored',
  ]);
});

describe('per-secret annotations that are invalid', () => {
  test.each<[string, Record<string, string>, string[]]>([
    [
      'a file name with .. (upstream lets it escape the volume)',
      { 'agent-inject-secret-foo': 'kv/foo', 'agent-inject-file-foo': '../../etc/passwd' },
      [
        'vault.hashicorp.com/agent-inject-file-foo: expected a relative file path without `..` segments, such as `db.txt` or `config/app.env`',
      ],
    ],
    [
      'an absolute file name',
      { 'agent-inject-secret-foo': 'kv/foo', 'agent-inject-file-foo': '/etc/passwd' },
      [
        'vault.hashicorp.com/agent-inject-file-foo: expected a relative file path without `..` segments, such as `db.txt` or `config/app.env`',
      ],
    ],
    [
      'a relative secret-volume-path-<name>',
      { 'agent-inject-secret-foo': 'kv/foo', 'secret-volume-path-foo': 'etc' },
      [
        'vault.hashicorp.com/secret-volume-path-foo: expected an absolute directory path without `..` segments, such as /vault/secrets',
      ],
    ],
    [
      'perms that are not octal',
      { 'agent-inject-secret-foo': 'kv/foo', 'agent-inject-perms-foo': 'rw-------' },
      ['vault.hashicorp.com/agent-inject-perms-foo: expected an octal file mode such as 0400, 0440 or 0644'],
    ],
    [
      'error-on-missing-key that is not a boolean',
      { 'agent-inject-secret-foo': 'kv/foo', 'error-on-missing-key-foo': 'yes' },
      [
        'vault.hashicorp.com/error-on-missing-key-foo: expected a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False',
      ],
    ],
    [
      'preserve-secret-case-<name> that is not a boolean (upstream ignores the error)',
      { 'agent-inject-secret-foo': 'kv/foo', 'preserve-secret-case-foo': 'please' },
      [
        'vault.hashicorp.com/preserve-secret-case-foo: expected a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False',
      ],
    ],
    [
      'an unknown per-secret default template',
      { 'agent-inject-secret-foo': 'kv/foo', 'agent-inject-default-template-foo': 'xml' },
      ['vault.hashicorp.com/agent-inject-default-template-foo: expected one of map, json'],
    ],
    [
      'two secrets that render to one file (FOO and foo after lower-casing)',
      { 'agent-inject-secret-FOO': 'kv/a', 'agent-inject-secret-foo': 'kv/b' },
      [
        'vault.hashicorp.com/agent-inject-secret-foo: renders to /vault/secrets/foo, as secret "FOO" does; give one of them another agent-inject-file',
      ],
    ],
  ])('%s', (...[, annotations, expected]) => {
    expect(messagesOf(annotations)).toEqual(expected);
  });
});

describe('templates are validated at admission (vault-k8s only fails later, in the pod)', () => {
  test('a Go syntax error denies the pod naming the annotation, line and column', () => {
    expect(
      messagesOf({
        'agent-inject-secret-db': 'secret/data/db',
        'agent-inject-template-db': '{{ with secret "secret/data/db" }}\nuser={{ .Data.data.user }\n{{ end }}',
      }),
    ).toEqual([
      'vault.hashicorp.com/agent-inject-template-db: the template does not parse at line 2, column 25: unexpected "}" in operand',
    ]);
  });

  test('an unknown function is refused', () => {
    const [message] = messagesOf({
      'agent-inject-template-db': '{{- with secret "secret/data/db" | nosuchfunc -}}{{ end }}',
    });
    expect(message).toContain('function "nosuchfunc" not defined');
  });

  test('custom delimiters are honoured', () => {
    expect(
      secretsOf({
        'agent-inject-template-db':
          '[[ with secret "secret/data/db" ]]{{ not a template }}[[ .Data.data.user ]][[ end ]]',
        'agent-template-left-delim-db': '[[',
        'agent-template-right-delim-db': ']]',
      }),
    ).toHaveLength(1);
  });

  test('vault-k8s documentation templates and handlebars templates pass', () => {
    expect(
      secretsOf({
        'agent-inject-template-a':
          '{{- with secret "database/creds/app" -}}postgresql://{{ .Data.username }}:{{ .Data.password }}@db/app{{- end }}',
        'agent-inject-template-b':
          '{{ with secret "secret/data/app" }}{{ range $k, $v := .Data.data }}{{ $k }}={{ $v }}\n{{ end }}{{ end }}',
        'agent-inject-template-c': 'user={{secret "username"}} password={{password}}',
      }),
    ).toHaveLength(3);
  });
});

describe('template-engine-<secret> chooses the engine explicitly', () => {
  test('handlebars keeps a template that would parse as Go as handlebars', () => {
    const [secret] = secretsOf({
      'agent-inject-template-a': 'user={{secret "username"}}',
      'template-engine-a': 'handlebars',
    });
    expect(secret).toMatchObject({ templateEngine: 'handlebars' });
  });

  test('go makes a handlebars template a Go parse error at admission', () => {
    expect(messagesOf({ 'agent-inject-template-a': 'user={{username}}', 'template-engine-a': 'go' })).toEqual([
      'vault.hashicorp.com/agent-inject-template-a: the template does not parse at line 1, column 8: function "username" not defined',
    ]);
  });

  test('anything else is refused', () => {
    expect(messagesOf({ 'agent-inject-template-a': 'x', 'template-engine-a': 'jinja' })[0]).toContain(
      'template-engine-a: expected',
    );
  });
});
