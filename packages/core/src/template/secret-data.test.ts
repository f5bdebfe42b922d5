import { lookupPath, secretData } from './secret-data.ts';

describe('secretData', () => {
  const inner = { username: 'app' };

  test.each([
    ['a KV v2 response', { request_id: 'r', data: { data: inner, metadata: { version: 1 } } }],
    ['a KV v2 response without envelope fields', { data: { data: inner, metadata: { version: 1 } } }],
    ['a KV v2 data payload', { data: inner, metadata: { version: 1, created_time: 't' } }],
    ['a KV v1 response', { request_id: 'r', lease_id: '', lease_duration: 2764800, renewable: false, data: inner }],
    ['a dynamic secret response', { lease_id: 'database/creds/app/x', renewable: true, data: inner }],
    ['plain data', inner],
  ])('unwraps %s', (_kind, value) => {
    expect(secretData(value)).toBe(inner);
  });

  test('does not unwrap a secret whose own keys are "data" and "metadata"', () => {
    const own = { data: { a: 1 }, metadata: { owner: 'team' } };
    expect(secretData(own)).toBe(own);
  });

  test('a deleted KV v2 version has no data', () => {
    expect(secretData({ data: { data: null, metadata: { version: 2 } } })).toBeNull();
  });

  test('non-objects are returned as they are', () => {
    expect(secretData('text')).toBe('text');
    expect(secretData(null)).toBeNull();
  });
});

describe('lookupPath', () => {
  const data = { 'tls.crt': 'cert', tls: { key: 'k' }, a: { 'b.c': { d: 'deep' } }, list: [{ name: 'first' }] };

  test.each([
    [['tls.crt'], 'cert'],
    [['tls.key'], 'k'],
    [['a.b.c.d'], 'deep'],
    [['list.0.name'], 'first'],
    [['a', 'b.c', 'd'], 'deep'],
    [['missing'], undefined],
    [['tls.crt.x'], undefined],
    [['list.5'], undefined],
    [['constructor'], undefined],
    [['tls', 'hasOwnProperty'], undefined],
  ])('%j → %j', (path, expected) => {
    expect(lookupPath(data, path)).toBe(expected);
  });

  test('several arguments are exact keys, never split', () => {
    expect(lookupPath({ 'a.b': 1, a: { b: 2 } }, ['a.b'])).toBe(1);
    expect(lookupPath({ a: { b: 2 } }, ['a.b', ''])).toBeUndefined();
  });
});
