// Instant updates reach objects pinned to a KV version, objects waiting for a secret or version that
// does not exist yet, and objects in their own Vault namespace (spec.namespace). Real Vault 1.13 with
// events.alpha1, the kube-apiserver, the operator in-process with a failure backoff of two minutes and
// refreshAfter 1h: a change reaching a Secret (or a status) during the test can only come from an event.
// Vault 1.13 community has no namespaces (it ignores X-Vault-Namespace and serves the root), so for
// spec.namespace the counting proxy shows what was asked: the read and a subscription of its own in
// that namespace.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sharedStack, untilEventArrives } from '@vaultbridge/testenv';
import type { Condition } from '../src/api/common.ts';
import type { VaultStaticSecret } from '../src/api/vault-static-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import type { RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { connectAndStartOperator, decode, inNamespace, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('reach');
const objects = inNamespace(custom, core, namespace);
const { create, readSecret } = objects;
const base = `e2e/${namespace}`;
let operator: RunningOperator;

const kvData = (name: string) => `secret/data/${base}/${name}`;
const writeKv = (name: string, password: string) => stack.vaultAdmin.write(kvData(name), { data: { password } });
const reads = async (name: string): Promise<number> =>
  (await stack.requestCounts()).byRoute[`GET /v1/${kvData(name)}`] ?? 0;
const password = async (name: string): Promise<string | undefined> => {
  const secret = await readSecret(`${name}-secret`);
  return secret && decode(secret, 'password');
};
const ready = async (name: string): Promise<Condition | undefined> =>
  (await objects.read<VaultStaticSecret>('vaultstaticsecrets', name)).status?.conditions?.find(
    (item) => item.type === 'Ready',
  );
const readyNow = async (name: string, status: 'True' | 'False', reason?: string): Promise<boolean> => {
  const condition = await ready(name);
  return condition?.status === status && (reason === undefined || condition.reason === reason);
};
// Vault 1.13.0 loses an event now and then (untilEventArrives in testenv says why): a lost one is made again.
const untilReady = (
  what: string,
  change: (attempt: number) => Promise<unknown>,
  name: string,
  status: 'True' | 'False',
  reason?: string,
) => untilEventArrives({ what, change, arrived: () => readyNow(name, status, reason) });
const readyIs = (name: string, status: 'True' | 'False', reason?: string) =>
  waitFor(`${name} Ready=${status}${reason ? `/${reason}` : ''}`, async () => {
    const condition = await ready(name);
    return condition?.status === status && (reason === undefined || condition.reason === reason) && condition;
  });
const vss = (name: string, path: string, extra: Record<string, unknown> = {}) =>
  create('vaultstaticsecrets', 'VaultStaticSecret', name, {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: `${base}/${path}`,
    type: 'kv-v2',
    refreshAfter: '1h',
    syncConfig: { instantUpdates: true },
    destination: { name: `${name}-secret`, create: true },
    ...extra,
  });
const subscribed = () =>
  waitFor('VaultConnection InstantUpdates=True', async () =>
    (
      await objects.read<{ status?: { conditions?: Condition[] } }>('vaultconnections', 'vault')
    ).status?.conditions?.some((c) => c.type === 'InstantUpdates' && c.status === 'True'),
  );

beforeAll(async () => {
  await installCrds(kubeConfig);
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(
    namespace,
    `path "secret/data/${base}/*" { capabilities = ["read"] }\npath "sys/events/subscribe/kv*" { capabilities = ["read"] }`,
  );
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
  });
  // A failed object is not retried within the test: only an event can bring it back.
  operator = await connectAndStartOperator(stack, namespace, create, 'instant-reach-e2e', {
    backoff: { baseDelayMs: 120_000, maxDelayMs: 120_000, minDelayMs: 120_000 },
  });
});

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
});

test('an object pinned to a version costs no read for a new version, and follows its version being deleted and undeleted', async () => {
  await writeKv('shared', 'one');
  await writeKv('shared', 'two');
  await vss('pinned', 'shared', { version: 1 });
  await vss('latest', 'shared');
  await readyIs('pinned', 'True');
  await readyIs('latest', 'True');
  await subscribed();
  expect(await password('pinned')).toBe('one');
  expect(await password('latest')).toBe('two');

  // A new version: the latest object reads it once per event that arrived; the pinned one reads nothing
  // (both read the same route).
  const before = await reads('shared');
  const versions = await untilEventArrives({
    what: 'the new version in the latest Secret',
    change: (attempt) => writeKv('shared', `new-${attempt}`),
    arrived: async (attempt) => (await password('latest')) === `new-${attempt}`,
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const latestReads = (await reads('shared')) - before;
  expect(latestReads).toBeGreaterThanOrEqual(1);
  expect(latestReads).toBeLessThanOrEqual(versions);
  expect(await password('pinned')).toBe('one');

  // Version 1 soft-deleted: the pinned object learns at once; its good Secret is kept.
  await untilReady(
    'pinned Ready=False/VaultSecretVersionGone',
    () => stack.vaultAdmin.write(`secret/delete/${base}/shared`, { versions: [1] }),
    'pinned',
    'False',
    'VaultSecretVersionGone',
  );
  expect((await ready('pinned'))?.message).toContain('version');
  expect(await password('pinned')).toBe('one');
  // Undeleted: Ready again without waiting for the two-minute backoff.
  await untilReady(
    'pinned Ready=True after the undelete',
    () => stack.vaultAdmin.write(`secret/undelete/${base}/shared`, { versions: [1] }),
    'pinned',
    'True',
  );
  expect(await password('pinned')).toBe('one');
});

test('an object waiting for a secret, or a version, that does not exist yet syncs on the write that creates it', async () => {
  await writeKv('future', 'first');
  await vss('future', 'future', { version: 2 });
  await vss('later', 'later');
  await readyIs('future', 'False', 'VaultSecretNotFound');
  await readyIs('later', 'False', 'VaultSecretNotFound');
  expect(await readSecret('future-secret')).toBeUndefined();

  // The write that creates version 2; should its event be lost, a metadata change is the next event that
  // makes the pinned object look again (a new data write would create version 3 instead).
  await untilEventArrives({
    what: 'version 2 in the future Secret',
    change: (attempt) =>
      attempt === 0
        ? writeKv('future', 'second')
        : stack.vaultAdmin.write(`secret/metadata/${base}/future`, { custom_metadata: { nudge: String(attempt) } }),
    arrived: async () => (await password('future')) === 'second',
  });
  await untilEventArrives({
    what: 'the later Secret',
    change: (attempt) => writeKv('later', `at last ${attempt}`),
    arrived: async (attempt) => (await password('later')) === `at last ${attempt}`,
  });
  await readyIs('future', 'True');
  // A third version is not the pinned one: no change.
  await writeKv('future', 'third');
  await waitFor(
    'the latest version 3 in Vault',
    async () =>
      (await stack.vaultAdmin.read<{ data: { metadata: { version: number } } }>(kvData('future'))).data.metadata
        .version === 3,
  );
  expect(await password('future')).toBe('second');
});

test('an object with spec.namespace reads and subscribes in that namespace, and its changes arrive at once', async () => {
  await writeKv('namespaced', 'ns-one');
  const asked = async () => (await stack.requestCounts()).byNamespace;
  const subscribe = 'team-a GET /v1/sys/events/subscribe/kv*';
  const subscriptionsBefore = (await asked())[subscribe] ?? 0;
  await vss('namespaced', 'namespaced', { namespace: 'team-a' });
  await readyIs('namespaced', 'True');
  expect(await password('namespaced')).toBe('ns-one');
  await waitFor('a subscription in team-a', async () => (await asked())[subscribe] === subscriptionsBefore + 1);
  const readsBefore = (await asked())[`team-a GET /v1/${kvData('namespaced')}`] ?? 0;
  expect(readsBefore).toBeGreaterThanOrEqual(1);

  const changes = await untilEventArrives({
    what: 'the namespaced change in its Secret',
    change: (attempt) => writeKv('namespaced', `ns-two-${attempt}`),
    arrived: async (attempt) => (await password('namespaced')) === `ns-two-${attempt}`,
  });
  const after = await asked();
  const namespacedReads = (after[`team-a GET /v1/${kvData('namespaced')}`] ?? 0) - readsBefore;
  expect(namespacedReads).toBeGreaterThanOrEqual(1);
  expect(namespacedReads).toBeLessThanOrEqual(changes);
  // One subscription for the namespace, whatever else the identity follows at the root.
  expect(after[subscribe]).toBe(subscriptionsBefore + 1);
  // The root objects never asked for team-a.
  expect(Object.keys(after).filter((route) => route.includes(`${base}/shared`))).toEqual([]);
});
