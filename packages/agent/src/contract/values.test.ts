import { describe, expect, test } from '@jest/globals';
import {
  isRejected,
  parseBool,
  parseChoice,
  parseFileMode,
  parseFraction,
  parseGoDuration,
  parseHttpUrl,
  parseInteger,
  parsePort,
  parseQuantity,
  parseSecondsOrDuration,
  parseTimeout,
  splitList,
} from './values.ts';

describe('booleans use Go strconv.ParseBool spellings, as vault-k8s does', () => {
  test.each([
    ['1', true],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['true', true],
    ['True', true],
    ['0', false],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['false', false],
    ['False', false],
    ['', false],
  ])('%j is %s', (raw, expected) => {
    expect(parseBool(raw)).toBe(expected);
  });

  test.each(['tRuE', 'yes', 'no', 'on', 'y', ' true', 'true ', '2'])(
    '%j is rejected with the accepted spellings',
    (raw) => {
      const result = parseBool(raw);
      expect(isRejected(result) && result.expected).toBe(
        'a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False',
      );
    },
  );
});

describe('Go durations', () => {
  test.each([
    ['0', 0],
    ['5s', 5000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['+10s', 10_000],
    ['250us', 0.25],
  ])('%j is %d ms', (raw, ms) => {
    expect(parseGoDuration(raw)).toBe(ms);
  });

  test.each(['', '5', 's', '-5s', '5 s', '5d', '1m30', 'abc'])('%j is rejected', (raw) => {
    expect(isRejected(parseGoDuration(raw))).toBe(true);
  });

  test.each([
    ['5', 5],
    ['0', 0],
    ['5s', 5],
    ['1m', 60],
    ['1500ms', 2],
  ])('revoke grace %j is %d seconds (integers as upstream, durations as the docs promise)', (raw, seconds) => {
    expect(parseSecondsOrDuration(raw)).toBe(seconds);
  });

  test.each([
    ['60', 60_000],
    ['30s', 30_000],
  ])('client timeout %j is %d ms', (raw, ms) => {
    expect(parseTimeout(raw)).toBe(ms);
  });
});

describe('resource quantities', () => {
  test.each(['250m', '0.5', '1', '64Mi', '1Gi', '128M', '1e3', '.5', '2k'])('%j is a quantity', (raw) => {
    expect(parseQuantity(raw)).toBe(raw);
  });
  test.each(['', '-1', '64MB', '1.2.3', 'lots', '64 Mi', '1Ki2'])('%j is rejected', (raw) => {
    expect(isRejected(parseQuantity(raw))).toBe(true);
  });
});

describe('numbers', () => {
  test.each([
    ['0400', 0o400],
    ['400', 0o400],
    ['0644', 0o644],
    ['0440', 0o440],
  ])('file mode %j is octal %o', (raw, mode) => {
    expect(parseFileMode(raw)).toBe(mode);
  });
  test.each(['0800', '644x', '1', 'rw-r--r--', '00644', '-644'])('file mode %j is rejected', (raw) => {
    expect(isRejected(parseFileMode(raw))).toBe(true);
  });

  test.each([
    ['8200', 8200],
    ['1', 1],
    ['65535', 65535],
  ])('port %j is %d', (raw, port) => {
    expect(parsePort(raw)).toBe(port);
  });
  test.each(['0', '65536', '80a', '', '8.5'])('port %j is rejected', (raw) => {
    expect(isRejected(parsePort(raw))).toBe(true);
  });

  test('integers below the minimum are rejected with the range', () => {
    expect(parseInteger('-1', 0)).toEqual({ rejected: true, expected: 'an integer >= 0' });
  });

  test.each([
    ['0.9', 0.9],
    ['1', 1],
    ['0', 0],
  ])('fraction %j is %d', (raw, value) => {
    expect(parseFraction(raw)).toBe(value);
  });
  test.each(['1.5', '-0.1', 'half'])('fraction %j is rejected', (raw) => {
    expect(isRejected(parseFraction(raw))).toBe(true);
  });
});

describe('choices, URLs and lists', () => {
  test('choices compare case-insensitively and come back lower-cased, as upstream lower-cases the default template', () => {
    expect(parseChoice('JSON', ['map', 'json'])).toBe('json');
    expect(parseChoice('yaml', ['map', 'json'])).toEqual({ rejected: true, expected: 'one of map, json' });
  });

  test.each([
    ['https://vault.vault.svc:8200', true],
    ['http://127.0.0.1:8200', true],
    ['vault:8200', false],
    ['ftp://vault', false],
    ['', false],
  ])('Vault address %j accepted: %s', (raw, ok) => {
    expect(isRejected(parseHttpUrl(raw))).toBe(!ok);
  });

  test('lists are trimmed and drop empty items (upstream splits on "," without trimming)', () => {
    expect(splitList(' app , sidecar,,worker ')).toEqual(['app', 'sidecar', 'worker']);
  });
});
