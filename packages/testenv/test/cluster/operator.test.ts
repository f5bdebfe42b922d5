// The operator in a real pod: a VaultStaticSecret reaches a real Deployment that consumes the
// Secret, and a rotation in Vault rolls the Deployment so new pods come up with the new value.
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import {
  appNamespace,
  appRole,
  clusterStackWithChart,
  createAppDeployment,
  createOperatorAuth,
  createOperatorObject,
  logsIn,
  operatorGroup,
  operatorVersion,
  podPrinting,
  printingContainer,
  secretField,
  waitFor,
  waitForPodsReady,
  waitForPrint,
  type ClusterStack,
} from './support.ts';

const env: ClusterStack = clusterStackWithChart();

/** A namespace whose service account `app` may use `policy` through a VaultConnection and VaultAuth `app`. */
async function operatorNamespace(prefix: string, policy?: (namespace: string) => string): Promise<string> {
  const namespace = await appNamespace(env, prefix);
  const role = await appRole(env, namespace, {
    ...(policy === undefined ? {} : { policy: policy(namespace) }),
    audience: 'vault',
  });
  await createOperatorAuth(env, namespace, role);
  return namespace;
}

/** A one-replica Deployment `web` whose app container prints `show` (with the given env and volumes). */
async function printingDeployment(
  namespace: string,
  show: string,
  extra: Partial<k8s.V1Container> = {},
  volumes: k8s.V1Volume[] = [],
): Promise<void> {
  await createAppDeployment(env, namespace, 'web', {
    containers: [{ ...printingContainer(env.cluster.images.injector, show), ...extra }],
    volumes,
  });
}

/** What the first Running pod of `web` other than `except` prints, once it prints `expected`. */
async function newPodPrinting(namespace: string, except: string, what: string, expected: string): Promise<string> {
  return (await podPrinting(env, namespace, 'app=web', what, (print) => print === expected, { except })).pod;
}

async function forceSync(namespace: string, plural: string, name: string, value: string): Promise<void> {
  await env.custom.patchNamespacedCustomObject(
    {
      group: operatorGroup,
      version: operatorVersion,
      namespace,
      plural,
      name,
      body: { metadata: { annotations: { 'secrets.vaultbridge.dev/force-sync': value } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

describe('the operator on a real node', () => {
  it('delivers a VaultStaticSecret to a Deployment, and a rotation restarts it with the new value', async () => {
    const namespace = await operatorNamespace('op');
    const secretPath = `${namespace}/web`;
    await env.stack.vaultAdmin.write(`secret/data/${secretPath}`, { data: { password: 'first-password' } });
    await printingDeployment(namespace, 'echo "password=$PASSWORD"', {
      env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-credentials', key: 'password' } } }],
    });
    await createOperatorObject(env, namespace, 'vaultstaticsecrets', 'VaultStaticSecret', 'web', {
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
    await waitForPrint(env, namespace, firstPod, 'password=first-password\n', 'the app seeing the first password');

    await env.stack.vaultAdmin.write(`secret/data/${secretPath}`, { data: { password: 'second-password' } });
    const rolled = await newPodPrinting(
      namespace,
      firstPod,
      'a new pod seeing the rotated password',
      'password=second-password\n',
    );
    expect(rolled).not.toBe(firstPod);
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
      () => `path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }`,
    );
    await printingDeployment(namespace, 'echo "user=$DB_USER"', {
      env: [{ name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'username' } } }],
    });
    await createOperatorObject(env, namespace, 'vaultdynamicsecrets', 'VaultDynamicSecret', 'db', {
      vaultAuthRef: 'app',
      mount: databaseMount,
      path: `creds/${databaseRole}`,
      destination: { name: 'db-credentials', create: true },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
    });
    const [first] = await waitForPodsReady(env, namespace, 'app=web');
    const firstUser = await waitFor(env, namespace, 'the Secret holding credentials', () =>
      secretField(env, namespace, 'db-credentials', 'username'),
    );
    await newPodPrinting(namespace, '', 'the app seeing the first user', `user=${firstUser}\n`);

    await forceSync(namespace, 'vaultdynamicsecrets', 'db', 'cluster-test');
    const secondUser = await waitFor(env, namespace, 'new credentials in the Secret', async () => {
      const user = await secretField(env, namespace, 'db-credentials', 'username');
      return user && user !== firstUser ? user : undefined;
    });
    await newPodPrinting(namespace, first!.metadata!.name!, 'a new pod seeing the new user', `user=${secondUser}\n`);
    // What the pod got is a real login: the Secret's credentials connect to PostgreSQL.
    await logsIn(env, secondUser, await secretField(env, namespace, 'db-credentials', 'password'));
  });

  it('delivers a certificate from a VaultPKISecret to a Deployment volume; a re-issue rolls it', async () => {
    const { pkiMount, pkiRole, pkiDomain } = env.stack.layout;
    const namespace = await operatorNamespace(
      'op-pki',
      () => `path "${pkiMount}/issue/${pkiRole}" { capabilities = ["update"] }`,
    );
    await printingDeployment(
      namespace,
      'sha256sum /tls/tls.crt | cut -d" " -f1',
      { volumeMounts: [{ name: 'tls', mountPath: '/tls', readOnly: true }] },
      [{ name: 'tls', secret: { secretName: 'web-tls' } }],
    );
    await createOperatorObject(env, namespace, 'vaultpkisecrets', 'VaultPKISecret', 'web-tls', {
      vaultAuthRef: 'app',
      mount: pkiMount,
      role: pkiRole,
      commonName: `web.${pkiDomain}`,
      ttl: '1h',
      destination: { name: 'web-tls', create: true, type: 'kubernetes.io/tls' },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
    });
    const certSha = async (): Promise<string | undefined> => {
      const pem = await secretField(env, namespace, 'web-tls', 'tls.crt');
      return pem === undefined ? undefined : createHash('sha256').update(pem).digest('hex');
    };
    const [first] = await waitForPodsReady(env, namespace, 'app=web');
    const firstSha = await waitFor(env, namespace, 'the TLS Secret', certSha);
    await newPodPrinting(namespace, '', 'the app seeing the first certificate', `${firstSha}\n`);

    await forceSync(namespace, 'vaultpkisecrets', 'web-tls', 'cluster-test');
    const secondSha = await waitFor(env, namespace, 'a re-issued certificate', async () => {
      const sha = await certSha();
      return sha && sha !== firstSha ? sha : undefined;
    });
    await newPodPrinting(
      namespace,
      first!.metadata!.name!,
      'a new pod seeing the re-issued certificate',
      `${secondSha}\n`,
    );
  });
});
