// Vault unreachable for a synced secret (the stack's proxy resets every request under its path, as a
// stopped Vault or a dropped link does) while the operator refreshes it every second: the Secret keeps
// its last good data (never emptied or deleted), the status says Vault is unavailable, and the first
// refresh after Vault is back brings the new value.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import type { VaultStaticSecret } from '../src/api/vault-static-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import type { RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { connectAndStartOperator, decode, inNamespace, setUpAppRole, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('vault-down');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
let operator: RunningOperator;

const ready = async () =>
  (await objects.read<VaultStaticSecret>('vaultstaticsecrets', 'app')).status?.conditions?.find(
    (item) => item.type === 'Ready',
  );

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpAppRole(stack, namespace, vaultPath, { password: 'before-outage' });
  operator = await connectAndStartOperator(stack, namespace, objects.create, 'vault-outage-e2e');
});

afterAll(async () => {
  await stack.setVaultFault('none');
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
});

test('10 s without Vault: the Secret keeps its data, the status says why, and the next refresh after it recovers', async () => {
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'app', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1s',
    destination: { name: 'app', create: true },
  });
  const synced = await waitFor('the first sync', () => objects.readSecret('app'));
  expect(decode(synced, 'password')).toBe('before-outage');

  await stack.setVaultFault('reset', { pathPrefix: `secret/data/${vaultPath}` });
  try {
    const down = await waitFor('Ready=False with VaultUnavailable', async () => {
      const condition = await ready();
      return condition?.status === 'False' && condition;
    });
    expect(down.reason).toBe('VaultUnavailable');
    // The value changes in Vault while it is unreachable for the operator.
    await stack.vaultAdmin.write(`secret/data/${vaultPath}`, { data: { password: 'after-outage' } });
    // Every second of the outage, the Secret still holds the last good data.
    for (let second = 0; second < 10; second++) {
      const during = await objects.readSecret('app');
      expect(during?.data).toEqual(synced.data);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  } finally {
    await stack.setVaultFault('none');
  }
  const restoredAt = Date.now();
  const recovered = await waitFor(
    'the new value after Vault is back',
    async () => {
      const secret = await objects.readSecret('app');
      return secret && decode(secret, 'password') === 'after-outage' && secret;
    },
    90_000,
  );
  // Recovery time for docs/reliability.md (backoff is capped at 2 s in this test's operator).
  console.info(`vault-outage-e2e: recovered ${Date.now() - restoredAt} ms after Vault was back`);
  expect(recovered.metadata?.uid).toBe(synced.metadata?.uid);
  await waitFor('Ready=True again', async () => (await ready())?.status === 'True');
}, 120_000);
