// Against the real API server: API calls through a KubeConfig from loadKubeConfig share one dispatcher
// (client-node alone builds one per request), and they all succeed.
import * as k8s from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';

test('many API calls, sequential and concurrent, open one dispatcher', async () => {
  const stack = sharedStack();
  const config = loadKubeConfig(stack.handle.kubeconfigPath);
  const core = config.makeApiClient(k8s.CoreV1Api);
  // Count what the reuse layer hands out: one dispatcher object for every request.
  const target = config as unknown as { createDispatcher: (...args: unknown[]) => unknown };
  const patched = target.createDispatcher;
  const seen = new Set<unknown>();
  target.createDispatcher = (...args: unknown[]) => {
    const dispatcher = patched(...args);
    seen.add(dispatcher);
    return dispatcher;
  };
  for (let i = 0; i < 10; i++) expect((await core.readNamespace({ name: 'default' })).metadata?.name).toBe('default');
  const names = await Promise.all(
    Array.from({ length: 40 }, () => core.readNamespace({ name: 'kube-system' }).then((ns) => ns.metadata?.name)),
  );
  expect(new Set(names)).toEqual(new Set(['kube-system']));
  expect(seen.size).toBe(1);
  // A TLS client (CA and client certificate): a real dispatcher, not client-node's "none".
  expect([...seen][0]).toBeDefined();
});
