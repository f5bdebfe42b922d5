import { renderDefault, stableJson } from './default-renderer.ts';
import { TemplateError } from './errors.ts';

const kvV2 = {
  request_id: 'r',
  lease_id: '',
  lease_duration: 0,
  renewable: false,
  data: {
    data: { username: 'app', password: 'pw', port: 5432, tags: { b: 2, a: 1 }, empty: null },
    metadata: { version: 2, created_time: '2026-01-01T00:00:00Z' },
  },
};

describe('renderDefault', () => {
  test('map: sorted key: value lines of the unwrapped KV v2 data', () => {
    expect(renderDefault(kvV2)).toBe('empty: null\npassword: pw\nport: 5432\ntags: {"a":1,"b":2}\nusername: app\n');
  });

  test('json: the unwrapped data with sorted keys and a final newline', () => {
    expect(renderDefault(kvV2, 'json')).toBe(
      '{"empty":null,"password":"pw","port":5432,"tags":{"a":1,"b":2},"username":"app"}\n',
    );
  });

  test('a dynamic secret response renders its data', () => {
    const database = {
      lease_id: 'database/creds/app/abc',
      renewable: true,
      lease_duration: 3600,
      data: { username: 'v-app', password: 'x' },
    };
    expect(renderDefault(database)).toBe('password: x\nusername: v-app\n');
  });

  test('plain data renders as it is', () => {
    expect(renderDefault({ b: 'two', a: 'one' })).toBe('a: one\nb: two\n');
  });

  test('multi-line values are written as they are', () => {
    expect(renderDefault({ cert: 'line1\nline2' })).toBe('cert: line1\nline2\n');
  });

  test('a deleted KV v2 version is an error, not "data: null"', () => {
    const deleted = {
      request_id: 'r',
      data: { data: null, metadata: { version: 3, deletion_time: '2026-01-02T00:00:00Z' } },
    };
    expect(() => renderDefault(deleted)).toThrow(TemplateError);
    expect(() => renderDefault(deleted)).toThrow('the secret has no key/value data');
  });

  test('output is byte-identical for equal data in any key order', () => {
    expect(renderDefault({ a: 1, b: { y: 1, x: 2 } }, 'json')).toBe(renderDefault({ b: { x: 2, y: 1 }, a: 1 }, 'json'));
  });
});

test('stableJson sorts keys at every level and keeps arrays in order', () => {
  expect(stableJson({ z: [{ b: 1, a: 2 }], a: undefined, m: null })).toBe('{"m":null,"z":[{"a":2,"b":1}]}');
});
