import { REDACTED, SecretRedactor } from './secret-redactor.ts';

describe('SecretRedactor', () => {
  test('replaces a registered value wherever it occurs', () => {
    const redactor = new SecretRedactor();
    redactor.register('s3cr3t-value');
    expect(redactor.redact('{"msg":"x s3cr3t-value y","k":"s3cr3t-value"}')).toBe(
      `{"msg":"x ${REDACTED} y","k":"${REDACTED}"}`,
    );
  });

  test('values of hundreds of KiB are redacted without a RegExp too large to build (that error carried every value)', () => {
    const redactor = new SecretRedactor();
    const big = 'a'.repeat(256 * 1024);
    const other = `${'b'.repeat(256 * 1024)}c`;
    redactor.register(big);
    redactor.register(other);
    redactor.register('short-secret');
    expect(redactor.redact(`x ${other} y ${big} z short-secret`)).toBe(`x ${REDACTED} y ${REDACTED} z ${REDACTED}`);
    const line = redactor.redactJsonLine(JSON.stringify({ level: 30, msg: `value ${big}` }));
    expect(JSON.parse(line)).toEqual({ level: 30, msg: `value ${REDACTED}` });
  });

  test('matches the JSON-escaped form and keeps the line valid JSON', () => {
    const redactor = new SecretRedactor();
    const secret = 'a"b\\c\nd';
    redactor.register(secret);
    const line = JSON.stringify({ msg: `before ${secret} after`, other: '"quoted"' });
    const redacted = redactor.redactJsonLine(line);
    expect(JSON.parse(redacted)).toEqual({ msg: `before ${REDACTED} after`, other: '"quoted"' });
  });

  test('a short secret equal to a number or the level leaves the line valid JSON and its structure alone', () => {
    const redactor = new SecretRedactor();
    redactor.register('4242');
    redactor.register('info');
    redactor.register('true');
    const line = JSON.stringify({
      level: 'info',
      time: '2026-12-06T04:42:42.000Z',
      pid: 4242,
      ok: true,
      info: 'the info is 4242',
      nested: { level: 'info', n: [4242, 'x4242'] },
    });
    const redacted = redactor.redactJsonLine(line);
    expect(JSON.parse(redacted)).toEqual({
      level: 'info',
      time: '2026-12-06T04:42:42.000Z',
      pid: 4242,
      ok: true,
      info: `the ${REDACTED} is ${REDACTED}`,
      nested: { level: REDACTED, n: [4242, `x${REDACTED}`] },
    });
  });

  test('a secret that looks like JSON syntax or an escape sequence cannot break the line', () => {
    const redactor = new SecretRedactor();
    const secrets = ['","a":"', 'u00e9', '\\u00', '":{"', 'nfoo', ':4242}'];
    for (const secret of secrets) redactor.register(secret);
    const lines = [
      JSON.stringify({ msg: 'café \nfoo', a: { b: '","a":"' }, c: ':4242}', d: 'a \\u00 b' }),
      // Escapes as a JSON encoder may write them: the raw text holds `u00e9` and `nfoo`, the values do not.
      String.raw`{"level":"info","msg":"caf\u00e9 and \nfoo","x":"\\u00"}`,
      JSON.stringify({ body: JSON.stringify({ password: '","a":"', other: '":{"' }) }),
    ];
    const strings = (value: unknown): string[] =>
      typeof value === 'string'
        ? [value]
        : typeof value === 'object' && value !== null
          ? Object.values(value).flatMap(strings)
          : [];
    for (const line of lines) {
      const redacted = redactor.redactJsonLine(line);
      const parsed = JSON.parse(redacted) as unknown;
      for (const text of strings(parsed)) for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect(JSON.parse(redactor.redactJsonLine(lines[1]!))).toEqual({
      level: 'info',
      msg: 'café and \nfoo',
      x: REDACTED,
    });
    expect(JSON.parse(JSON.parse(redactor.redactJsonLine(lines[2]!)).body)).toEqual({
      password: REDACTED,
      other: REDACTED,
    });
  });

  test('keys are field names and stay; token shapes are scrubbed in values', () => {
    const token = 'hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
    const line = JSON.stringify({ password: 'x', note: `with ${token}` });
    const redactor = new SecretRedactor();
    redactor.register('password');
    expect(JSON.parse(redactor.redactJsonLine(line))).toEqual({ password: 'x', note: `with ${REDACTED}` });
  });

  test('replaces the longest registered value first', () => {
    const redactor = new SecretRedactor();
    redactor.register('abcd');
    redactor.register('abcdefgh');
    expect(redactor.redact('abcdefgh')).toBe(REDACTED);
  });

  test('ignores values shorter than the minimum length and non-strings', () => {
    const redactor = new SecretRedactor({ minLength: 4 });
    redactor.register('abc');
    redactor.register(12345);
    expect(redactor.size).toBe(0);
    expect(redactor.redact('abc 12345')).toBe('abc 12345');
  });

  test('registers the lines of a multi-line secret on their own', () => {
    const redactor = new SecretRedactor();
    redactor.register('-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n-----END KEY-----');
    expect(redactor.redact('line QUJDREVGR0hJSktMTU5PUFFSU1RVVldY')).toBe(`line ${REDACTED}`);
  });

  test('registerData registers every string leaf, cycles included', () => {
    const redactor = new SecretRedactor();
    const data: Record<string, unknown> = { user: 'app-user', nested: { list: ['first-item', 7] } };
    data.loop = data;
    redactor.registerData(data);
    expect(redactor.redact('app-user first-item 7')).toBe(`${REDACTED} ${REDACTED} 7`);
  });

  test('forget stops scrubbing a value', () => {
    const redactor = new SecretRedactor();
    redactor.register('rotated-token');
    redactor.forget('rotated-token');
    expect(redactor.redact('rotated-token')).toBe('rotated-token');
  });

  test('forgets the oldest value beyond maxEntries', () => {
    const redactor = new SecretRedactor({ maxEntries: 2 });
    redactor.register('value-one');
    redactor.register('value-two');
    redactor.register('value-three');
    expect(redactor.size).toBe(2);
    expect(redactor.redact('value-one value-two value-three')).toBe(`value-one ${REDACTED} ${REDACTED}`);
  });

  test.each([
    ['Vault service token', 'hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789'],
    ['Vault batch token', 'hvb.AAAAAQJxYz0123456789abcdefghijklmnop'],
    ['legacy token', 's.Ab3De5Gh7Jk9Mn1Pq3St5Vw7'],
    ['JWT', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl'],
  ])('scrubs an unregistered %s by its shape', (_kind, token) => {
    expect(new SecretRedactor().redact(`{"msg":"got ${token} back"}`)).toBe(`{"msg":"got ${REDACTED} back"}`);
  });

  test('leaves ordinary text alone', () => {
    const text = '{"msg":"process.exit called; vault-agent-init done; hosts=a.b.c"}';
    expect(new SecretRedactor().redact(text)).toBe(text);
  });
});
