import { clientCacheKey } from './vault-clients.ts';

const auth = { metadata: { uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', generation: 1 } };
const connection = { metadata: { uid: '6fa459ea-ee8a-3ca4-894e-db77e160355e', generation: 2 } };

describe('clientCacheKey (VSO status.vaultClientMeta.cacheKey shape)', () => {
  test('method, then 22 hex digits: sha256 bytes 0-6 and the last 4', () => {
    // sha256("<authUID>-1.<connUID>-2.app/app") computed independently with sha256sum.
    expect(clientCacheKey('kubernetes', auth, connection, 'app/app')).toBe('kubernetes-6abe9ca8a95d833b5c0624');
  });

  test('a new generation of the VaultAuth or the VaultConnection is a new key; the same inputs the same key', () => {
    const key = clientCacheKey('kubernetes', auth, connection, 'app/app');
    expect(clientCacheKey('kubernetes', auth, connection, 'app/app')).toBe(key);
    expect(
      clientCacheKey('kubernetes', { metadata: { ...auth.metadata, generation: 2 } }, connection, 'app/app'),
    ).not.toBe(key);
    expect(
      clientCacheKey('kubernetes', auth, { metadata: { ...connection.metadata, generation: 3 } }, 'app/app'),
    ).not.toBe(key);
    expect(clientCacheKey('kubernetes', auth, connection, 'other/app')).not.toBe(key);
  });

  test('the method is lower-cased, as VSO does (appRole → approle)', () => {
    expect(clientCacheKey('appRole', auth, connection, 'app/secret')).toMatch(/^approle-[0-9a-f]{22}$/);
  });
});
