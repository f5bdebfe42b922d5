// The operator in a real pod: a VaultStaticSecret reaches a real Deployment that consumes the
// Secret, and a rotation in Vault rolls the Deployment so new pods come up with the new value.
import { appNamespace, clusterStack, installChart, lastPrint, podLog, printingContainer, waitFor, waitForPodsReady, type ClusterStack } from './support.ts';

const env: ClusterStack = clusterStack();
const group = 'secrets.vaultbridge.dev';
const version = 'v1beta1';

async function create(namespace: string, plural: string, kind: string, name: string, spec: object): Promise<void> {
  await env.custom.createNamespacedCustomObject({ group, version, namespace, plural, body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec } });
}

beforeAll(async () => {
  await installChart(env);
});

describe('the operator on a real node', () => {
  it('delivers a VaultStaticSecret to a Deployment, and a rotation restarts it with the new value', async () => {
    const namespace = await appNamespace(env, 'op');
    const secretPath = `${namespace}/web`;
    await env.stack.vaultAdmin.write(`secret/data/${secretPath}`, { data: { password: 'first-password' } });
    const role = `${namespace}-app`;
    await env.stack.writePolicy(role, `path "secret/data/${namespace}/*" { capabilities = ["read"] }`);
    await env.stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [namespace], policies: [role], audience: 'vault' });

    await create(namespace, 'vaultconnections', 'VaultConnection', 'vault', { address: env.cluster.vaultAddrForPods });
    await create(namespace, 'vaultauths', 'VaultAuth', 'app', { vaultConnectionRef: 'vault', method: 'kubernetes', mount: env.stack.layout.kubernetesAuthMount, kubernetes: { role, serviceAccount: 'app', audiences: ['vault'] } });
    await env.apps.createNamespacedDeployment({ namespace, body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            serviceAccountName: 'app',
            containers: [{
              ...printingContainer(env.cluster.images.injector, 'echo "password=$PASSWORD"'),
              env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-credentials', key: 'password' } } }],
            }],
          },
        },
      },
    } });
    await create(namespace, 'vaultstaticsecrets', 'VaultStaticSecret', 'web', {
      vaultAuthRef: 'app', mount: 'secret', path: secretPath, type: 'kv-v2', refreshAfter: '1s',
      destination: { name: 'web-credentials', create: true },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
    });

    const [first] = await waitForPodsReady(env, namespace, 'app=web');
    const firstPod = first!.metadata!.name!;
    await waitFor(env, namespace, 'the app seeing the first password', async () =>
      lastPrint(await podLog(env, namespace, firstPod, 'app')) === 'password=first-password\n' ? true : undefined);

    await env.stack.vaultAdmin.write(`secret/data/${secretPath}`, { data: { password: 'second-password' } });
    const rolled = await waitFor(env, namespace, 'a new pod seeing the rotated password', async () => {
      const pods = (await env.stack.kube.core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
      for (const pod of pods) {
        const name = pod.metadata!.name!;
        if (name === firstPod || pod.status?.phase !== 'Running') continue;
        if (lastPrint(await podLog(env, namespace, name, 'app')) === 'password=second-password\n') return pod;
      }
      return undefined;
    });
    expect(rolled.metadata?.name).not.toBe(firstPod);
    // The restart came from the operator patching the pod template, as `kubectl rollout restart` does.
    const deployment = await env.apps.readNamespacedDeployment({ namespace, name: 'web' });
    expect(Object.keys(deployment.spec?.template.metadata?.annotations ?? {}).some((key) => /restartedAt/.test(key))).toBe(true);
    expect(deployment.status?.observedGeneration).toBeGreaterThan(1);
  });
});
