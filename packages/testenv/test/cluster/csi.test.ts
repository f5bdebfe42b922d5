// The CSI provider in a real pod, called by the real Secrets Store CSI Driver through the kubelet:
// a pod with a SecretProviderClass volume starts with the files, the driver's rotation updates
// them, and secretObjects sync to a Kubernetes Secret.
import { appNamespace, clusterStack, installChart, lastPrint, podLog, printingContainer, waitFor, waitForPodsReady, type ClusterStack } from './support.ts';

const env: ClusterStack = clusterStack();

beforeAll(async () => {
  await installChart(env);
});

describe('the CSI provider with the real driver on a real node', () => {
  it('mounts a SecretProviderClass volume, rotates it and syncs secretObjects to a Secret', async () => {
    const namespace = await appNamespace(env, 'csi');
    const secretPath = `secret/data/${namespace}/web`;
    await env.stack.vaultAdmin.write(secretPath, { data: { password: 'first-password' } });
    const role = `${namespace}-app`;
    await env.stack.writePolicy(role, `path "secret/data/${namespace}/*" { capabilities = ["read"] }`);
    await env.stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [namespace], policies: [role] });

    await env.custom.createNamespacedCustomObject({ group: 'secrets-store.csi.x-k8s.io', version: 'v1', namespace, plural: 'secretproviderclasses', body: {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'web' },
      spec: {
        provider: 'vault',
        parameters: { roleName: role, objects: `- objectName: password\n  secretPath: ${secretPath}\n  secretKey: password\n` },
        secretObjects: [{ secretName: 'web-synced', type: 'Opaque', data: [{ objectName: 'password', key: 'password' }] }],
      },
    } });
    await env.apps.createNamespacedDeployment({ namespace, body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            serviceAccountName: 'app',
            containers: [{ ...printingContainer(env.cluster.images.injector, 'cat /mnt/secrets/password; echo'), volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }] }],
            volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'web' } } }],
          },
        },
      },
    } });
    const [pod] = await waitForPodsReady(env, namespace, 'app=web');
    const name = pod!.metadata!.name!;
    await waitFor(env, namespace, 'the app reading the mounted password', async () =>
      lastPrint(await podLog(env, namespace, name, 'app')) === 'first-password\n' ? true : undefined);
    const syncedPassword = async (): Promise<string | undefined> => {
      const secret = await env.stack.kube.core.readNamespacedSecret({ namespace, name: 'web-synced' });
      return Buffer.from(secret.data?.password ?? '', 'base64').toString();
    };
    expect(await waitFor(env, namespace, 'secretObjects syncing web-synced', async () => ((await syncedPassword()) === 'first-password' ? true : undefined))).toBe(true);

    await env.stack.vaultAdmin.write(secretPath, { data: { password: 'second-password' } });
    // The driver's rotation poll (5 s in the stack) calls the provider again and rewrites the file.
    await waitFor(env, namespace, 'the mounted file rotating', async () =>
      lastPrint(await podLog(env, namespace, name, 'app')) === 'second-password\n' ? true : undefined);
    expect(await waitFor(env, namespace, 'the synced Secret rotating', async () => ((await syncedPassword()) === 'second-password' ? true : undefined))).toBe(true);
  });
});
