import * as z from 'zod/mini';
import {
  booleanValue,
  durationMs,
  fileMode,
  httpUrl,
  logLevel,
  parseBoolean,
  parseDuration,
  parseFileMode,
} from './config-values.ts';

describe('parseBoolean', () => {
  test.each([
    ['true', true],
    ['TRUE', true],
    [' Yes ', true],
    ['on', true],
    ['1', true],
    ['t', true],
    ['false', false],
    ['No', false],
    ['OFF', false],
    ['0', false],
    [true, true],
    [false, false],
    [1, true],
    [0, false],
  ])('%j → %j', (given, expected) => {
    expect(parseBoolean(given)).toBe(expected);
  });

  test.each(['', 'maybe', 'enabled', '2', 2, null, undefined, {}])('%j is not a boolean', (given) => {
    expect(parseBoolean(given)).toBeUndefined();
  });
});

describe('parseDuration', () => {
  test.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2h45m30s', 9_930_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
    ['1500us', 2],
    ['30', 30_000],
    ['0', 0],
    ['0.5', 500],
    [45, 45_000],
    [' 10s ', 10_000],
  ])('%j → %d ms', (given, expected) => {
    expect(parseDuration(given)).toBe(expected);
  });

  test.each(['', '-5s', '5 m', '5x', 'h', '1h-30m', 'forever', -1, Number.NaN, true])(
    '%j is not a duration',
    (given) => {
      expect(parseDuration(given)).toBeUndefined();
    },
  );
});

describe('parseFileMode', () => {
  test.each([
    ['0644', 0o644],
    ['644', 0o644],
    ['0o600', 0o600],
    ['0O400', 0o400],
    ['0400', 0o400],
    ['4755', 0o4755],
    [420, 0o644],
    [0o600, 0o600],
  ])('%j → %o', (given, expected) => {
    expect(parseFileMode(given)).toBe(expected);
  });

  test.each(['0x1a4', '0888', '12345', 'rw-r--r--', '', 0o10000, -1, 1.5])('%j is not a file mode', (given) => {
    expect(parseFileMode(given)).toBeUndefined();
  });
});

describe('schemas', () => {
  test('accept text and typed values alike', () => {
    const schema = z.object({ enabled: booleanValue(), interval: durationMs(), perms: fileMode(), level: logLevel() });
    expect(schema.parse({ enabled: 'yes', interval: '1m', perms: '0600', level: 'DEBUG' })).toEqual({
      enabled: true,
      interval: 60_000,
      perms: 0o600,
      level: 'debug',
    });
    expect(schema.parse({ enabled: false, interval: 5, perms: 420, level: 'warn' })).toEqual({
      enabled: false,
      interval: 5000,
      perms: 0o644,
      level: 'warn',
    });
  });

  test('work with optional and default', () => {
    const schema = z.object({ a: z.optional(booleanValue()), b: z._default(durationMs(), 30_000) });
    expect(schema.parse({})).toEqual({ b: 30_000 });
  });

  test('httpUrl wants an http(s) URL with a host', () => {
    const url = httpUrl();
    expect(url.parse('https://vault.vault.svc:8200')).toBe('https://vault.vault.svc:8200');
    expect(url.parse('http://127.0.0.1:8200/')).toBe('http://127.0.0.1:8200/');
    for (const bad of ['vault:8200', 'ftp://vault', 'https://', '', 8200])
      expect(url.safeParse(bad).success).toBe(false);
  });
});
