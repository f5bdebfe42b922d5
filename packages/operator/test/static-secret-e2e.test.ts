// VaultStaticSecret end to end against the real stack: kube-apiserver + OpenBao, the operator in-process.
import { CoreV1Api, CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import { GROUP, VERSION } from '../src/api/common.ts';
import type { VaultStaticSecret } from '../src/api/vault-static-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { secretMac } from '../src/sync/hmac.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('vss');
const vaultPath = `e2e/${namespace}/app`;
let operator: RunningOperator;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const decode = (secret: V1Secret, key: string): string | undefined => {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

const readSecret = (name: string): Promise<V1Secret | undefined> =>
  core.readNamespacedSecret({ name, namespace }).catch(() => undefined);

const readVss = (name: string): Promise<VaultStaticSecret> =>
  custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'vaultstaticsecrets', name }) as Promise<VaultStaticSecret>;

const condition = (object: VaultStaticSecret, type: string) => object.status?.conditions?.find((item) => item.type === type);

async function create(plural: string, kind: string, name: string, spec: object): Promise<void> {
  await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec } });
}

beforeAll(async () => {
  await installCrds(kubeConfig);
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(namespace, `path "secret/data/e2e/${namespace}/*" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(namespace, { serviceAccounts: ['app'], namespaces: [namespace], policies: [namespace], audience: 'vault' });
  await stack.vaultAdmin.write(`secret/data/${vaultPath}`, { data: { username: 'app', password: 'first-password' } });

  await create('vaultconnections', 'VaultConnection', 'vault', { address: stack.vaultAddr });
  await create('vaultauths', 'VaultAuth', 'auth', {
    vaultConnectionRef: 'vault', method: 'kubernetes', mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
  });
  operator = await startOperator({
    kubeConfig, logger: createLogger({ name: 'operator-e2e', level: 'warn' }), operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
  });
});

afterAll(async () => {
  await operator?.stop();
});

test('a KV v2 secret is synced into an owned Secret, status Ready with a MAC', async () => {
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'app', {
    vaultAuthRef: 'auth', mount: 'secret', path: vaultPath, type: 'kv-v2', refreshAfter: '1s',
    destination: { name: 'app-secret', create: true, labels: { team: 'web' } },
  });
  const secret = await waitFor('the destination Secret', () => readSecret('app-secret'));
  expect(decode(secret, 'username')).toBe('app');
  expect(decode(secret, 'password')).toBe('first-password');
  expect(JSON.parse(decode(secret, '_raw')!)).toMatchObject({ data: { username: 'app', password: 'first-password' }, metadata: { version: 1 } });
  expect(secret.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'vaultbridge-operator', team: 'web' });
  const vss = await waitFor('Ready=True', async () => {
    const object = await readVss('app');
    return condition(object, 'Ready')?.status === 'True' && object;
  });
  expect(secret.metadata?.ownerReferences).toEqual([{ apiVersion: `${GROUP}/${VERSION}`, kind: 'VaultStaticSecret', name: 'app', uid: vss.metadata.uid }]);
  expect(vss.status?.secretMAC).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  expect(vss.status?.lastGeneration).toBe(vss.metadata.generation);
  expect(condition(vss, 'Ready')).toMatchObject({ reason: 'Ready', observedGeneration: vss.metadata.generation });
  expect(condition(vss, 'SecretSynced')?.status).toBe('True');
  // The MAC is over the synced data with the key the operator keeps in a Secret (so MACs survive restarts).
  const keySecret = await readSecret('vaultbridge-operator-hmac-key');
  const macKey = Buffer.from(keySecret?.data?.key ?? '', 'base64');
  expect(macKey.length).toBe(32);
  expect(vss.status?.secretMAC).toBe(secretMac(macKey, secret.data ?? {}));
});

test('a change in Vault reaches the Secret within refreshAfter', async () => {
  const before = (await readVss('app')).status?.secretMAC;
  const readyAt = condition(await readVss('app'), 'Ready')?.lastTransitionTime;
  await stack.vaultAdmin.write(`secret/data/${vaultPath}`, { data: { username: 'app', password: 'second-password' } });
  await waitFor('the rotated password', async () => decode((await readSecret('app-secret'))!, 'password') === 'second-password');
  const after = await waitFor('the new MAC', async () => {
    const object = await readVss('app');
    return object.status?.secretMAC !== before && object;
  });
  // Still Ready: the transition time of an unchanged condition is kept.
  expect(condition(after, 'Ready')?.lastTransitionTime).toBe(readyAt);
});

// refreshAfter 1h: the repairs below come from watching the destination, not from polling Vault.
test('a deleted destination Secret is recreated without polling Vault', async () => {
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'steady', {
    vaultAuthRef: 'auth', mount: 'secret', path: vaultPath, type: 'kv-v2', refreshAfter: '1h', destination: { name: 'steady-secret', create: true },
  });
  await waitFor('Ready=True', async () => condition(await readVss('steady'), 'Ready')?.status === 'True');
  const old = (await readSecret('steady-secret'))!;
  await core.deleteNamespacedSecret({ name: 'steady-secret', namespace });
  const recreated = await waitFor('the recreated Secret', async () => {
    const secret = await readSecret('steady-secret');
    return secret && secret.metadata?.uid !== old.metadata?.uid && secret;
  }, 5000);
  expect(decode(recreated, 'password')).toBe('second-password');
});

test('an edited key of the destination Secret is restored without polling Vault', async () => {
  const secret = (await readSecret('steady-secret'))!;
  await core.replaceNamespacedSecret({
    name: 'steady-secret', namespace,
    body: { ...secret, data: { ...secret.data, password: Buffer.from('tampered').toString('base64') } },
  });
  await waitFor('the restored password', async () => decode((await readSecret('steady-secret'))!, 'password') === 'second-password', 5000);
});

test('a VaultStaticSecret whose VaultAuth does not exist is Ready=False naming the ref, and leaves an existing Secret alone', async () => {
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'precious' }, data: { keep: Buffer.from('me').toString('base64') } } });
  const original = (await readSecret('precious'))!;
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'broken', {
    vaultAuthRef: 'missing-auth', mount: 'secret', path: vaultPath, type: 'kv-v2',
    destination: { name: 'precious', create: true, overwrite: true },
  });
  const broken = await waitFor('Ready=False', async () => {
    const object = await readVss('broken');
    return condition(object, 'Ready')?.status === 'False' && object;
  });
  expect(condition(broken, 'Ready')).toMatchObject({ reason: 'VaultAuthNotFound', observedGeneration: broken.metadata.generation });
  expect(condition(broken, 'Ready')?.message).toContain(`spec.vaultAuthRef: VaultAuth ${namespace}/missing-auth not found`);
  expect(condition(broken, 'Ready')?.message).not.toContain('second-password');
  const after = (await readSecret('precious'))!;
  expect(after.metadata?.resourceVersion).toBe(original.metadata?.resourceVersion);
  expect(decode(after, 'keep')).toBe('me');
  // The good one is unaffected by its broken neighbour.
  expect(condition(await readVss('app'), 'Ready')?.status).toBe('True');
});

test('a Secret the object does not own is not overwritten without overwrite', async () => {
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'not-ours' }, data: { keep: Buffer.from('me').toString('base64') } } });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'no-overwrite', {
    vaultAuthRef: 'auth', mount: 'secret', path: vaultPath, type: 'kv-v2', destination: { name: 'not-ours', create: true },
  });
  const object = await waitFor('Ready=False', async () => {
    const vss = await readVss('no-overwrite');
    return condition(vss, 'Ready')?.status === 'False' && vss;
  });
  expect(condition(object, 'Ready')).toMatchObject({ reason: 'DestinationNotOwned' });
  expect(condition(object, 'Ready')?.message).toContain('spec.destination.overwrite');
  expect(decode((await readSecret('not-ours'))!, 'keep')).toBe('me');
});

test('a 403 from Vault is Ready=False naming the path', async () => {
  await stack.vaultAdmin.write(`secret/data/e2e-forbidden/${namespace}`, { data: { a: 'b' } });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'forbidden', {
    vaultAuthRef: 'auth', mount: 'secret', path: `e2e-forbidden/${namespace}`, type: 'kv-v2', destination: { name: 'forbidden', create: true },
  });
  const object = await waitFor('Ready=False', async () => {
    const vss = await readVss('forbidden');
    return condition(vss, 'Ready')?.status === 'False' && vss;
  });
  expect(condition(object, 'Ready')).toMatchObject({ reason: 'VaultPermissionDenied' });
  expect(condition(object, 'Ready')?.message).toContain(`secret/e2e-forbidden/${namespace}`);
  expect(await readSecret('forbidden')).toBeUndefined();
});
