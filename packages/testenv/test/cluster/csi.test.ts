// The CSI provider in a real pod, called by the real Secrets Store CSI Driver through the kubelet:
// a pod with a SecretProviderClass volume starts with the files, the driver's rotation updates
// them, and secretObjects sync to a Kubernetes Secret.
import pg from 'pg';
import {
  appNamespace,
  clusterStack,
  installChart,
  lastPrint,
  podLog,
  printingContainer,
  waitFor,
  waitForPodsReady,
  type ClusterStack,
} from './support.ts';

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

    await env.custom.createNamespacedCustomObject({
      group: 'secrets-store.csi.x-k8s.io',
      version: 'v1',
      namespace,
      plural: 'secretproviderclasses',
      body: {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClass',
        metadata: { name: 'web' },
        spec: {
          provider: 'vault',
          parameters: {
            roleName: role,
            objects: `- objectName: password\n  secretPath: ${secretPath}\n  secretKey: password\n`,
          },
          secretObjects: [
            { secretName: 'web-synced', type: 'Opaque', data: [{ objectName: 'password', key: 'password' }] },
          ],
        },
      },
    });
    await env.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              serviceAccountName: 'app',
              containers: [
                {
                  ...printingContainer(env.cluster.images.injector, 'cat /mnt/secrets/password; echo'),
                  volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
                },
              ],
              volumes: [
                {
                  name: 'secrets',
                  csi: {
                    driver: 'secrets-store.csi.k8s.io',
                    readOnly: true,
                    volumeAttributes: { secretProviderClass: 'web' },
                  },
                },
              ],
            },
          },
        },
      },
    });
    const [pod] = await waitForPodsReady(env, namespace, 'app=web');
    const name = pod!.metadata!.name!;
    await waitFor(env, namespace, 'the app reading the mounted password', async () =>
      lastPrint(await podLog(env, namespace, name, 'app')) === 'first-password\n' ? true : undefined,
    );
    const syncedPassword = async (): Promise<string | undefined> => {
      const secret = await env.stack.kube.core.readNamespacedSecret({ namespace, name: 'web-synced' });
      return Buffer.from(secret.data?.password ?? '', 'base64').toString();
    };
    expect(
      await waitFor(env, namespace, 'secretObjects syncing web-synced', async () =>
        (await syncedPassword()) === 'first-password' ? true : undefined,
      ),
    ).toBe(true);

    await env.stack.vaultAdmin.write(secretPath, { data: { password: 'second-password' } });
    // The driver's rotation poll (5 s in the stack) calls the provider again and rewrites the file.
    await waitFor(env, namespace, 'the mounted file rotating', async () =>
      lastPrint(await podLog(env, namespace, name, 'app')) === 'second-password\n' ? true : undefined,
    );
    expect(
      await waitFor(env, namespace, 'the synced Secret rotating', async () =>
        (await syncedPassword()) === 'second-password' ? true : undefined,
      ),
    ).toBe(true);
  });

  it('mounts PostgreSQL credentials from the database engine; the files log in', async () => {
    const { databaseMount, databaseRole } = env.stack.layout;
    const namespace = await appNamespace(env, 'csi-db');
    const role = `${namespace}-app`;
    await env.stack.writePolicy(role, `path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }`);
    await env.stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [namespace], policies: [role] });
    const credentials = `${databaseMount}/creds/${databaseRole}`;
    await env.custom.createNamespacedCustomObject({
      group: 'secrets-store.csi.x-k8s.io',
      version: 'v1',
      namespace,
      plural: 'secretproviderclasses',
      body: {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClass',
        metadata: { name: 'db' },
        spec: {
          provider: 'vault',
          parameters: {
            roleName: role,
            objects: `- objectName: username\n  secretPath: ${credentials}\n  secretKey: username\n- objectName: password\n  secretPath: ${credentials}\n  secretKey: password\n`,
          },
        },
      },
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
          volumes: [
            {
              name: 'db',
              csi: {
                driver: 'secrets-store.csi.k8s.io',
                readOnly: true,
                volumeAttributes: { secretProviderClass: 'db' },
              },
            },
          ],
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
    const { host, port, database } = env.stack.postgres;
    const client = new pg.Client({ host, port, database, user, password });
    await client.connect();
    try {
      expect((await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user).toBe(user);
    } finally {
      await client.end();
    }
  });
});
