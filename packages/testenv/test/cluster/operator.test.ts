// The operator in a real pod: a VaultStaticSecret reaches a real Deployment that consumes the
// Secret, and a rotation in Vault rolls the Deployment so new pods come up with the new value.
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
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
const group = 'secrets.vaultbridge.dev';
const version = 'v1beta1';

async function create(namespace: string, plural: string, kind: string, name: string, spec: object): Promise<void> {
  await env.custom.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural,
    body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
  });
}

beforeAll(async () => {
  await installChart(env);
});

/** A namespace whose service account `app` may use `policy` through a VaultConnection and VaultAuth `app`. */
async function operatorNamespace(prefix: string, policy: string): Promise<string> {
  const namespace = await appNamespace(env, prefix);
  const role = `${namespace}-app`;
  await env.stack.writePolicy(role, policy.replaceAll('NAMESPACE', namespace));
  await env.stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
  });
  await create(namespace, 'vaultconnections', 'VaultConnection', 'vault', { address: env.cluster.vaultAddrForPods });
  await create(namespace, 'vaultauths', 'VaultAuth', 'app', {
    vaultConnectionRef: 'vault',
    method: 'kubernetes',
    mount: env.stack.layout.kubernetesAuthMount,
    kubernetes: { role, serviceAccount: 'app', audiences: ['vault'] },
  });
  return namespace;
}

/** A one-replica Deployment `web` whose app container prints `show` (with the given env and volumes). */
async function printingDeployment(
  namespace: string,
  show: string,
  extra: Partial<k8s.V1Container> = {},
  volumes: k8s.V1Volume[] = [],
): Promise<void> {
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
            containers: [{ ...printingContainer(env.cluster.images.injector, show), ...extra }],
            volumes,
          },
        },
      },
    },
  });
}

/** What the newest Running pod of `web` other than `except` prints, once it prints `expected(print)`. */
async function newPodPrinting(
  namespace: string,
  except: string,
  what: string,
  expected: (print: string) => boolean,
): Promise<string> {
  return waitFor(env, namespace, what, async () => {
    for (const pod of (await env.stack.kube.core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items) {
      const name = pod.metadata!.name!;
      if (name === except || pod.status?.phase !== 'Running') continue;
      const print = lastPrint(await podLog(env, namespace, name, 'app'));
      if (print !== undefined && expected(print)) return print;
    }
    return undefined;
  });
}

async function forceSync(namespace: string, plural: string, name: string, value: string): Promise<void> {
  await env.custom.patchNamespacedCustomObject(
    {
      group,
      version,
      namespace,
      plural,
      name,
      body: { metadata: { annotations: { 'secrets.vaultbridge.dev/force-sync': value } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function secretField(namespace: string, name: string, key: string): Promise<string | undefined> {
  const secret = await env.stack.kube.core.readNamespacedSecret({ namespace, name });
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
}

describe('the operator on a real node', () => {
  it('delivers a VaultStaticSecret to a Deployment, and a rotation restarts it with the new value', async () => {
    const namespace = await appNamespace(env, 'op');
    const secretPath = `${namespace}/web`;
    await env.stack.vaultAdmin.write(`secret/data/${secretPath}`, { data: { password: 'first-password' } });
    const role = `${namespace}-app`;
    await env.stack.writePolicy(role, `path "secret/data/${namespace}/*" { capabilities = ["read"] }`);
    await env.stack.writeKubernetesRole(role, {
      serviceAccounts: ['app'],
      namespaces: [namespace],
      policies: [role],
      audience: 'vault',
    });

    await create(namespace, 'vaultconnections', 'VaultConnection', 'vault', { address: env.cluster.vaultAddrForPods });
    await create(namespace, 'vaultauths', 'VaultAuth', 'app', {
      vaultConnectionRef: 'vault',
      method: 'kubernetes',
      mount: env.stack.layout.kubernetesAuthMount,
      kubernetes: { role, serviceAccount: 'app', audiences: ['vault'] },
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
                  ...printingContainer(env.cluster.images.injector, 'echo "password=$PASSWORD"'),
                  env: [
                    { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-credentials', key: 'password' } } },
                  ],
                },
              ],
            },
          },
        },
      },
    });
    await create(namespace, 'vaultstaticsecrets', 'VaultStaticSecret', 'web', {
      vaultAuthRef: 'app',
      mount: 'secret',
      path: secretPath,
      type: 'kv-v2',
      refreshAfter: '1s',
      destination: { name: 'web-credentials', create: true },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
    });

    const [first] = await waitForPodsReady(env, namespace, 'app=web');
    const firstPod = first!.metadata!.name!;
    await waitFor(env, namespace, 'the app seeing the first password', async () =>
      lastPrint(await podLog(env, namespace, firstPod, 'app')) === 'password=first-password\n' ? true : undefined,
    );

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
    expect(
      Object.keys(deployment.spec?.template.metadata?.annotations ?? {}).some((key) => /restartedAt/.test(key)),
    ).toBe(true);
    expect(deployment.status?.observedGeneration).toBeGreaterThan(1);
  });

  it('delivers PostgreSQL credentials from a VaultDynamicSecret; new ones on demand roll the Deployment and log in', async () => {
    const { databaseMount, databaseRole } = env.stack.layout;
    const namespace = await operatorNamespace(
      'op-db',
      `path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }`,
    );
    await printingDeployment(namespace, 'echo "user=$DB_USER"', {
      env: [{ name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'username' } } }],
    });
    await create(namespace, 'vaultdynamicsecrets', 'VaultDynamicSecret', 'db', {
      vaultAuthRef: 'app',
      mount: databaseMount,
      path: `creds/${databaseRole}`,
      destination: { name: 'db-credentials', create: true },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
    });
    const [first] = await waitForPodsReady(env, namespace, 'app=web');
    const firstUser = await waitFor(env, namespace, 'the Secret holding credentials', () =>
      secretField(namespace, 'db-credentials', 'username'),
    );
    await newPodPrinting(namespace, '', 'the app seeing the first user', (print) => print === `user=${firstUser}\n`);

    await forceSync(namespace, 'vaultdynamicsecrets', 'db', 'cluster-test');
    const secondUser = await waitFor(env, namespace, 'new credentials in the Secret', async () => {
      const user = await secretField(namespace, 'db-credentials', 'username');
      return user && user !== firstUser ? user : undefined;
    });
    await newPodPrinting(
      namespace,
      first!.metadata!.name!,
      'a new pod seeing the new user',
      (print) => print === `user=${secondUser}\n`,
    );
    // What the pod got is a real login: the Secret's credentials connect to PostgreSQL.
    const { host, port, database } = env.stack.postgres;
    const client = new pg.Client({
      host,
      port,
      database,
      user: secondUser,
      password: await secretField(namespace, 'db-credentials', 'password'),
    });
    await client.connect();
    try {
      expect((await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user).toBe(secondUser);
    } finally {
      await client.end();
    }
  });

  it('delivers a certificate from a VaultPKISecret to a Deployment volume; a re-issue rolls it', async () => {
    const { pkiMount, pkiRole, pkiDomain } = env.stack.layout;
    const namespace = await operatorNamespace(
      'op-pki',
      `path "${pkiMount}/issue/${pkiRole}" { capabilities = ["update"] }`,
    );
    await printingDeployment(
      namespace,
      'sha256sum /tls/tls.crt | cut -d" " -f1',
      { volumeMounts: [{ name: 'tls', mountPath: '/tls', readOnly: true }] },
      [{ name: 'tls', secret: { secretName: 'web-tls' } }],
    );
    await create(namespace, 'vaultpkisecrets', 'VaultPKISecret', 'web-tls', {
      vaultAuthRef: 'app',
      mount: pkiMount,
      role: pkiRole,
      commonName: `web.${pkiDomain}`,
      ttl: '1h',
      destination: { name: 'web-tls', create: true, type: 'kubernetes.io/tls' },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
    });
    const certSha = async (): Promise<string | undefined> => {
      const pem = await secretField(namespace, 'web-tls', 'tls.crt');
      return pem === undefined ? undefined : createHash('sha256').update(pem).digest('hex');
    };
    const [first] = await waitForPodsReady(env, namespace, 'app=web');
    const firstSha = await waitFor(env, namespace, 'the TLS Secret', certSha);
    await newPodPrinting(namespace, '', 'the app seeing the first certificate', (print) => print === `${firstSha}\n`);

    await forceSync(namespace, 'vaultpkisecrets', 'web-tls', 'cluster-test');
    const secondSha = await waitFor(env, namespace, 'a re-issued certificate', async () => {
      const sha = await certSha();
      return sha && sha !== firstSha ? sha : undefined;
    });
    await newPodPrinting(
      namespace,
      first!.metadata!.name!,
      'a new pod seeing the re-issued certificate',
      (print) => print === `${secondSha}\n`,
    );
  });
});
