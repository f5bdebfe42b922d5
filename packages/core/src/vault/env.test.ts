import { parseDurationMs, parseGoBool, vaultSettingsFromEnv } from './env.ts';
import { VaultConfigError } from './errors.ts';

describe('vaultSettingsFromEnv', () => {
  test('reads every standard variable', () => {
    const settings = vaultSettingsFromEnv({
      VAULT_ADDR: 'https://vault:8200',
      VAULT_TOKEN: 't',
      VAULT_NAMESPACE: 'team-a',
      VAULT_CACERT: '/ca.pem',
      VAULT_CAPATH: '/cas',
      VAULT_CLIENT_CERT: '/c.pem',
      VAULT_CLIENT_KEY: '/k.pem',
      VAULT_TLS_SERVER_NAME: 'vault.internal',
      VAULT_SKIP_VERIFY: 'true',
      VAULT_CLIENT_TIMEOUT: '1m30s',
      VAULT_MAX_RETRIES: '5',
    });
    expect(settings).toEqual({
      address: 'https://vault:8200',
      token: 't',
      namespace: 'team-a',
      timeoutMs: 90_000,
      maxRetries: 5,
      tls: {
        caFile: '/ca.pem',
        caPath: '/cas',
        clientCert: '/c.pem',
        clientKey: '/k.pem',
        tlsServerName: 'vault.internal',
        skipVerify: true,
      },
    });
  });

  test("defaults to Vault's own default address and nothing else", () => {
    expect(vaultSettingsFromEnv({})).toEqual({ address: 'https://127.0.0.1:8200', tls: {} });
  });

  test.each([
    [{ VAULT_SKIP_VERIFY: 'yes' }, 'VAULT_SKIP_VERIFY'],
    [{ VAULT_CLIENT_TIMEOUT: 'soon' }, 'VAULT_CLIENT_TIMEOUT'],
    [{ VAULT_CLIENT_TIMEOUT: '10x' }, 'VAULT_CLIENT_TIMEOUT'],
    [{ VAULT_MAX_RETRIES: '-1' }, 'VAULT_MAX_RETRIES'],
    [{ VAULT_MAX_RETRIES: 'two' }, 'VAULT_MAX_RETRIES'],
  ])('%j is rejected naming %s', (env, setting) => {
    expect(() => vaultSettingsFromEnv(env)).toThrow(VaultConfigError);
    expect(() => vaultSettingsFromEnv(env)).toThrow(setting);
  });
});

test.each([
  ['60', 60_000],
  ['1.5', 1_500],
  ['500ms', 500],
  ['1m30s', 90_000],
  ['2h', 7_200_000],
  ['1h0m10s', 3_610_000],
])('parseDurationMs(%j) = %i', (text, ms) => {
  expect(parseDurationMs(text, 'X')).toBe(ms);
});

test('parseGoBool follows strconv.ParseBool', () => {
  for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) expect(parseGoBool(t, 'X')).toBe(true);
  for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False', '']) expect(parseGoBool(f, 'X')).toBe(false);
  expect(() => parseGoBool('on', 'X')).toThrow(VaultConfigError);
});
