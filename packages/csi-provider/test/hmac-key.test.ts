// The object-version HMAC key lives in a Secret on the real API server: every provider process (and
// every restart) gets the same key, also when two create it at once.
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { loadHmacKeyInChild } from '../src/hmac-key-child.ts';
import { loadOrCreateHmacKey } from '../src/hmac-key.ts';

let stack: TestStack;
beforeAll(() => {
  stack = sharedStack();
});

it('creates the key once and hands every caller the same one', async () => {
  const ns = stack.uniqueName('csi-hmac');
  await stack.createNamespace(ns);
  const racing = await Promise.all(
    [1, 2, 3].map(() => loadOrCreateHmacKey(stack.kube.config, ns, 'vault-csi-provider-hmac-key')),
  );
  expect(racing[0]!.length).toBe(32);
  expect(racing.every((key) => key.equals(racing[0]!))).toBe(true);
  const afterRestart = await loadOrCreateHmacKey(stack.kube.config, ns, 'vault-csi-provider-hmac-key');
  expect(afterRestart.equals(racing[0]!)).toBe(true);
  const secret = await stack.kube.core.readNamespacedSecret({ namespace: ns, name: 'vault-csi-provider-hmac-key' });
  expect(Buffer.from(secret.data?.key ?? '', 'base64').equals(racing[0]!)).toBe(true);
});

it('refuses a Secret whose key is too short, saying how to fix it', async () => {
  const ns = stack.uniqueName('csi-hmac');
  await stack.createNamespace(ns);
  await stack.kube.core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'short' }, data: { key: Buffer.from('tiny').toString('base64') } },
  });
  await expect(loadOrCreateHmacKey(stack.kube.config, ns, 'short')).rejects.toThrow(/at least 32 bytes; delete it/);
});

// The provider reads the key in a child process so the Kubernetes client never loads into its own memory.
it('reads the key in a child process: the same key the Secret holds, and why when there is none', async () => {
  const ns = stack.uniqueName('csi-hmac');
  await stack.createNamespace(ns);
  const task = {
    kubeconfigPath: stack.handle.kubeconfigPath,
    namespace: ns,
    secretName: 'vault-csi-provider-hmac-key',
    loggerName: 'test',
    logLevel: 'silent',
  };
  const created = await loadHmacKeyInChild(task);
  if (!created.ok) throw new Error(`the child failed: ${created.message}`);
  const secret = await stack.kube.core.readNamespacedSecret({ namespace: ns, name: 'vault-csi-provider-hmac-key' });
  expect(created.key).toBe(secret.data?.key);
  expect(await loadHmacKeyInChild(task)).toEqual(created);

  const missing = await loadHmacKeyInChild({ ...task, kubeconfigPath: '/nonexistent/kubeconfig' });
  expect(missing).toMatchObject({
    ok: false,
    stage: 'kubeconfig',
    message: expect.stringContaining('/nonexistent/kubeconfig does not exist'),
  });
  await stack.kube.core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'short' }, data: { key: Buffer.from('tiny').toString('base64') } },
  });
  expect(await loadHmacKeyInChild({ ...task, secretName: 'short' })).toMatchObject({
    ok: false,
    stage: 'secret',
    message: expect.stringContaining('at least 32 bytes'),
  });
});
