import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from './logger.ts';
import { REDACTED, SecretRedactor } from './secret-redactor.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

// Values that must never appear in any log line, in any form.
const vaultToken = 'hvs.CAESIJt7y1BZ9uQxExampleTokenValueAAAAAAAAAAAAAAAA';
const legacyToken = 's.Ab3De5Gh7Jk9Mn1Pq3St5Vw7';
const serviceAccountJwt =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNhOmFwcCJ9.c2lnbmF0dXJlLWJ5dGVz';
const dbPassword = 'correct-horse-battery-staple';
const quotedSecret = 'pa"ss\\word\nwith "quotes"';
const privateKey = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  '-----END PRIVATE KEY-----',
].join('\n');
const unregisteredApiKey = 'not-registered-but-under-a-secret-key';

const forbidden = [
  vaultToken,
  legacyToken,
  serviceAccountJwt,
  dbPassword,
  quotedSecret,
  privateKey,
  unregisteredApiKey,
];

function forms(value: string): string[] {
  const lines = value.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'));
  return [value, JSON.stringify(value).slice(1, -1), ...lines];
}

describe('createLogger redaction over a simulated run', () => {
  const { lines, destination } = capture();
  const redactor = new SecretRedactor();

  beforeAll(() => {
    // As the Vault client and the agent do once they hold these values.
    redactor.register(vaultToken);
    redactor.registerData({ data: { password: dbPassword, note: quotedSecret }, key: privateKey });

    const logger = createLogger({ name: 'vaultbridge-agent', level: 'trace', destination, redactor });
    const child = logger.child({ component: 'auth', token: vaultToken });

    child.info({ role: 'app', mount: 'kubernetes', jwt: serviceAccountJwt }, 'logging in');
    child.debug({ auth: { client_token: vaultToken, accessor: 'abc-accessor', lease_duration: 3600 } }, 'logged in');
    logger.info({ request: { headers: { 'X-Vault-Token': vaultToken, Accept: 'application/json' } } }, 'request sent');
    logger.info({ response: { data: { data: { password: dbPassword }, metadata: { version: 3 } } } }, 'read secret');
    logger.info(
      {
        a: { b: { c: { d: { password: dbPassword, apiKey: unregisteredApiKey, clientSecret: unregisteredApiKey } } } },
      },
      'deep',
    );
    logger.info({ rendered: `postgres://app:${dbPassword}@db:5432/app`, path: 'secret/data/db' }, 'rendered template');
    logger.info({ innocent: quotedSecret }, 'value with quotes and a newline under an innocent key');
    logger.info({ pem: privateKey.split('\n')[1] }, 'one line of a private key');
    logger.warn(`token ${legacyToken} looks like a legacy token`);
    logger.warn(
      {
        attributes: {
          'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ vault: { token: serviceAccountJwt } }),
        },
      },
      'mount',
    );

    const loginError = new Error(`permission denied for token ${vaultToken}`);
    Object.assign(loginError, {
      code: 'VAULT_FORBIDDEN',
      config: { headers: { 'X-Vault-Token': vaultToken }, data: JSON.stringify({ jwt: serviceAccountJwt }) },
      response: { status: 403, data: { errors: ['permission denied'], password: dbPassword } },
    });
    logger.error(loginError);
    logger.error({ err: new Error('wrapped', { cause: new Error(`inner ${dbPassword}`) }) }, 'render failed');
    logger.error(new AggregateError([new Error(`first ${vaultToken}`)], 'several failed'));
    logger.fatal({ buffer: Buffer.from(dbPassword) }, 'bytes');
  });

  test('writes one JSON line per call, with the non-secret fields intact', () => {
    expect(lines).toHaveLength(14);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({
      level: 'info',
      name: 'vaultbridge-agent',
      component: 'auth',
      role: 'app',
      msg: 'logging in',
    });
    expect(parsed[2]).toMatchObject({ request: { headers: REDACTED } });
    expect(parsed[5]).toMatchObject({ path: 'secret/data/db', rendered: `postgres://app:${REDACTED}@db:5432/app` });
    expect(parsed[10]).toMatchObject({ err: { type: 'Error', code: 'VAULT_FORBIDDEN', status: 403 } });
    expect((parsed[10]?.err as Record<string, unknown>).config).toBeUndefined();
    expect((parsed[10]?.err as Record<string, unknown>).response).toBeUndefined();
    expect(parsed[13]).toMatchObject({ buffer: '[binary 28 bytes]' });
    expect(parsed[12]).toMatchObject({ err: { type: 'AggregateError', errors: [{ type: 'Error' }] } });
    expect(parsed[11]).toMatchObject({ err: { message: 'wrapped', cause: { type: 'Error' } }, msg: 'render failed' });
  });

  test('no token or secret value appears in any form', () => {
    const output = lines.join('');
    for (const value of forbidden) {
      for (const form of forms(value)) expect(output).not.toContain(form);
    }
  });

  test('fields named like secrets are censored at any depth', () => {
    const deep = JSON.parse(lines[4] ?? '{}') as { a: { b: { c: { d: Record<string, unknown> } } } };
    expect(deep.a.b.c.d).toEqual({ password: REDACTED, apiKey: REDACTED, clientSecret: REDACTED });
    const debug = JSON.parse(lines[1] ?? '{}') as { auth: Record<string, unknown> };
    expect(debug.auth).toEqual({ client_token: REDACTED, accessor: REDACTED, lease_duration: 3600 });
  });
});

describe('createLogger', () => {
  test('respects the level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ name: 'test', level: 'warn', destination, redactor: new SecretRedactor() });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['shown']);
  });

  test('does not modify the objects it logs', () => {
    const { destination } = capture();
    const logger = createLogger({ name: 'test', destination, redactor: new SecretRedactor() });
    const object = { token: 'abc', nested: { password: 'p' } };
    logger.info(object, 'x');
    expect(object).toEqual({ token: 'abc', nested: { password: 'p' } });
  });

  test('logs circular objects without failing', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ name: 'test', destination, redactor: new SecretRedactor() });
    const node: Record<string, unknown> = { name: 'a' };
    node.self = node;
    logger.info({ node }, 'circular');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ node: { name: 'a', self: '[Circular]' } });
  });
});

test('short secrets such as 4242 and info leave every line valid JSON with its level and pid', () => {
  const { lines, destination } = capture();
  const redactor = new SecretRedactor();
  redactor.registerData({ data: { pin: '4242', word: 'info', flag: 'true' } });
  const logger = createLogger({
    name: 'vaultbridge-operator',
    level: 'trace',
    destination,
    redactor,
    base: { pid: 4242, hostname: 'node-1' },
  });
  logger.info({ port: 4242, ready: true, note: 'pin 4242, word info' }, 'synced info');
  logger.warn({ err: new Error('code 4242 info') }, 'failed');
  logger.debug({ nested: { level: 'info', list: ['4242', 4242] } }, 'nested');
  expect(lines).toHaveLength(3);
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(parsed[0]).toMatchObject({
    level: 'info',
    pid: 4242,
    port: 4242,
    ready: true,
    note: `pin ${REDACTED}, word ${REDACTED}`,
    msg: `synced ${REDACTED}`,
  });
  expect(parsed[1]).toMatchObject({ level: 'warn', pid: 4242, err: { message: `code ${REDACTED} ${REDACTED}` } });
  expect(parsed[2]).toMatchObject({ level: 'debug', nested: { level: REDACTED, list: [REDACTED, 4242] } });
});

test('by default each line is on standard output before the log call returns, so an exit right after loses none', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-logger-'));
  try {
    const out = path.join(dir, 'stdout.log');
    const fd = fs.openSync(out, 'w');
    // A process of its own, its standard output a file whose size is read after each call.
    const script = `import fs from 'node:fs';
const { createLogger } = await import(${JSON.stringify(pathToFileURL(path.join(import.meta.dirname, 'logger.ts')).href)});
const logger = createLogger({ name: 'vaultbridge-sync-check' });
const sizes = [];
for (let i = 0; i < 3; i++) {
  logger.info({ i }, 'line');
  sizes.push(fs.fstatSync(1).size);
}
process.stderr.write(JSON.stringify(sizes));
process.exit(0);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      timeout: 30_000,
    });
    fs.closeSync(fd);
    expect(child.status).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    const lines = text.split('\n').filter((line) => line !== '');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual(
      [0, 1, 2].map((i) => expect.objectContaining({ i, msg: 'line', name: 'vaultbridge-sync-check' })),
    );
    const ends = lines.map((_, i) => Buffer.byteLength(lines.slice(0, i + 1).join('\n') + '\n'));
    expect(JSON.parse(child.stderr) as number[]).toEqual(ends);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
