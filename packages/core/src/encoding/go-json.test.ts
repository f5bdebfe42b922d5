import { readFileSync } from 'node:fs';
import { goJson, goJsonMember, goJsonNumber, goJsonString, parseJsonKeepingNumbers } from './go-json.ts';

// Outputs of Go's encoding/json for each input, made by testdata/gen.go (`go run gen.go > go-json-cases.json`).
const fixture = JSON.parse(readFileSync(new URL('./testdata/go-json-cases.json', import.meta.url), 'utf8')) as {
  go: string;
  cases: Array<{ input: string; jsonNumber: string; float64: string }>;
};

describe('goJson against Go encoding/json', () => {
  test.each(fixture.cases.map((item) => [item.input, item] as const))(
    'json.Number decode → Marshal: %s',
    (_input, item) => {
      expect(goJson(parseJsonKeepingNumbers(item.input))).toBe(item.jsonNumber);
    },
  );

  test.each(fixture.cases.map((item) => [item.input, item] as const))(
    'float64 decode → Marshal: %s',
    (_input, item) => {
      expect(goJson(JSON.parse(item.input))).toBe(item.float64);
    },
  );
});

describe('pieces', () => {
  test('strings are HTML-safe, and U+2028/2029 escaped', () => {
    expect(goJsonString('a<b>&\u2028\u2029')).toBe('"a\\u003cb\\u003e\\u0026\\u2028\\u2029"');
  });

  test('numbers as a float64 prints', () => {
    expect([-0, 0, 1e21, 1e-7, 0.000001, 123.5].map(goJsonNumber)).toEqual([
      '-0',
      '0',
      '1e+21',
      '1e-7',
      '0.000001',
      '123.5',
    ]);
  });

  test('a copy of a parsed object forgets the literals and encodes as float64', () => {
    const parsed = parseJsonKeepingNumbers('{"a":1.0}') as Record<string, unknown>;
    expect(goJson(parsed)).toBe('{"a":1.0}');
    expect(goJson({ ...parsed })).toBe('{"a":1}');
  });

  test('one member keeps its literal', () => {
    const parsed = parseJsonKeepingNumbers('{"port":5432.0,"list":[1e2]}') as Record<string, unknown>;
    expect(goJsonMember(parsed, 'port')).toBe('5432.0');
    expect(goJsonMember(parsed, 'list')).toBe('[1e2]');
  });

  test('undefined members are left out, as absent ones', () => {
    expect(goJson({ b: undefined, a: 1 })).toBe('{"a":1}');
  });

  test('invalid JSON is refused as JSON.parse refuses it', () => {
    expect(() => parseJsonKeepingNumbers('{"a":1.0')).toThrow(SyntaxError);
  });
});
