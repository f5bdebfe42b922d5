import { compileTemplate } from './engine.ts';
import { TemplateError } from './errors.ts';
import { callHelper } from './helpers.ts';

const kvV2Response = {
  request_id: 'a1',
  lease_id: '',
  renewable: false,
  lease_duration: 0,
  data: {
    data: {
      username: 'app',
      password: 'p@ss"w0rd',
      'tls.crt': 'CERT',
      nested: { hosts: ['db-0', 'db-1'], port: 5432 },
    },
    metadata: { version: 3, created_time: '2026-01-01T00:00:00Z' },
  },
};

const pki = {
  certificate: '-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----',
  private_key: '-----BEGIN RSA PRIVATE KEY-----\nKEY\n-----END RSA PRIVATE KEY-----',
  issuing_ca: '-----BEGIN CERTIFICATE-----\nINTERMEDIATE\n-----END CERTIFICATE-----',
  ca_chain: [
    '-----BEGIN CERTIFICATE-----\nINTERMEDIATE\n-----END CERTIFICATE-----',
    '-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----',
  ],
  serial_number: '1a:2b',
};

function render(source: string, context: unknown = kvV2Response): string {
  return compileTemplate('test', source)(context);
}

describe('secret', () => {
  test.each([
    ['{{secret "username"}}', 'app'],
    ['{{secret "tls.crt"}}', 'CERT'],
    ['{{secret "nested.port"}}', '5432'],
    ['{{secret "nested.hosts.1"}}', 'db-1'],
    ['{{secret "nested" "hosts" "0"}}', 'db-0'],
    ['{{#with (secret "nested")}}{{port}}{{/with}}', '5432'],
    ['{{#each (secret)}}{{@key}};{{/each}}', 'username;password;tls.crt;nested;'],
  ])('%s → %j (KV v2 unwrapped)', (source, expected) => {
    expect(render(source)).toBe(expected);
  });

  test('reads from another object when given one', () => {
    expect(render('{{secret db "user"}}', { db: { data: { user: 'x' }, lease_id: 'database/creds/app/1' } })).toBe('x');
  });

  test('a missing key is an error naming the key and the keys present, not their values', () => {
    const error = (() => {
      try {
        render('line one\n{{secret "pasword"}}');
      } catch (caught) {
        return caught as TemplateError;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ code: 'TEMPLATE_RENDER', template: 'test', line: 2 });
    expect(error.message).toContain('no key "pasword" in the secret data (keys: nested, password, tls.crt, username)');
    expect(error.message).not.toContain('p@ss');
  });
});

describe('get', () => {
  test.each([
    ['{{get this "username"}}', 'app'],
    ['{{get . "nested.hosts.0"}}', 'db-0'],
    ['{{default (get . "missing") "fallback"}}', 'fallback'],
    ['{{json (get . "nested")}}', '{"hosts":["db-0","db-1"],"port":5432}'],
    ['[{{get . "missing"}}]', '[]'],
  ])('%s → %j', (source, expected) => {
    expect(render(source)).toBe(expected);
  });

  test('reads only own properties', () => {
    expect(callHelper('get', [{ a: 1 }, 'constructor'])).toBeUndefined();
    expect(callHelper('get', [{ a: 1 }, 'toString'])).toBeUndefined();
    expect(callHelper('get', [{ a: 1 }, '__proto__'])).toBeUndefined();
  });
});

describe('encoding helpers', () => {
  test.each([
    ['{{base64 "hello"}}', 'aGVsbG8='],
    ['{{base64Decode "aGVsbG8="}}', 'hello'],
    ['{{base64Decode "aGVsbG8"}}', 'hello'],
    ['{{base64Decode (base64 (secret "password"))}}', 'p@ss"w0rd'],
    ['{{json (secret "password")}}', '"p@ss\\"w0rd"'],
    ['{{json (get . "missing")}}', 'null'],
    ['{{jsonPretty (secret "nested")}}', '{\n  "hosts": [\n    "db-0",\n    "db-1"\n  ],\n  "port": 5432\n}'],
    ['{{jsonPretty (secret "nested.hosts") 0}}', '["db-0","db-1"]'],
  ])('%s → %j', (source, expected) => {
    expect(render(source)).toBe(expected);
  });

  test('base64Decode refuses invalid input without quoting it', () => {
    expect(() => render('{{base64Decode (secret "password")}}')).toThrow('base64Decode: the value is not valid base64');
    expect(() => render('{{base64Decode (secret "password")}}')).not.toThrow(/p@ss/);
  });
});

describe('PEM helpers', () => {
  test.each([
    ['{{pemCertificate .}}', pki.certificate],
    ['{{pemPrivateKey .}}', pki.private_key],
    ['{{pemCa .}}', pki.issuing_ca],
    ['{{pemChain .}}', [pki.certificate, ...pki.ca_chain].join('\n')],
  ])('%s', (source, expected) => {
    expect(render(source, pki)).toBe(expected);
  });

  test('read a Vault response envelope too', () => {
    expect(render('{{pemCertificate .}}', { lease_id: 'pki/issue/x', data: pki })).toBe(pki.certificate);
  });

  test('the chain falls back to issuing_ca and never repeats the leaf', () => {
    expect(callHelper('pemChain', [{ certificate: 'LEAF', issuing_ca: 'CA' }])).toBe('LEAF\nCA');
    expect(callHelper('pemChain', [{ certificate: 'LEAF', ca_chain: ['LEAF', 'CA'] }])).toBe('LEAF\nCA');
    expect(callHelper('pemCa', [{ certificate: 'LEAF', ca_chain: ['INT', 'ROOT'] }])).toBe('INT');
  });

  test('a missing part is an error naming the field', () => {
    expect(() => render('\n\n{{pemPrivateKey .}}', { certificate: 'x' })).toThrow(
      'template "test" line 3: pemPrivateKey: the PKI result has no "private_key" field',
    );
  });
});

describe('text helpers', () => {
  test.each([
    ['{{default "" "x"}}', 'x'],
    ['{{default "set" "x"}}', 'set'],
    ['{{default (get . "a") (get . "b") "last"}}', 'last'],
    ['{{default 0 5}}', '0'],
    ['{{upper (secret "username")}}', 'APP'],
    ['{{lower "MiXeD"}}', 'mixed'],
    ['[{{trim "  padded \n"}}]', '[padded]'],
    ['{{join (secret "nested.hosts") ", "}}', 'db-0, db-1'],
    ['{{join (secret "nested.hosts")}}', 'db-0,db-1'],
    ['{{#each (split "a;b;c" ";")}}<{{this}}>{{/each}}', '<a><b><c>'],
    ['{{join (split "a,b")  "+"}}', 'a+b'],
    ['{{upper 42}}', '42'],
  ])('%s → %j', (source, expected) => {
    expect(render(source)).toBe(expected);
  });

  test('text helpers refuse mappings', () => {
    expect(() => render('{{upper (secret "nested")}}')).toThrow('upper: expected text, got a mapping');
    expect(() => render('{{join "text"}}')).toThrow('join: expected a list, got string');
  });

  test('helpers check their arity at render', () => {
    expect(() => render('{{base64}}')).toThrow('base64: expects at least 1 argument, got 0');
  });
});

describe('quoting helpers', () => {
  test.each([
    ['simple', "'simple'", '"simple"'],
    ["it's", `'it'\\''s'`, `"it's"`],
    ['$HOME `id` "q" \\', `'$HOME \`id\` "q" \\'`, '"\\$HOME \\`id\\` \\"q\\" \\\\"'],
    ['two\nlines\r', "'two\nlines\r'", '"two\\nlines\\r"'],
    ['', "''", '""'],
  ])('%j → shell %s, env %s', (value, shell, env) => {
    expect(render('{{shellQuote v}}', { v: value })).toBe(shell);
    expect(render('{{envQuote v}}', { v: value })).toBe(env);
  });

  test('a dotenv file built with envQuote', () => {
    const source = '{{#each (secret)}}{{upper @key}}={{envQuote this}}\n{{/each}}';
    expect(render(source, { data: { data: { db_password: 'a"b$c' }, metadata: { version: 1 } } })).toBe(
      'DB_PASSWORD="a\\"b\\$c"\n',
    );
  });

  test('shellQuote output round-trips through a POSIX shell', async () => {
    const { execFile } = await import('node:child_process');
    const value = `it's "$HOME" \`id\` \\ ; rm -rf / \n end`;
    const output = await new Promise<string>((resolve, reject) =>
      execFile('/bin/sh', ['-c', `printf '%s' ${render('{{shellQuote v}}', { v: value })}`], (error, stdout) =>
        error === null ? resolve(stdout) : reject(error),
      ),
    );
    expect(output).toBe(value);
  });
});
