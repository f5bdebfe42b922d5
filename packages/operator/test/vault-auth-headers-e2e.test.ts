// A VaultAuth's `headers` reach Vault on every request of its client, the login included, as VSO sends
// them: the VaultConnection points at the testenv counting proxy, recording what it passes to the real Vault.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { CountingProxy, sharedStack } from '@vaultbridge/testenv';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, inNamespace, setUpAppRole, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('headers');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
let operator: RunningOperator;

// The testenv counting proxy in front of the stack's Vault, keeping the two headers under test per request.
const recorder = new CountingProxy(stack.vaultAddr, { recordHeaders: ['x-team', 'x-tier'] });

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpAppRole(stack, namespace, vaultPath, { password: 'p' });
  await objects.create('vaultconnections', 'VaultConnection', 'forwarded', {
    address: await recorder.listen(),
    headers: { 'X-Team': 'from-connection', 'X-Tier': 'gold' },
  });
  operator = await startOperator({
    kubeConfig,
    logger: createLogger({ name: 'headers-e2e', level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
  });
});

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
  await recorder.close();
});

test("the login and the read carry the VaultAuth's headers, over the VaultConnection's of the same name", async () => {
  await objects.create('vaultauths', 'VaultAuth', 'with-headers', {
    vaultConnectionRef: 'forwarded',
    method: 'kubernetes',
    mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app' },
    headers: { 'X-Team': 'blue' },
  });
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'app', {
    vaultAuthRef: 'with-headers',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'app', create: true },
  });
  expect(decode(await waitFor('the Secret', () => objects.readSecret('app')), 'password')).toBe('p');

  const seen = recorder.requests();
  const login = seen.find((entry) => entry.method === 'POST' && entry.path.endsWith('/login'));
  const read = seen.find((entry) => entry.method === 'GET' && entry.path === `/v1/secret/data/${vaultPath}`);
  expect(login?.headers).toEqual({ 'x-team': 'blue', 'x-tier': 'gold' });
  expect(read?.headers).toEqual({ 'x-team': 'blue', 'x-tier': 'gold' });
});
