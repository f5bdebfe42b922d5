// The operator CLI with --leader-elect, talking to the real API server through a proxy that drops
// every connection for 3 s (as an API-server restart does): the leader keeps leading (client-go's
// renew deadline of 10 s, not one failed renewal), no Secret is lost, and it syncs again afterwards.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { apiServerThroughProxy, sharedStack, type InterruptibleTcpProxy } from '@vaultbridge/testenv';
import { installCrds } from '../src/install-crds.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, inNamespace, setUpDefaultAppAuth, waitFor } from './support/e2e.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const leases = kubeConfig.makeApiClient(CoordinationV1Api);
const namespace = stack.uniqueName('outage');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
let proxy: InterruptibleTcpProxy;
let operator: OperatorProcess;

const leaseSpec = async () => {
  const spec = (await leases.readNamespacedLease({ namespace, name: 'vaultbridge-operator-leader' })).spec;
  if (!spec) throw new Error('the leader Lease has no spec');
  return spec;
};

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpDefaultAppAuth(stack, namespace, objects.create, vaultPath, { password: 'one' });
  const proxied = await apiServerThroughProxy(kubeConfig);
  proxy = proxied.proxy;
  operator = await startOperatorProcess(stack, namespace, {
    args: ['--leader-elect'],
    env: { POD_NAME: 'outage-replica' },
    kubeconfigPath: proxied.kubeconfigPath,
  });
});

afterAll(async () => {
  proxy?.restore();
  if (operator) {
    await deleteSyncedObjects(custom, namespace);
    operator.child.kill('SIGTERM');
    await operator.exited;
  }
  await proxy?.close();
});

test('a 3 s API-server outage: the leader keeps leading and syncing, and loses no Secret', async () => {
  await waitFor('the lease', async () => (await leaseSpec()).holderIdentity === 'outage-replica');
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'before', {
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1s',
    destination: { name: 'before', create: true },
  });
  expect(decode(await waitFor('the Secret', () => objects.readSecret('before')), 'password')).toBe('one');
  const held = await leaseSpec();

  proxy.cut();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  proxy.restore();
  const restoredAt = Date.now();

  // Still the same process, still the leader, no new term.
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'after', {
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'after', create: true },
  });
  expect(
    decode(await waitFor('the Secret synced after the outage', () => objects.readSecret('after'), 60_000), 'password'),
  ).toBe('one');
  console.info(`api-outage-e2e: a new object synced ${Date.now() - restoredAt} ms after the API server was back`);
  expect(operator.child.exitCode).toBeNull();
  const after = await leaseSpec();
  expect(after.holderIdentity).toBe('outage-replica');
  expect(after.leaseTransitions).toBe(held.leaseTransitions);
  expect(operator.output()).not.toContain('leader lease lost');
  // The Secret synced before the outage is intact.
  expect(decode(await waitFor('the Secret', () => objects.readSecret('before')), 'password')).toBe('one');
  expect((await operator.probe('/healthz')).status).toBe(200);
}, 90_000);
