import { VaultClient } from './client.ts';
import { VaultConfigError } from './errors.ts';

describe('proxyAddress', () => {
  test.each(['ftp://proxy:21', 'proxy:3128', 'http://'])('%s is refused naming the setting', (proxyAddress) => {
    expect(() => new VaultClient({ address: 'https://vault:8200', proxyAddress })).toThrow(VaultConfigError);
    expect(() => new VaultClient({ address: 'https://vault:8200', proxyAddress })).toThrow(
      /proxyAddress must be an http or https URL/,
    );
  });

  test('an http(s) proxy, or none, builds a client', () => {
    for (const proxyAddress of [undefined, '', 'http://proxy:3128', 'https://user:pw@proxy.internal']) {
      expect(
        () =>
          new VaultClient({ address: 'https://vault:8200', ...(proxyAddress === undefined ? {} : { proxyAddress }) }),
      ).not.toThrow();
    }
  });
});
