// Kubernetes API calls end by their deadline against the real API server behind a proxy that accepts
// connections and never answers (a dead link): without one, client-node waits for ever.
import * as k8s from '@kubernetes/client-node';
import { apiServerThroughProxy, sharedStack } from '@vaultbridge/testenv';
import { withAbortSignal, withKubeRequestDeadline } from '../src/kube/request-deadline.ts';

const stack = sharedStack();

test('a call to an API server that never answers fails at the deadline; the same call works once it answers', async () => {
  const { proxy, kubeConfig } = await apiServerThroughProxy(stack.kube.config);
  try {
    const core = withKubeRequestDeadline(kubeConfig, 1_000).makeApiClient(k8s.CoreV1Api);
    proxy.blackhole();
    const error = await core.readNamespace({ name: 'default' }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/abort|timeout/i);
    proxy.restore();
    expect((await core.readNamespace({ name: 'default' })).metadata?.name).toBe('default');
  } finally {
    await proxy.close();
  }
}, 30_000);

test('a call that brings its own signal keeps it (a longer deadline wins over the default)', async () => {
  const { proxy, kubeConfig } = await apiServerThroughProxy(stack.kube.config);
  try {
    const core = withKubeRequestDeadline(kubeConfig, 100).makeApiClient(k8s.CoreV1Api);
    const controller = new AbortController();
    proxy.blackhole();
    const pending = core
      .readNamespace({ name: 'default' }, withAbortSignal(controller.signal))
      .catch((e: unknown) => e);
    // Past the 100 ms default the call is still pending: its own signal decides.
    const raced = await Promise.race([
      pending,
      new Promise((resolve) => setTimeout(() => resolve('still pending'), 1_000)),
    ]);
    expect(raced).toBe('still pending');
    controller.abort(new Error('caller gave up'));
    expect(String(await pending)).toContain('caller gave up');
  } finally {
    proxy.restore();
    await proxy.close();
  }
}, 30_000);

test('patching twice is the same as once', () => {
  const config = new k8s.KubeConfig();
  const once = withKubeRequestDeadline(config, 1_000);
  const method = (once as unknown as { applySecurityAuthentication: unknown }).applySecurityAuthentication;
  expect(
    (withKubeRequestDeadline(once, 5_000) as unknown as { applySecurityAuthentication: unknown })
      .applySecurityAuthentication,
  ).toBe(method);
});
