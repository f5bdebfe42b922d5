// The operator CLI as it runs in a pod: two replicas with --leader-elect against the real stack. One
// leads and syncs; SIGTERM makes it stop cleanly (exit 0) and hand the Lease over; the other then syncs.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import { installCrds } from '../src/install-crds.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, inNamespace, setUpDefaultAppAuth, waitFor } from './support/e2e.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const leases = kubeConfig.makeApiClient(CoordinationV1Api);
const namespace = stack.uniqueName('cli');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;

interface Replica extends OperatorProcess {
  identity: string;
}

const replicas: Replica[] = [];

async function startReplica(identity: string): Promise<Replica> {
  const replica = {
    identity,
    ...(await startOperatorProcess(stack, namespace, { args: ['--leader-elect'], env: { POD_NAME: identity } })),
  };
  replicas.push(replica);
  return replica;
}

const holder = async (): Promise<string | undefined> =>
  (await leases.readNamespacedLease({ namespace, name: 'vaultbridge-operator-leader' }).catch(() => undefined))?.spec
    ?.holderIdentity ?? undefined;

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpDefaultAppAuth(stack, namespace, objects.create, vaultPath, { password: 'one' });
});

afterAll(async () => {
  for (const replica of replicas) replica.child.kill('SIGKILL');
  await Promise.all(replicas.map((replica) => replica.exited));
});

test('two replicas with --leader-elect: one leads and syncs; SIGTERM hands over, and the other syncs', async () => {
  const a = await startReplica('replica-a');
  const b = await startReplica('replica-b');
  for (const replica of [a, b]) {
    await waitFor(
      `${replica.identity} /healthz`,
      async () => (await fetch(`http://127.0.0.1:${replica.healthPort}/healthz`)).ok,
    );
  }
  const leader = await waitFor('a leader', holder);
  const [first, second] = leader === 'replica-a' ? [a, b] : [b, a];

  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'app', {
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'app', create: true },
  });
  expect(decode(await waitFor('the Secret', () => objects.readSecret('app')), 'password')).toBe('one');
  expect(first.output()).toContain('operator started');
  expect(second.output()).not.toContain('operator started');
  // Both are ready: the follower stands by.
  for (const replica of [a, b]) expect((await fetch(`http://127.0.0.1:${replica.healthPort}/readyz`)).ok).toBe(true);

  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  await waitFor('the other replica to take the Lease', async () => (await holder()) === second.identity, 20_000);
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'after-handover', {
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'after-handover', create: true },
  });
  expect(
    decode(
      await waitFor('the Secret synced by the new leader', () => objects.readSecret('after-handover')),
      'password',
    ),
  ).toBe('one');
  // Controllers reconcile as soon as their own informer has listed, so the sync can come before the
  // "operator started" line (logged once every informer has): wait for the line rather than race it.
  await waitFor('the new leader to log its start', async () => second.output().includes('operator started'));

  await deleteSyncedObjects(custom, namespace);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 60_000);
