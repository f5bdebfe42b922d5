// Two operator replicas with --leader-elect; the leader is killed with SIGKILL (no hand-over, as when
// its node dies): the other takes the Lease once it expires (15 s), keeps the synced Secret as it was,
// and syncs what changed meanwhile. One leader at a time: never two holders, one new term.
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
const namespace = stack.uniqueName('leader-kill');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
const replicas: OperatorProcess[] = [];

const leaseSpec = async () =>
  (await leases.readNamespacedLease({ namespace, name: 'vaultbridge-operator-leader' }).catch(() => undefined))?.spec;

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpDefaultAppAuth(stack, namespace, objects.create, vaultPath, { password: 'one' });
});

afterAll(async () => {
  const alive = replicas.filter((replica) => replica.child.exitCode === null && replica.child.signalCode === null);
  if (alive.length > 0) await deleteSyncedObjects(custom, namespace);
  for (const replica of alive) replica.child.kill('SIGTERM');
  await Promise.all(replicas.map((replica) => replica.exited));
});

/** A failed wait says what the replicas logged (warnings and errors), so a CI failure can be read. */
async function withReplicaLogs<T>(waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    const logs = replicas.map((replica, index) => {
      const lines = replica
        .output()
        .split('\n')
        .filter((line) => line !== '' && !line.includes('"level":"info"'));
      return `replica ${index}: ${lines.slice(-10).join('\n') || '(no warnings)'}`;
    });
    throw new Error(`${(error as Error).message}\n${logs.join('\n')}`, { cause: error });
  }
}

test('SIGKILL of the leader: the other replica takes over after the lease expires and loses nothing', async () => {
  for (const identity of ['replica-a', 'replica-b']) {
    replicas.push(
      await startOperatorProcess(stack, namespace, { args: ['--leader-elect'], env: { POD_NAME: identity } }),
    );
  }
  // Both processes up first (under CI's load two node processes loading TypeScript source can take
  // longer than an election round), so the election's own wait starts when both can take part.
  for (const replica of replicas)
    await withReplicaLogs(
      waitFor('a replica serving /healthz', async () => (await replica.probe('/healthz')).ok, 60_000),
    );
  const first = await withReplicaLogs(waitFor('a leader', async () => (await leaseSpec())?.holderIdentity));
  const term = (await leaseSpec())?.leaseTransitions ?? 0;
  const [leader, follower] = first === 'replica-a' ? [replicas[0], replicas[1]] : [replicas[1], replicas[0]];
  if (!leader || !follower) throw new Error('two replicas expected');
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'app', {
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '2s',
    destination: { name: 'app', create: true },
  });
  const synced = await waitFor('the Secret', () => objects.readSecret('app'));
  expect(decode(synced, 'password')).toBe('one');

  leader.child.kill('SIGKILL');
  const killedAt = Date.now();
  await leader.exited;
  await stack.vaultAdmin.write(`secret/data/${vaultPath}`, { data: { password: 'two' } });
  // Until the lease expires nobody syncs, and the Secret keeps its data.
  expect((await objects.readSecret('app'))?.data).toEqual(synced.data);

  const second = follower === replicas[0] ? 'replica-a' : 'replica-b';
  await waitFor('the follower holding the lease', async () => (await leaseSpec())?.holderIdentity === second, 40_000);
  const tookOverMs = Date.now() - killedAt;
  const rotated = await waitFor(
    'the new value synced by the new leader',
    async () => {
      const secret = await objects.readSecret('app');
      return secret && decode(secret, 'password') === 'two' && secret;
    },
    30_000,
  );
  console.info(
    `leader-kill-e2e: lease taken over ${tookOverMs} ms after SIGKILL, new value synced ${Date.now() - killedAt} ms after it`,
  );
  expect((await leaseSpec())?.leaseTransitions).toBe(term + 1);
  expect(rotated.metadata?.uid).toBe(synced.metadata?.uid);
  expect(follower.child.exitCode).toBeNull();
}, 90_000);
