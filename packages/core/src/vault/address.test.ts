import { parseVaultAddress } from './address.ts';
import { VaultConfigError } from './errors.ts';

describe('parseVaultAddress accepts', () => {
  test.each([
    ['https://vault.example.com:8200', 'https://vault.example.com:8200/v1/', undefined, true],
    ['http://127.0.0.1:8200/', 'http://127.0.0.1:8200/v1/', undefined, false],
    ['https://vault.example.com', 'https://vault.example.com/v1/', undefined, true],
    ['https://proxy.example.com/vault/', 'https://proxy.example.com/vault/v1/', undefined, true],
    ['https://vault.example.com:8200/v1', 'https://vault.example.com:8200/v1/', undefined, true],
    ['  http://[::1]:8200  ', 'http://[::1]:8200/v1/', undefined, false],
    ['unix:///var/run/vault/agent.sock', 'http://localhost/v1/', '/var/run/vault/agent.sock', false],
    ['unix:/tmp/agent.sock', 'http://localhost/v1/', '/tmp/agent.sock', false],
  ])('%s', (raw, apiBaseUrl, socketPath, tls) => {
    const address = parseVaultAddress(raw);
    expect(address.apiBaseUrl).toBe(apiBaseUrl);
    expect(address.socketPath).toBe(socketPath);
    expect(address.tls).toBe(tls);
  });
});

describe('parseVaultAddress rejects, naming the setting and the expected form', () => {
  test.each([
    ['', 'it is empty'],
    ['127.0.0.1:8200', 'the scheme is missing'],
    ['vault.example.com', 'the scheme is missing'],
    ['ftp://vault.example.com', 'the scheme "ftp" is not supported'],
    ['tcp://vault:8200', 'the scheme "tcp" is not supported'],
    ['https://', 'cannot be parsed as a URL'],
    ['https://vault:8200?x=1', 'query or fragment'],
    ['https://vault:99999', 'cannot be parsed as a URL'],
    ['unix://relative.sock', 'absolute path'],
  ])('%j (%s)', (raw, why) => {
    let caught: unknown;
    try {
      parseVaultAddress(raw, 'VAULT_ADDR');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(VaultConfigError);
    const error = caught as VaultConfigError;
    expect(error.code).toBe('VAULT_CONFIG');
    expect(error.setting).toBe('VAULT_ADDR');
    expect(error.message).toContain('VAULT_ADDR');
    expect(error.message).toContain(why);
    expect(error.message).toContain('https://vault.example.com:8200');
  });

  test('a password in the address is never echoed', () => {
    expect(() => parseVaultAddress('https://user:s3cr3t-pw@vault:8200')).toThrow(
      /credentials in the address are not supported/,
    );
    try {
      parseVaultAddress('https://user:s3cr3t-pw@vault:8200');
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t-pw');
    }
  });
});
