import type { VaultResponse } from '@vaultbridge/core';
import { parseMountRequest, type SecretObject } from './config.ts';
import { decodeValue, goJson, marshalVaultSecret, objectContent } from './encode.ts';
import { SecretContentError } from './errors.ts';

function object(yaml: string): SecretObject {
  const attributes = JSON.stringify({
    roleName: 'r',
    'csi.storage.k8s.io/pod.namespace': 'ns',
    'csi.storage.k8s.io/serviceAccount.name': 'sa',
    objects: `- objectName: f\n  secretPath: secret/data/app\n${yaml}`,
  });
  const [parsed] = parseMountRequest(
    { attributes, targetPath: '/t', permission: '420' },
    { vaultMount: 'kubernetes', tls: {} },
  ).objects;
  if (!parsed) throw new Error('no object');
  return parsed;
}

function response(data: unknown, extra: Partial<VaultResponse<unknown>> = {}): VaultResponse<unknown> {
  return {
    request_id: 'req-1',
    lease_id: '',
    lease_duration: 0,
    renewable: false,
    data,
    auth: null,
    warnings: null,
    wrap_info: null,
    ...extra,
  };
}

const kvV1 = response(
  { 'the-key': 'secret v1 from: /v1/path/two', zeta: 10, alpha: [6, 'stilton', true] },
  { lease_duration: 2764800 },
);
const kvV2 = response({
  data: { password: 'p<&>ss', cheeses: { cheddar: '8', brie: 9 }, b64: 'aGVsbG8=', hex: '68656c6c6f' },
  metadata: { version: 3, created_time: '2024-01-01T00:00:00Z', destroyed: false },
});

describe('objectContent', () => {
  it('whole response without secretKey: Go field order, sorted data keys, warnings null, no encoding', () => {
    expect(objectContent(object(''), kvV1).toString()).toBe(
      '{"request_id":"req-1","lease_id":"","lease_duration":2764800,"renewable":false,"data":{"alpha":[6,"stilton",true],"the-key":"secret v1 from: /v1/path/two","zeta":10},"warnings":null}',
    );
    expect(objectContent(object('  encoding: base64\n'), kvV1).toString()).toContain('"request_id":"req-1"');
  });

  it('whole KV v2 response keeps data.data and data.metadata, HTML characters escaped as Go does', () => {
    expect(objectContent(object(''), kvV2).toString()).toBe(
      '{"request_id":"req-1","lease_id":"","lease_duration":0,"renewable":false,"data":{"data":{"b64":"aGVsbG8=","cheeses":{"brie":9,"cheddar":"8"},"hex":"68656c6c6f","password":"p\\u003c\\u0026\\u003ess"},"metadata":{"created_time":"2024-01-01T00:00:00Z","destroyed":false,"version":3}},"warnings":null}',
    );
  });

  it.each([
    ['KV v1 string value raw', kvV1, '  secretKey: the-key\n', 'secret v1 from: /v1/path/two'],
    ['KV v1 number as JSON', kvV1, '  secretKey: zeta\n', '10'],
    ['KV v1 list as JSON', kvV1, '  secretKey: alpha\n', '[6,"stilton",true]'],
    ['KV v2 unwrapped, raw string (no HTML escaping of raw values)', kvV2, '  secretKey: password\n', 'p<&>ss'],
    ['KV v2 map as sorted JSON', kvV2, '  secretKey: cheeses\n', '{"brie":9,"cheddar":"8"}'],
    ['base64 decoded', kvV2, '  secretKey: b64\n  encoding: base64\n', 'hello'],
    ['hex decoded', kvV2, '  secretKey: hex\n  encoding: hex\n', 'hello'],
    ['utf-8 explicit', kvV2, '  secretKey: b64\n  encoding: utf-8\n', 'aGVsbG8='],
  ])('%s', (_name, answer, yaml, expected) => {
    expect(objectContent(object(yaml), answer).toString('utf8')).toBe(expected);
  });

  it('a dynamic secret (database creds) keeps its lease fields in the whole response', () => {
    const creds = response(
      { username: 'v-app', password: 'pw' },
      { lease_id: 'database/creds/app/abc', lease_duration: 3600, renewable: true },
    );
    expect(objectContent(object(''), creds).toString()).toBe(
      '{"request_id":"req-1","lease_id":"database/creds/app/abc","lease_duration":3600,"renewable":true,"data":{"password":"pw","username":"v-app"},"warnings":null}',
    );
  });

  it.each([
    [
      'missing key names the key and the keys present',
      kvV2,
      '  secretKey: nope\n',
      /object "f": key "nope" does not exist at secret\/data\/app \(keys: b64, cheeses, hex, password\)/,
    ],
    ['bad base64', kvV2, '  secretKey: password\n  encoding: base64\n', /not standard padded base64/],
    ['bad hex', kvV2, '  secretKey: password\n  encoding: hex\n', /not hexadecimal/],
    ['empty response', null, '', /empty response from secret\/data\/app/],
  ])('%s', (_name, answer, yaml, message) => {
    expect(() => objectContent(object(yaml), answer)).toThrow(SecretContentError);
    expect(() => objectContent(object(yaml), answer)).toThrow(message);
  });

  it('never quotes the value in an error', () => {
    expect(() => objectContent(object('  secretKey: password\n  encoding: hex\n'), kvV2)).not.toThrow(/p<&>ss/);
  });
});

describe('goJson', () => {
  it('sorts keys by UTF-8 bytes at every level and escapes like Go', () => {
    expect(goJson({ b: 1, a: { d: null, c: 'x\u2028<' }, B: true })).toBe(
      '{"B":true,"a":{"c":"x\\u2028\\u003c","d":null},"b":1}',
    );
    expect(goJson('tab\tnl\nquote"')).toBe('"tab\\tnl\\nquote\\""');
  });

  it('marshals auth and wrap_info only when present, in Go field order', () => {
    const withAuth = marshalVaultSecret({
      ...kvV1,
      data: {},
      auth: {
        client_token: 't',
        accessor: 'a',
        policies: ['p'],
        token_policies: ['p'],
        metadata: null,
        lease_duration: 1,
        renewable: true,
        entity_id: 'e',
        token_type: 'service',
        orphan: true,
      },
    });
    expect(withAuth).toMatch(
      /"warnings":null,"auth":\{"client_token":"t","accessor":"a","policies":\["p"\],"token_policies":\["p"\],"identity_policies":null,"metadata":null,"orphan":true,"entity_id":"e","lease_duration":1,"renewable":true,"mfa_requirement":null\}\}$/,
    );
    expect(marshalVaultSecret({ ...kvV1, mount_type: 'kv' })).toMatch(/"warnings":null,"mount_type":"kv"\}$/);
  });
});

describe('decodeValue', () => {
  it('accepts Go base64 with line breaks, refuses unpadded', () => {
    expect(decodeValue(Buffer.from('aGVs\r\nbG8='), 'base64')).toEqual(Buffer.from('hello'));
    expect(decodeValue(Buffer.from('aGVsbG8'), 'base64')).toHaveProperty('error');
    expect(decodeValue(Buffer.from('6'), 'hex')).toHaveProperty('error');
  });
});

describe('nested keys and templates (ours)', () => {
  const nested = response({
    data: { POSTGRES: { PGHOST: 'db.internal', PGPORT: 5432 }, hosts: ['a', 'b'], 'dotted.key': 'literal' },
    metadata: { version: 1 },
  });

  it.each([
    ['a dotted key walks into a map', '  secretKey: POSTGRES.PGHOST\n', 'db.internal'],
    ['a non-string leaf is JSON, as at the top level', '  secretKey: POSTGRES.PGPORT\n', '5432'],
    ['a list index', '  secretKey: hosts.1\n', 'b'],
    ['a key that exists as written wins (upstream finds it the same way)', '  secretKey: dotted.key\n', 'literal'],
    ['a whole nested map', '  secretKey: POSTGRES\n', '{"PGHOST":"db.internal","PGPORT":5432}'],
  ])('%s', (_name, yaml, expected) => {
    expect(objectContent(object(yaml), nested).toString()).toBe(expected);
  });

  it('a dotted key that leads nowhere names the key and the top-level keys', () => {
    expect(() => objectContent(object('  secretKey: POSTGRES.PGUSER\n'), nested)).toThrow(
      /key "POSTGRES.PGUSER" does not exist .*\(keys: POSTGRES, dotted.key, hosts\)/,
    );
  });

  it('a template renders over the unwrapped data, without HTML escaping', () => {
    const yaml =
      '  template: "postgresql://{{POSTGRES.PGHOST}}:{{POSTGRES.PGPORT}}/app?hosts={{join hosts \\",\\"}}"\n';
    expect(objectContent(object(yaml), nested).toString()).toBe('postgresql://db.internal:5432/app?hosts=a,b');
    expect(objectContent(object('  template: "{{password}}"\n'), kvV2).toString()).toBe('p<&>ss');
  });

  it("a Go template (the operator's functions) renders over the same data; templateEngine chooses explicitly", () => {
    const yaml =
      '  template: "postgresql://{{ .POSTGRES.PGHOST }}:{{ .POSTGRES.PGPORT }}/app?hosts={{ join \\",\\" .hosts }}"\n';
    expect(objectContent(object(yaml), nested).toString()).toBe('postgresql://db.internal:5432/app?hosts=a,b');
    expect(objectContent(object('  template: "{{ .password | b64enc }}"\n'), kvV2).toString()).toBe(
      Buffer.from('p<&>ss').toString('base64'),
    );
    expect(objectContent(object('  templateEngine: handlebars\n  template: "{{password}}"\n'), kvV2).toString()).toBe(
      'p<&>ss',
    );
  });

  it('a template reading a field that is not there fails naming the field, not a value', () => {
    let message = '';
    try {
      objectContent(object('  template: "{{POSTGRES.PGUSER}}"\n'), nested);
    } catch (error) {
      expect(error).toBeInstanceOf(SecretContentError);
      message = (error as Error).message;
    }
    expect(message).toContain('PGUSER');
    expect(message).not.toContain('db.internal');
  });
});
