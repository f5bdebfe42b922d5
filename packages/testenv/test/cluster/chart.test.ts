// The chart installed into a real node: every component runs as a pod from the locally built
// images, its probes pass and its RBAC is enough.
import { chartNamespace, clusterStack, installChart, podLog, release, waitFor, waitForPodsReady } from './support.ts';

const env = clusterStack();

describe('helm install charts/vaultbridge on a real node', () => {
  beforeAll(async () => {
    await installChart(env);
  });

  it('runs every component Ready from the locally built images', async () => {
    const pods = await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
    const byComponent = new Map<string, string[]>();
    for (const pod of pods) {
      const name = pod.metadata?.labels?.['app.kubernetes.io/name'] ?? '?';
      byComponent.set(name, [...(byComponent.get(name) ?? []), pod.spec!.containers[0]!.image!]);
    }
    expect(Object.fromEntries(byComponent)).toEqual({
      'vaultbridge-injector': [env.cluster.images.injector, env.cluster.images.injector],
      'vaultbridge-csi-provider': [env.cluster.images['csi-provider']],
      'vaultbridge-operator': [env.cluster.images.operator],
    });
    // Ready through their readiness probes, and no container restarted (liveness probes pass).
    for (const pod of pods) {
      for (const status of pod.status?.containerStatuses ?? []) {
        expect({ pod: pod.metadata?.name, ready: status.ready, restarts: status.restartCount }).toEqual({ pod: pod.metadata?.name, ready: true, restarts: 0 });
      }
    }
  });

  it('puts the CSI provider socket where the driver on the node looks', async () => {
    const fs = await import('node:fs');
    expect(fs.existsSync(`${env.cluster.providersDir}/vault.sock`)).toBe(true);
  });

  it("logs no 'forbidden' in any component: the chart's RBAC is enough", async () => {
    const pods = await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
    for (const pod of pods) {
      for (const container of pod.spec!.containers) {
        const log = await podLog(env, chartNamespace, pod.metadata!.name!, container.name);
        expect({ pod: pod.metadata?.name, forbidden: log.split('\n').filter((line) => /forbidden/i.test(line)) }).toEqual({ pod: pod.metadata?.name, forbidden: [] });
      }
    }
  });

  it.each([
    ['injector', 'vaultbridge-injector'],
    ['csiProvider', 'vaultbridge-csi-provider'],
    ['operator', 'vaultbridge-operator'],
  ])('turns %s off and on again by values, the others staying Ready', async (component, label) => {
    const pods = (selector: string) => env.stack.kube.core.listNamespacedPod({ namespace: chartNamespace, labelSelector: selector });
    try {
      await installChart(env, [`${component}.enabled=false`]);
      await waitFor(env, chartNamespace, `the ${label} pods gone`, async () => ((await pods(`app.kubernetes.io/name=${label}`)).items.length === 0 ? true : undefined));
      const others = await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
      expect(others.map((p) => p.metadata?.labels?.['app.kubernetes.io/name'])).not.toContain(label);
    } finally {
      await installChart(env);
    }
    expect((await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/name=${label}`)).length).toBeGreaterThan(0);
  });
});
