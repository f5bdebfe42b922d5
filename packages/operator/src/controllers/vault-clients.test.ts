import { KubeHttp } from '@vaultbridge/core';
import { KubeJson } from '../runtime/kube-json.ts';
import { ReconcileError } from '../runtime/reconcile-error.ts';
import { createHash } from 'node:crypto';
import type { TokenManager } from '@vaultbridge/core';
import { clientCacheKey, tokenId, VaultClientFactory, type KubeObject } from './vault-clients.ts';

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

describe('VaultClientFactory: VaultAuth and VaultConnection specs', () => {
  const store = new Map<string, KubeObject>();
  const factory = () =>
    new VaultClientFactory({
      // Every object comes from the store: an API call would be a failure of the test.
      kube: new KubeJson(
        new KubeHttp(() => {
          throw new Error('no API call expected');
        }),
      ),
      operatorNamespace: 'ops',
      cached: {
        VaultAuth: (key) => store.get(`VaultAuth ${key}`),
        VaultConnection: (key) => store.get(`VaultConnection ${key}`),
      },
    });
  const authObject = (resourceVersion: string, spec: Record<string, unknown>): KubeObject => ({
    metadata: { uid: 'auth-uid', generation: 1, resourceVersion, name: 'default', namespace: 'app' },
    spec,
  });
  const validAuth = { method: 'kubernetes', mount: 'kubernetes', kubernetes: { role: 'app', serviceAccount: 'app' } };
  beforeEach(() => {
    store.clear();
    store.set('VaultConnection ops/default', {
      metadata: { uid: 'conn-uid', generation: 1, resourceVersion: '1', name: 'default', namespace: 'ops' },
      spec: { address: 'http://vault.invalid:8200' },
    });
  });

  test('a bad spec fails every reconcile with the same error, naming the object and the field', async () => {
    const clients = factory();
    store.set(
      'VaultAuth app/default',
      authObject('5', { method: 'kubernetes', kubernetes: { role: 'app', serviceAccount: 'app' } }),
    );
    const failure = async () => {
      const error = (await clients.get('default', 'app').catch((e: unknown) => e)) as ReconcileError;
      expect(error).toBeInstanceOf(ReconcileError);
      return { reason: error.reason, message: error.message };
    };
    const first = await failure();
    expect(first.reason).toBe('InvalidVaultAuth');
    expect(first.message).toMatch(/^VaultAuth app\/default: spec\.mount: expected the auth mount/);
    expect(await failure()).toEqual(first);
    store.set('VaultConnection ops/default', {
      metadata: { uid: 'conn-uid', generation: 2, resourceVersion: '2', name: 'default', namespace: 'ops' },
      spec: { address: 'vault:8200' },
    });
    store.set('VaultAuth app/default', authObject('6', validAuth));
    const connection = await failure();
    expect(connection.reason).toBe('InvalidVaultConnection');
    expect(connection.message).toMatch(/^VaultConnection ops\/default: spec\.address: expected a URL/);
    expect(await failure()).toEqual(connection);
    await clients.stop();
  });

  test('the same version is the same client; a new version of the VaultAuth is read again', async () => {
    const clients = factory();
    store.set('VaultAuth app/default', authObject('5', validAuth));
    const first = await clients.get('default', 'app');
    const again = await clients.get('default', 'app');
    expect(again.manager).toBe(first.manager);
    expect(again.cacheKey).toBe(first.cacheKey);
    expect(again.role).toBe('app');
    // A changed role under a new resourceVersion: a new client, with the new role in its messages.
    store.set(
      'VaultAuth app/default',
      authObject('6', { ...validAuth, kubernetes: { role: 'other', serviceAccount: 'app' } }),
    );
    const changed = await clients.get('default', 'app');
    expect(changed.role).toBe('other');
    expect(changed.manager).not.toBe(first.manager);
    // A new generation of the VaultConnection with the same spec: the same client, a new cacheKey (as VSO).
    store.set('VaultConnection ops/default', {
      metadata: { uid: 'conn-uid', generation: 2, resourceVersion: '2', name: 'default', namespace: 'ops' },
      spec: { address: 'http://vault.invalid:8200' },
    });
    const regenerated = await clients.get('default', 'app');
    expect(regenerated.manager).toBe(changed.manager);
    expect(regenerated.cacheKey).not.toBe(changed.cacheKey);
    expect(regenerated.cacheKey).toBe(
      clientCacheKey(
        'kubernetes',
        store.get('VaultAuth app/default')!,
        store.get('VaultConnection ops/default')!,
        'app/app',
      ),
    );
    // Namespaces it does not allow are refused from the version that stops allowing them.
    expect(await clients.get('default', 'app').then(() => 'allowed')).toBe('allowed');
    store.set('VaultAuth app/default', authObject('7', { ...validAuth, allowedNamespaces: [] }));
    await expect(clients.get('app/default', 'other')).rejects.toMatchObject({ reason: 'VaultAuthNotAllowed' });
    await clients.stop();
  });
});

describe('tokenId (VSO status.vaultClientMeta.id)', () => {
  test("the first 16 hex digits of the accessor's sha256, following the token manager's current accessor", () => {
    const info: { accessor?: string } = {};
    const manager = {
      get info() {
        return info.accessor === undefined ? undefined : info;
      },
    } as unknown as TokenManager;
    const hash = (accessor: string) => createHash('sha256').update(accessor).digest('hex').slice(0, 16);
    expect(tokenId(manager)).toBeUndefined();
    info.accessor = 'accessor-one';
    expect(tokenId(manager)).toBe(hash('accessor-one'));
    expect(tokenId(manager)).toBe(hash('accessor-one'));
    // A new login: a new accessor, a new id.
    info.accessor = 'accessor-two';
    expect(tokenId(manager)).toBe(hash('accessor-two'));
  });
});
