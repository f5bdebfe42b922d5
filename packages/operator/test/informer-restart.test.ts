// Informer restarts against the real API server behind a proxy that drops and refuses connections:
// while the API server is unreachable the restarts back off (client-node emits `connect` before it
// lists, and resetting the backoff on it restarted watches 15–25 times a second), and once it is back
// the informer lists again and sees what changed meanwhile.
import { CoreV1Api, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { apiServerThroughProxy, sharedStack } from '@vaultbridge/testenv';
import { RestartingInformer } from '../src/runtime/informer.ts';
import { toCachedSecret, type CachedSecret } from '../src/sync/destination.ts';
import { secretMac } from '../src/sync/hmac.ts';
import { waitFor } from './support/e2e.ts';

const stack = sharedStack();
const namespace = stack.uniqueName('informer');
const admin = stack.kube.config.makeApiClient(CoreV1Api);

beforeAll(async () => {
  await stack.createNamespace(namespace);
});

test('an 8 s outage: restarts back off, and the informer recovers with what changed meanwhile', async () => {
  const { proxy, kubeConfig } = await apiServerThroughProxy(stack.kube.config);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const added: string[] = [];
  const informer = new RestartingInformer<V1ConfigMap>({
    kubeConfig,
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    list: () => core.listNamespacedConfigMap({ namespace }),
    onAdd: (object) => added.push(object.metadata?.name ?? ''),
  });
  try {
    await admin.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'before' } } });
    await informer.start();
    await waitFor('the first list', async () => informer.hasSynced && added.includes('before'));

    proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    // Backoff 500 ms doubling (full jitter, 200 ms floor): about five restarts in 8 s. Resetting it on
    // `connect` gave one every 200–500 ms, 16 or more.
    expect(informer.restarts).toBeGreaterThanOrEqual(1);
    expect(informer.restarts).toBeLessThanOrEqual(12);
    await admin.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'during-outage' } } });

    const restarts = informer.restarts;
    proxy.restore();
    const restoredAt = Date.now();
    await waitFor('the change made during the outage', async () => added.includes('during-outage'), 45_000);
    console.info(
      `informer-restart: ${restarts} restarts in the 8 s outage; the change seen ${Date.now() - restoredAt} ms after the API server was back`,
    );
    expect(
      informer
        .list(namespace)
        .map((item) => item.metadata?.name)
        .sort(),
    ).toEqual(['before', 'during-outage']);
  } finally {
    await informer.stop();
    await proxy.close();
  }
}, 90_000);

test("the cache holds no managedFields, from the list or from a watch event, and a write from it keeps the server's", async () => {
  const core = stack.kube.config.makeApiClient(CoreV1Api);
  const seen: V1ConfigMap[] = [];
  const informer = new RestartingInformer<V1ConfigMap>({
    kubeConfig: stack.kube.config,
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    list: () => core.listNamespacedConfigMap({ namespace }),
    onAdd: (object) => seen.push(object),
    onUpdate: (object) => seen.push(object),
  });
  try {
    await admin.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'listed' }, data: { a: '1' } } });
    await informer.start();
    await waitFor('the list', async () => informer.hasSynced && informer.get('listed', namespace));
    await admin.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'watched' }, data: { a: '1' } } });
    await waitFor('the watch event', async () => informer.get('watched', namespace));
    // The API server does send them: a direct read carries the creator's entry.
    expect(
      (await admin.readNamespacedConfigMap({ namespace, name: 'watched' })).metadata?.managedFields?.length,
    ).toBeGreaterThan(0);
    for (const name of ['listed', 'watched'])
      expect(informer.get(name, namespace)?.metadata).not.toHaveProperty('managedFields');

    // A replace sent from the trimmed cache: the server keeps its managedFields, and the update the watch delivers is trimmed too.
    const cached = informer.get('watched', namespace) as V1ConfigMap;
    await admin.replaceNamespacedConfigMap({ namespace, name: 'watched', body: { ...cached, data: { a: '2' } } });
    await waitFor('the update', async () => informer.get('watched', namespace)?.data?.a === '2');
    expect(informer.get('watched', namespace)?.metadata).not.toHaveProperty('managedFields');
    expect(
      (await admin.readNamespacedConfigMap({ namespace, name: 'watched' })).metadata?.managedFields?.length,
    ).toBeGreaterThan(0);
    expect(seen.every((object) => object.metadata?.managedFields === undefined)).toBe(true);
  } finally {
    await informer.stop();
  }
}, 60_000);

test("the destination cache holds each Secret's data MAC, never its data, from the list and from watch events", async () => {
  const core = stack.kube.config.makeApiClient(CoreV1Api);
  const macKey = Buffer.from('informer-test-mac-key');
  const updates: CachedSecret[] = [];
  const informer = new RestartingInformer<CachedSecret, V1Secret>({
    kubeConfig: stack.kube.config,
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/secrets`,
    list: () => core.listNamespacedSecret({ namespace }),
    transform: (secret) => toCachedSecret(macKey, secret),
    onUpdate: (secret) => updates.push(secret),
  });
  const data = (password: string) => ({ password: Buffer.from(password).toString('base64') });
  try {
    await admin.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'listed-secret', labels: { team: 'a' } }, data: data('listed-value') },
    });
    await informer.start();
    await waitFor('the list', async () => informer.hasSynced && informer.get('listed-secret', namespace));
    await admin.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'watched-secret' }, data: data('first') },
    });
    await waitFor('the watch event', async () => informer.get('watched-secret', namespace));
    const listed = informer.get('listed-secret', namespace)!;
    expect(listed.dataMac).toBe(secretMac(macKey, data('listed-value')));
    expect(listed.metadata.labels).toEqual({ team: 'a' });
    expect(listed).not.toHaveProperty('data', expect.anything());
    expect(informer.get('watched-secret', namespace)?.dataMac).toBe(secretMac(macKey, data('first')));

    // An edit of the data (drift) arrives as another MAC at the new resourceVersion; no value is kept anywhere.
    const before = informer.get('watched-secret', namespace)!;
    const server = await admin.readNamespacedSecret({ namespace, name: 'watched-secret' });
    await admin.replaceNamespacedSecret({
      namespace,
      name: 'watched-secret',
      body: { ...server, data: data('tampered') },
    });
    await waitFor('the update', async () => updates.some((secret) => secret.metadata.name === 'watched-secret'));
    const after = informer.get('watched-secret', namespace)!;
    expect(after.dataMac).toBe(secretMac(macKey, data('tampered')));
    expect(after.metadata.resourceVersion).not.toBe(before.metadata.resourceVersion);
    for (const secret of [listed, before, after, ...updates]) {
      const text = JSON.stringify(secret);
      for (const value of ['listed-value', 'first', 'tampered'])
        expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
  } finally {
    await informer.stop();
  }
}, 60_000);
