// The object-version HMAC key lives in a Secret on the real API server: every provider process (and
// every restart) gets the same key, also when two create it at once.
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { loadOrCreateHmacKey } from '../src/hmac-key.ts';

let stack: TestStack;
beforeAll(() => {
  stack = sharedStack();
});

it('creates the key once and hands every caller the same one', async () => {
  const ns = stack.uniqueName('csi-hmac');
  await stack.createNamespace(ns);
  const racing = await Promise.all([1, 2, 3].map(() => loadOrCreateHmacKey(stack.kube.config, ns, 'vault-csi-provider-hmac-key')));
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
  await stack.kube.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'short' }, data: { key: Buffer.from('tiny').toString('base64') } } });
  await expect(loadOrCreateHmacKey(stack.kube.config, ns, 'short')).rejects.toThrow(/at least 32 bytes; delete it/);
});
