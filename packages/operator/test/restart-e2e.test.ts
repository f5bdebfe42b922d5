// An operator restart (SIGKILL, as an OOM kill or a node loss does it) re-issues no dynamic credential
// while the leases are valid: with spec.storageEncryption the VaultAuth's token is kept encrypted with
// Vault transit, the new process adopts it, and the leases it owns live on. Counted at Vault: no new
// `creds/` request, no Secret written. The operator runs as its CLI, as in a pod.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import type { VaultDynamicSecret } from '../src/api/vault-dynamic-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import { TOKEN_STORAGE_PREFIX } from '../src/controllers/token-storage.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { inNamespace, waitFor } from './support/e2e.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';

const stack = sharedStack();
const { layout } = stack;
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('restart');
const objects = inNamespace(custom, core, namespace);
const role = `${namespace}-db`;
const transitKey = `${namespace}-cc`;
const credsRoute = `GET /v1/${layout.databaseMount}/creds/${role}`;
const COUNT = 5;

const started: OperatorProcess[] = [];

async function startOperator(): Promise<OperatorProcess> {
  const operator = await startOperatorProcess(stack, namespace);
  started.push(operator);
  return operator;
}

/** A counter of the operator's /metrics, summed over the series that match `labels`. */
async function metric(operator: OperatorProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator.healthPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

const credsRequests = async (): Promise<number> => (await stack.requestCounts()).byRoute[credsRoute] ?? 0;
const readVds = (name: string) => objects.read<VaultDynamicSecret>('vaultdynamicsecrets', name);
const names = Array.from({ length: COUNT }, (_, index) => `db-${index}`);

beforeAll(async () => {
  await installCrds(kubeConfig);
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.vaultAdmin.write(`${layout.transitMount}/keys/${transitKey}`, {});
  await stack.writePolicy(
    namespace,
    `
path "${layout.databaseMount}/creds/${role}" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "${layout.transitMount}/encrypt/${transitKey}" { capabilities = ["update"] }
path "${layout.transitMount}/decrypt/${transitKey}" { capabilities = ["update"] }
`,
  );
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
    ttl: '1h',
  });
  await stack.writeDatabaseRole(role, { defaultTtl: '1h', maxTtl: '2h' });
  await objects.create('vaultconnections', 'VaultConnection', 'default', { address: stack.vaultAddr });
  await objects.create('vaultauths', 'VaultAuth', 'default', {
    method: 'kubernetes',
    mount: layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
    storageEncryption: { mount: layout.transitMount, keyName: transitKey },
  });
});

afterAll(async () => {
  for (const operator of started) operator.child.kill('SIGKILL');
  await Promise.all(started.map((operator) => operator.exited));
  // Also after a failure: objects left behind would be reconciled by the operators of later test files.
  await deleteSyncedObjects(custom, namespace);
});

test('SIGKILL mid-run, then a new process: no credential is re-issued, no Secret rewritten, the token is the same', async () => {
  const first = await startOperator();
  await waitFor(
    'the first operator /readyz',
    async () => (await fetch(`http://127.0.0.1:${first.healthPort}/readyz`).catch(() => undefined))?.ok,
    60_000,
  );
  for (const name of names) {
    await objects.create('vaultdynamicsecrets', 'VaultDynamicSecret', name, {
      mount: layout.databaseMount,
      path: `creds/${role}`,
      destination: { name: `${name}-creds`, create: true },
    });
  }
  const before = await waitFor(
    'every object synced',
    async () => {
      const all = await Promise.all(names.map(readVds));
      return (
        all.every((object) => object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) && all
      );
    },
    30_000,
  );
  const secretsBefore = await Promise.all(names.map((name) => objects.readSecret(`${name}-creds`)));
  // The token is stored, encrypted with transit, under the client's cache key.
  const cacheKey = before[0]?.status?.vaultClientMeta?.cacheKey;
  const stored = await waitFor('the stored token', () => objects.readSecret(`${TOKEN_STORAGE_PREFIX}${cacheKey}`));
  expect(Buffer.from(stored.data?.ciphertext ?? '', 'base64').toString()).toMatch(/^vault:v\d+:/);
  const issued = await credsRequests();
  expect(issued).toBe(COUNT);

  first.child.kill('SIGKILL');
  await first.exited;

  const second = await startOperator();
  await waitFor(
    'the second operator /readyz',
    async () => (await fetch(`http://127.0.0.1:${second.healthPort}/readyz`).catch(() => undefined))?.ok,
    60_000,
  );
  // Every object reconciled by the new process (issued or not), and each found nothing to do.
  const reconciled = async (result: string) =>
    metric(second, 'vaultbridge_operator_dynamic_reconciles_total', `result="${result}"`);
  await waitFor(
    'every object reconciled by the new process',
    async () => (await reconciled('unchanged')) + (await reconciled('issued')) >= COUNT,
    30_000,
  );
  expect(await reconciled('unchanged')).toBeGreaterThanOrEqual(COUNT);

  expect(await credsRequests()).toBe(issued);
  expect(await metric(second, 'vaultbridge_operator_dynamic_reconciles_total', 'result="issued"')).toBe(0);
  const after = await Promise.all(names.map(readVds));
  for (const [index, object] of after.entries()) {
    expect(object.status?.secretLease?.id).toBe(before[index]?.status?.secretLease?.id);
    expect(object.status?.vaultClientMeta?.id).toBe(before[index]?.status?.vaultClientMeta?.id);
  }
  const secretsAfter = await Promise.all(names.map((name) => objects.readSecret(`${name}-creds`)));
  expect(secretsAfter.map((secret) => secret?.metadata?.resourceVersion)).toEqual(
    secretsBefore.map((secret) => secret?.metadata?.resourceVersion),
  );
  expect(second.output()).not.toContain('new credentials issued');

  // A deleted VaultAuth takes its stored token with it.
  await custom.deleteNamespacedCustomObject({
    group: 'secrets.vaultbridge.dev',
    version: 'v1beta1',
    namespace,
    plural: 'vaultauths',
    name: 'default',
  });
  await waitFor(
    'the stored token deleted with its VaultAuth',
    async () => (await objects.readSecret(`${TOKEN_STORAGE_PREFIX}${cacheKey}`)) === undefined,
    30_000,
  );

  second.child.kill('SIGTERM');
  await second.exited;
}, 240_000);
