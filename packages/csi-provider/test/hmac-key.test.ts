// The object-version HMAC key lives in a Secret on the real API server: every provider process (and
// every restart) gets the same key, also when two create it at once. The provider reads it in its own
// process over KubeHttp; in a pod, with the chart's RBAC only.
import { KubeHttp } from '@vaultbridge/core';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { HmacKeyError, loadOrCreateHmacKey } from '../src/hmac-key.ts';
import { providerAccount } from './support/provider-account.ts';

let stack: TestStack;
let admin: KubeHttp;
beforeAll(() => {
  stack = sharedStack();
  admin = KubeHttp.fromKubeConfig(stack.kube.config);
});
afterAll(() => admin.close());

it('creates the key once and hands every caller the same one', async () => {
  const ns = stack.uniqueName('csi-hmac');
  await stack.createNamespace(ns);
  const racing = await Promise.all([1, 2, 3].map(() => loadOrCreateHmacKey(admin, ns, 'vault-csi-provider-hmac-key')));
  expect(racing[0]!.length).toBe(32);
  expect(racing.every((key) => key.equals(racing[0]!))).toBe(true);
  const afterRestart = await loadOrCreateHmacKey(admin, ns, 'vault-csi-provider-hmac-key');
  expect(afterRestart.equals(racing[0]!)).toBe(true);
  const secret = await stack.kube.core.readNamespacedSecret({ namespace: ns, name: 'vault-csi-provider-hmac-key' });
  expect(Buffer.from(secret.data?.key ?? '', 'base64').equals(racing[0]!)).toBe(true);
});

it('refuses a Secret whose key is too short, naming the Secret and saying how to fix it', async () => {
  const ns = stack.uniqueName('csi-hmac');
  await stack.createNamespace(ns);
  await stack.kube.core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'short' }, data: { key: Buffer.from('tiny').toString('base64') } },
  });
  const error = await loadOrCreateHmacKey(admin, ns, 'short').catch((refusal: unknown) => refusal);
  expect(error).toBeInstanceOf(HmacKeyError);
  expect((error as Error).message).toMatch(new RegExp(`Secret ${ns}/short: .*at least 32 bytes; delete it`));
  expect((error as Error).message).not.toContain(Buffer.from('tiny').toString('base64'));
});

it("in a pod, with the chart's RBAC only: creates the key, reads it back, and names the missing grant for another Secret", async () => {
  const ns = stack.uniqueName('csi-hmac');
  await stack.createNamespace(ns);
  const account = await providerAccount(stack, ns, 'vault-csi-provider-hmac-key');
  const kube = KubeHttp.inCluster({ root: account.root, env: account.env });
  try {
    const created = await loadOrCreateHmacKey(kube, ns, 'vault-csi-provider-hmac-key');
    const secret = await stack.kube.core.readNamespacedSecret({ namespace: ns, name: 'vault-csi-provider-hmac-key' });
    expect(created.toString('base64')).toBe(secret.data?.key);
    expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('vaultbridge-csi-provider');
    expect((await loadOrCreateHmacKey(kube, ns, 'vault-csi-provider-hmac-key')).equals(created)).toBe(true);

    // The Role lets it get only the Secret the chart names: another name is refused with the fix.
    const error = await loadOrCreateHmacKey(kube, ns, 'other-name').catch((refusal: unknown) => refusal);
    expect(error).toBeInstanceOf(HmacKeyError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `Secret ${ns}/other-name: Kubernetes API answered 403 Forbidden .*; the provider's service account needs "get" on the Secret other-name and "create" on secrets in ${ns}`,
      ),
    );
  } finally {
    kube.close();
    await account.cleanup();
  }
});

it('names the namespace when it does not exist', async () => {
  const ns = stack.uniqueName('csi-hmac-missing');
  const error = await loadOrCreateHmacKey(admin, ns, 'vault-csi-provider-hmac-key').catch(
    (refusal: unknown) => refusal,
  );
  expect(error).toBeInstanceOf(HmacKeyError);
  expect((error as Error).message).toContain(
    `the namespace ${ns} does not exist: set NAMESPACE to the provider's own namespace`,
  );
});
