// The CSI provider in a real pod, called by the real Secrets Store CSI Driver through the kubelet:
// a pod with a SecretProviderClass volume starts with the files, the driver's rotation updates
// them, and secretObjects sync to a Kubernetes Secret.
import {
  appNamespace,
  appRole,
  chartNamespace,
  clusterStackWithChart,
  createAppDeployment,
  createSecretProviderClass,
  csiVolume,
  lastPrint,
  logsIn,
  podLog,
  printingContainer,
  secretField,
  waitFor,
  waitForPodsReady,
  waitForPrint,
  type ClusterStack,
} from './support.ts';

const env: ClusterStack = clusterStackWithChart();

describe('the CSI provider with the real driver on a real node', () => {
  it('mounts a SecretProviderClass volume, rotates it and syncs secretObjects to a Secret', async () => {
    const namespace = await appNamespace(env, 'csi');
    const secretPath = `secret/data/${namespace}/web`;
    await env.stack.vaultAdmin.write(secretPath, { data: { password: 'first-password' } });
    const role = await appRole(env, namespace);

    await createSecretProviderClass(env, namespace, 'web', {
      roleName: role,
      objects: [{ objectName: 'password', secretPath, secretKey: 'password' }],
      secretObjects: [
        { secretName: 'web-synced', type: 'Opaque', data: [{ objectName: 'password', key: 'password' }] },
      ],
    });
    await createAppDeployment(env, namespace, 'web', {
      containers: [
        {
          ...printingContainer(env.cluster.images.injector, 'cat /mnt/secrets/password; echo'),
          volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
        },
      ],
      volumes: [csiVolume('secrets', 'web')],
    });
    const [pod] = await waitForPodsReady(env, namespace, 'app=web');
    const name = pod!.metadata!.name!;
    await waitForPrint(env, namespace, name, 'first-password\n', 'the app reading the mounted password');
    const synced = (password: string) => async () =>
      (await secretField(env, namespace, 'web-synced', 'password')) === password ? true : undefined;
    expect(await waitFor(env, namespace, 'secretObjects syncing web-synced', synced('first-password'))).toBe(true);

    await env.stack.vaultAdmin.write(secretPath, { data: { password: 'second-password' } });
    // The driver's rotation poll (5 s in the stack) calls the provider again and rewrites the file.
    await waitForPrint(env, namespace, name, 'second-password\n', 'the mounted file rotating');
    expect(await waitFor(env, namespace, 'the synced Secret rotating', synced('second-password'))).toBe(true);
  });

  it('mounts PostgreSQL credentials from the database engine; the files log in', async () => {
    const { databaseMount, databaseRole } = env.stack.layout;
    const namespace = await appNamespace(env, 'csi-db');
    const credentials = `${databaseMount}/creds/${databaseRole}`;
    const role = await appRole(env, namespace, { policy: `path "${credentials}" { capabilities = ["read"] }` });
    await createSecretProviderClass(env, namespace, 'db', {
      roleName: role,
      objects: [
        { objectName: 'username', secretPath: credentials, secretKey: 'username' },
        { objectName: 'password', secretPath: credentials, secretKey: 'password' },
      ],
    });
    await env.stack.kube.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'db-app', labels: { app: 'db' } },
        spec: {
          serviceAccountName: 'app',
          containers: [
            {
              ...printingContainer(
                env.cluster.images.injector,
                'echo "$(cat /mnt/db/username) $(cat /mnt/db/password)"',
              ),
              volumeMounts: [{ name: 'db', mountPath: '/mnt/db', readOnly: true }],
            },
          ],
          volumes: [csiVolume('db', 'db')],
        },
      },
    });
    await waitForPodsReady(env, namespace, 'app=db');
    const [user, password] = await waitFor(env, namespace, 'the app reading both files', async () => {
      const words = lastPrint(await podLog(env, namespace, 'db-app', 'app'))
        ?.trim()
        .split(' ');
      return words?.length === 2 && words[0] && words[1] ? (words as [string, string]) : undefined;
    });
    // One lease for both objects: the username and password belong together and log in.
    await logsIn(env, user, password);
  });

  // The driver sends no token here (the CSIDriver has no tokenRequests), so the mounts above took the
  // provider's TokenRequest fallback; in its pod that and the HMAC key use the service account directly.
  it("in its pod: the HMAC key in the chart's Secret, over the service account, and no Kubernetes warning", async () => {
    const secret = await env.stack.kube.core.readNamespacedSecret({
      namespace: chartNamespace,
      name: 'vault-csi-provider-hmac-key',
    });
    expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('vaultbridge-csi-provider');
    expect(Buffer.from(secret.data?.key ?? '', 'base64')).toHaveLength(32);
    const pods = await env.stack.kube.core.listNamespacedPod({
      namespace: chartNamespace,
      labelSelector: 'app.kubernetes.io/name=vaultbridge-csi-provider',
    });
    expect(pods.items.length).toBeGreaterThan(0);
    for (const pod of pods.items) {
      const log = await podLog(env, chartNamespace, pod.metadata!.name!, 'provider');
      expect(log).not.toMatch(/no Kubernetes access|HMAC key Secret/);
    }
  });
});
