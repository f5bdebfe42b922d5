import { registerSecret } from '../runtime/secret-redactor.ts';
import {
  errorFromResponse,
  errorFromTransport,
  redactVaultErrorText,
  vaultErrorStrings,
  VaultConfigError,
  VaultError,
  VaultNotFoundError,
  VaultPermissionError,
  VaultUnavailableError,
} from './errors.ts';

describe('errorFromResponse maps a status to its class', () => {
  test.each([
    [403, VaultPermissionError, 'VAULT_PERMISSION_DENIED'],
    [404, VaultNotFoundError, 'VAULT_NOT_FOUND'],
    [429, VaultUnavailableError, 'VAULT_UNAVAILABLE'],
    [500, VaultUnavailableError, 'VAULT_UNAVAILABLE'],
    [502, VaultUnavailableError, 'VAULT_UNAVAILABLE'],
    [503, VaultUnavailableError, 'VAULT_UNAVAILABLE'],
    [400, VaultError, 'VAULT_ERROR'],
    [405, VaultError, 'VAULT_ERROR'],
    [501, VaultError, 'VAULT_ERROR'],
  ])('%i', (status, type, code) => {
    const error = errorFromResponse('GET', 'secret/data/app', status, { errors: ['something'] });
    expect(error).toBeInstanceOf(type);
    expect(error).toBeInstanceOf(VaultError);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.path).toBe('secret/data/app');
    expect(error.method).toBe('GET');
    expect(error.errors).toEqual(['something']);
    expect(error.message).toContain('GET secret/data/app');
    expect(error.name).toBe(type.name);
  });

  test('only errors[] is read from the body: data in an error answer never reaches the message', () => {
    const error = errorFromResponse('POST', 'database/creds/app', 400, {
      errors: ['invalid request'],
      data: { password: 'hunter2-secret' },
    });
    expect(error.message).toContain('invalid request');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('hunter2-secret');
  });

  test('a body that is not Vault JSON gives no errors but still the status', () => {
    const error = errorFromResponse('GET', 'x', 503, undefined);
    expect(error).toBeInstanceOf(VaultUnavailableError);
    expect(error.errors).toEqual([]);
    expect(error.message).toContain('503');
  });
});

test('vaultErrorStrings unwraps Go multierror text and trims long messages', () => {
  expect(vaultErrorStrings({ errors: ['1 error occurred:\n\t* permission denied\n\n'] })).toEqual([
    'permission denied',
  ]);
  expect(vaultErrorStrings({ errors: ['2 errors occurred:\n\t* a\n\t* b\n\n'] })).toEqual(['a; b']);
  expect(vaultErrorStrings({ errors: ['x'.repeat(1000)] })[0]?.length).toBeLessThan(310);
  expect(vaultErrorStrings({ errors: 'nope' })).toEqual([]);
  expect(vaultErrorStrings(null)).toEqual([]);
});

describe('errorFromTransport', () => {
  test('network failures are VaultUnavailableError with a safe cause', () => {
    const error = errorFromTransport('GET', 'sys/health', 'https://vault:8200', {
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 10.0.0.1:8200',
    });
    expect(error).toBeInstanceOf(VaultUnavailableError);
    expect(error.message).toContain('https://vault:8200');
    expect((error.cause as { code: string }).code).toBe('ECONNREFUSED');
    expect(Object.keys(error.cause as object)).not.toContain('config');
  });

  test('timeouts say so', () => {
    const error = errorFromTransport('GET', 'sys/health', 'https://vault:8200', {
      code: 'ECONNABORTED',
      message: 'timeout of 10ms exceeded',
    });
    expect(error).toBeInstanceOf(VaultUnavailableError);
    expect(error.message).toContain('timed out');
  });

  test('TLS verification failures are configuration errors that say how to fix them', () => {
    const error = errorFromTransport('GET', 'sys/health', 'https://vault:8200', {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
      message: 'self-signed certificate in certificate chain',
    });
    expect(error).toBeInstanceOf(VaultConfigError);
    expect(error.message).toContain('VAULT_CACERT');
    expect(error.message).toContain('VAULT_TLS_SERVER_NAME');
  });
});

describe("Vault's errors[] text is redacted before it reaches messages, statuses and Events", () => {
  test.each([
    [
      'a URL with a password',
      'error verifying connection: postgres://vault:s3cr3t-pw@db:5432/app?sslmode=disable refused',
      's3cr3t-pw',
      'postgres://vault:[REDACTED]@db:5432/app',
    ],
    [
      'a password= assignment',
      'invalid DSN: host=db user=app password=s3cr3t-pw dbname=x',
      's3cr3t-pw',
      'password=[REDACTED] dbname=x',
    ],
    [
      'an echoed JSON field',
      'bad request: {"client_secret":"s3cr3t-pw","name":"x"}',
      's3cr3t-pw',
      '{"client_secret":"[REDACTED]","name":"x"}',
    ],
    [
      'a Vault token',
      'token hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789 is not valid',
      'hvs.CAESIAb',
      'token [REDACTED] is not valid',
    ],
  ])('%s', (_case, text, secret, kept) => {
    const error = errorFromResponse('POST', 'database/config/app', 400, { errors: [text] });
    expect(error.message).not.toContain(secret);
    expect(error.errors.join(' ')).not.toContain(secret);
    expect(error.message).toContain(kept);
  });

  test('a registered secret value is redacted too, and ordinary errors are left as they are', () => {
    registerSecret('value-the-plugin-echoed');
    expect(redactVaultErrorText('cannot use value-the-plugin-echoed here')).toBe('cannot use [REDACTED] here');
    for (const text of [
      'permission denied',
      'error validating token: invalid audience (aud) claim',
      '1 error occurred: * role "app" could not be found',
    ]) {
      expect(redactVaultErrorText(text)).toBe(text);
    }
  });

  test('long and many errors are cut', () => {
    const error = errorFromResponse('GET', 'x', 500, { errors: Array.from({ length: 50 }, () => 'y'.repeat(5000)) });
    expect(error.errors).toHaveLength(10);
    expect(error.errors[0]).toHaveLength(301);
  });
});
