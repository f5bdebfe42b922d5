// The informer (list, then watch over KubeHttp) against the real API server, some of it behind a proxy
// that drops and refuses connections: while the API server is unreachable the restarts back off (an
// earlier informer reset the backoff on every connect and restarted watches 15–25 times a second), and
// once it is back the informer sees what changed meanwhile; a resourceVersion the API server no longer
// has (410) lists again and delivers the difference; lists are paginated.
import { CoreV1Api, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import { createLogger, KubeHttp } from '@vaultbridge/core';
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
  const added: string[] = [];
  const informer = new RestartingInformer<V1ConfigMap>({
    kube: KubeHttp.fromKubeConfig(kubeConfig),
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/configmaps`,
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
  const seen: V1ConfigMap[] = [];
  const informer = new RestartingInformer<V1ConfigMap>({
    kube: KubeHttp.fromKubeConfig(stack.kube.config),
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/configmaps`,
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
  const macKey = Buffer.from('informer-test-mac-key');
  const updates: CachedSecret[] = [];
  const informer = new RestartingInformer<CachedSecret, V1Secret>({
    kube: KubeHttp.fromKubeConfig(stack.kube.config),
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/secrets`,
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

test('a list is paginated: 7 objects at 3 a page arrive whole, and a label selector filters list and watch', async () => {
  const added: string[] = [];
  const informer = new RestartingInformer<V1ConfigMap>({
    kube: KubeHttp.fromKubeConfig(stack.kube.config),
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    labelSelector: 'page-test=yes',
    pageSize: 3,
    onAdd: (object) => added.push(object.metadata?.name ?? ''),
  });
  const names = Array.from({ length: 7 }, (_, index) => `paged-${index}`);
  try {
    for (const name of names)
      await admin.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, labels: { 'page-test': 'yes' } } },
      });
    await admin.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'paged-unlabelled' } } });
    await informer.start();
    expect(informer.hasSynced).toBe(true);
    expect(added.sort()).toEqual(names);
    await admin.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'paged-late-unlabelled' } } });
    await admin.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'paged-late', labels: { 'page-test': 'yes' } } },
    });
    await waitFor('the labelled watch event', async () => added.includes('paged-late'));
    expect(added).not.toContain('paged-unlabelled');
    expect(added).not.toContain('paged-late-unlabelled');
  } finally {
    await informer.stop();
  }
}, 60_000);

// A resourceVersion the API server no longer has: the kind's watch cache starts again when its CRD is
// deleted and created anew, so an informer that was away meanwhile comes back with a version older than
// anything the API server holds. The API server answers its watch with a 410; it lists again and
// delivers the difference: a delete for the object gone, an update for the one made anew, an add.
test('after a 410 the informer lists again and delivers deletes, updates and adds for what changed', async () => {
  const kube = KubeHttp.fromKubeConfig(stack.kube.config);
  const group = `${stack.uniqueName('gone')}.informer.test`;
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
  const crdPath = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${group}`;
  const widgets = `/apis/${group}/v1/namespaces/${namespace}/widgets`;
  const createCrd = async () => {
    await kube.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
    await waitFor('the CRD served', async () => {
      try {
        await kube.get(widgets);
        return true;
      } catch {
        return false;
      }
    });
  };
  const createWidget = (name: string, size: number) =>
    kube.request('POST', widgets, {
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, size },
    });
  const events: string[] = [];
  type Widget = { metadata: { name: string; namespace: string; resourceVersion?: string }; size: number };
  const { proxy, kubeConfig } = await apiServerThroughProxy(stack.kube.config);
  const informer = new RestartingInformer<Widget>({
    kube: KubeHttp.fromKubeConfig(kubeConfig),
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: widgets,
    onAdd: (object) => events.push(`add ${object.metadata.name}`),
    onUpdate: (object) => events.push(`update ${object.metadata.name} ${object.size}`),
    onDelete: (object) => events.push(`delete ${object.metadata.name}`),
  });
  try {
    await createCrd();
    await createWidget('kept', 1);
    await createWidget('removed', 1);
    await informer.start();
    await waitFor('the list', async () => informer.hasSynced && informer.list().length === 2);
    events.length = 0;

    proxy.cut();
    await kube.request('DELETE', crdPath);
    await waitFor('the CRD gone', async () => {
      try {
        await kube.get(crdPath);
        return false;
      } catch (error) {
        return (error as { status?: number }).status === 404;
      }
    });
    await createCrd();
    await createWidget('kept', 2);
    await createWidget('added', 3);
    proxy.restore();

    await waitFor('the relist after the 410', async () => informer.relists >= 1 && events.length >= 3, 45_000);
    expect(events.sort()).toEqual(['add added', 'delete removed', 'update kept 2']);
    expect(
      informer
        .list(namespace)
        .map((widget) => `${widget.metadata.name} ${widget.size}`)
        .sort(),
    ).toEqual(['added 3', 'kept 2']);
    // And it watches again from the new list: a change after it arrives as an event.
    await createWidget('after', 4);
    await waitFor('a watch event after the relist', async () => informer.get('after', namespace)?.size === 4);
  } finally {
    await informer.stop();
    await proxy.close();
    await kube.request('DELETE', crdPath).catch(() => undefined);
    kube.close();
  }
}, 90_000);

test('a watch that goes idle is started again from its resourceVersion: no relist, no backoff, nothing missed', async () => {
  const added: string[] = [];
  const informer = new RestartingInformer<V1ConfigMap>({
    kube: KubeHttp.fromKubeConfig(stack.kube.config),
    logger: createLogger({ name: 'informer-test', level: 'silent' }),
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    labelSelector: 'idle-test=yes',
    // The API server's bookmarks come every minute: at 700 ms a quiet watch goes idle several times below.
    watchIdleMs: 700,
    onAdd: (object) => added.push(object.metadata?.name ?? ''),
  });
  try {
    await informer.start();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await admin.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'after-idle', labels: { 'idle-test': 'yes' } } },
    });
    await waitFor('the event after the idle watches', async () => added.includes('after-idle'));
    expect(informer.idleWatches).toBeGreaterThanOrEqual(2);
    expect(informer.restarts).toBe(0);
    expect(informer.relists).toBe(0);
  } finally {
    await informer.stop();
  }
}, 30_000);
