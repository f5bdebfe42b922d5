// SIGTERM while the operator is writing: 30 objects are being synced when the process is told to stop.
// It exits 0 after the syncs in flight, every Secret that exists is whole (all keys, right values: a
// Secret is written in one API call, never key by key), and a new process syncs the rest.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import { installCrds } from '../src/install-crds.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, inNamespace, setUpDefaultAppAuth, waitFor } from './support/e2e.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('sigterm');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
const COUNT = 30;
const names = Array.from({ length: COUNT }, (_, i) => `app-${i}`);
const fields = { username: 'app', password: 'p'.repeat(64), url: 'postgres://db:5432/app' };
let second: OperatorProcess | undefined;

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpDefaultAppAuth(stack, namespace, objects.create, vaultPath, fields);
});

afterAll(async () => {
  if (second && second.child.exitCode === null) {
    await deleteSyncedObjects(custom, namespace);
    second.child.kill('SIGTERM');
    await second.exited;
  }
});

/** The destination Secrets (the operator's MAC key Secret in this namespace carries the same label). */
const destinations = async () =>
  (
    await core.listNamespacedSecret({ namespace, labelSelector: 'app.kubernetes.io/managed-by=vaultbridge-operator' })
  ).items.filter((item) => names.includes(item.metadata?.name ?? ''));

const whole = (secret: { data?: Record<string, string> }) =>
  Object.keys(secret.data ?? {})
    .sort()
    .join(',') === ['_raw', ...Object.keys(fields)].sort().join(',') &&
  Object.entries(fields).every(([key, value]) => decode(secret, key) === value);

test('SIGTERM during syncs: exit 0, no partial Secret, the next process syncs the rest', async () => {
  const first = await startOperatorProcess(stack, namespace, { args: ['--max-concurrent-reconciles', '4'] });
  await waitFor('/healthz', async () => (await first.probe('/healthz')).ok);
  await Promise.all(
    names.map((name) =>
      objects.create('vaultstaticsecrets', 'VaultStaticSecret', name, {
        mount: 'secret',
        path: vaultPath,
        type: 'kv-v2',
        refreshAfter: '1h',
        destination: { name, create: true },
      }),
    ),
  );
  await waitFor('the first Secret', async () => (await destinations()).length > 0);
  first.child.kill('SIGTERM');
  const stoppingAt = Date.now();
  expect(await first.exited).toBe(0);
  const stoppedMs = Date.now() - stoppingAt;

  const written = await destinations();
  console.info(`sigterm-e2e: stopped ${stoppedMs} ms after SIGTERM with ${written.length} of ${COUNT} Secrets written`);
  expect(written.length).toBeGreaterThan(0);
  for (const secret of written) expect(whole(secret)).toBe(true);

  second = await startOperatorProcess(stack, namespace);
  const all = await waitFor(
    'every Secret',
    async () => {
      const items = await destinations();
      return items.length === COUNT && items;
    },
    60_000,
  );
  console.info(`sigterm-e2e: the next process synced the other ${COUNT - written.length}`);
  for (const secret of all) expect(whole(secret)).toBe(true);
  // What the first process wrote was kept as it was, not recreated.
  for (const secret of written)
    expect(all.find((item) => item.metadata?.name === secret.metadata?.name)?.metadata?.uid).toBe(secret.metadata?.uid);
}, 120_000);
