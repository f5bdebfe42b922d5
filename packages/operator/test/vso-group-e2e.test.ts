// VSO group mode (issue 11, item 6) end to end: real kube-apiserver and Vault 1.13, the operator
// in-process with serveVsoApiGroup. The objects are the shapes of VSO's documentation examples (its
// Vault-source tutorial: VaultConnection, VaultAuth `static-auth`, VaultStaticSecret `vault-kv-app` into
// Secret `secretkv`; its VaultPKISecret sample; and its database VaultDynamicSecret `vso-db-demo`), pointed at this stack's mounts and role. The
// cluster has no VSO CRDs, so ours are installed under VSO's group (what VSO's own CRDs hold after
// `helm uninstall` is the same objects).
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, V1MicroTime } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { sharedStack, vsoDatabaseSample, vsoPkiSample, vsoPlural, vsoTutorialManifests } from '@vaultbridge/testenv';
import { VSO_API, type Condition } from '../src/api/common.ts';
import { VSO_LEADER_LEASE } from '../src/guards/vso-running.ts';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, waitFor } from './support/e2e.ts';
import { startOperatorProcess } from './support/operator-process.ts';

const stack = sharedStack();
const { layout } = stack;
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const leases = kubeConfig.makeApiClient(CoordinationV1Api);
const apps = kubeConfig.makeApiClient(AppsV1Api);
const namespace = stack.uniqueName('vso-group');
const kvPath = `webapp/${namespace}/config`;
let operator: RunningOperator | undefined;

const start = () =>
  startOperator({
    kubeConfig,
    logger: createLogger({ name: 'vso-group-e2e', level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
    serveVsoApiGroup: true,
  });

// VSO's docs objects (testenv's vso-manifests.ts, shared with the cluster tier), on this stack.
const manifests = [
  ...vsoTutorialManifests({
    vaultAddress: stack.vaultAddr,
    authMount: layout.kubernetesAuthMount,
    role: namespace,
    serviceAccount: 'default',
    kvMount: layout.kvV2Mount,
    kvPath,
    refreshAfter: '30s',
  }),
  vsoPkiSample({ mount: layout.pkiMount, role: layout.pkiRole, commonName: `app.${layout.pkiDomain}` }),
  vsoDatabaseSample({ mount: layout.databaseMount, path: `creds/${namespace}` }),
];

const read = <T>(kind: string, name: string) =>
  custom.getNamespacedCustomObject({ ...VSO_API, namespace, plural: vsoPlural(kind), name }) as Promise<T>;
const condition = (conditions: Condition[] | undefined, type: string) => conditions?.find((item) => item.type === type);

beforeAll(async () => {
  await installCrds(kubeConfig, undefined, { vsoGroup: true });
  await stack.createNamespace(namespace);
  // The API tier runs no controller-manager: the namespace's default service account is made here.
  await stack.createServiceAccount(namespace, 'default');
  await stack.writePolicy(
    namespace,
    `path "${layout.kvV2Mount}/data/${kvPath}" { capabilities = ["read"] }\npath "${layout.pkiMount}/issue/${layout.pkiRole}" { capabilities = ["update"] }\npath "${layout.databaseMount}/creds/${namespace}" { capabilities = ["read"] }`,
  );
  await stack.vaultAdmin.write(`${layout.databaseMount}/roles/${namespace}`, {
    db_name: layout.databaseConnection,
    default_ttl: '1h',
    max_ttl: '2h',
    creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`],
  });
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['default'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${kvPath}`, {
    data: { username: 'static-user', password: 'static-password' },
  });
});

afterAll(async () => {
  await leases.deleteNamespacedLease({ namespace, name: VSO_LEADER_LEASE }).catch(() => undefined);
  if (operator) await deleteSyncedObjects(custom, namespace, 10_000, VSO_API);
  await operator?.stop();
});

test("refuses to start while VSO's controller holds its leader Lease, and says how to switch over", async () => {
  const now = new V1MicroTime();
  await leases.createNamespacedLease({
    namespace,
    body: {
      metadata: { name: VSO_LEADER_LEASE },
      spec: {
        holderIdentity: 'vault-secrets-operator-controller-manager-7d9c_1f2e',
        leaseDurationSeconds: 15,
        acquireTime: now,
        renewTime: now,
      },
    },
  });
  await expect(start()).rejects.toThrow(
    /VSO's controller is running: Lease .*b0d477c0\.hashicorp\.com held by "vault-secrets-operator-controller-manager-7d9c_1f2e".*uninstall VSO first/,
  );
  // The CLI as a pod runs it: exits non-zero and says why and what to do.
  const cli = await startOperatorProcess(stack, namespace, { args: ['--serve-vso-api-group'] });
  const code = await cli.exited;
  expect(code).toBe(1);
  expect(cli.output()).toContain("VSO's controller is running");
  expect(cli.output()).toContain('uninstall VSO first');
  // VSO uninstalled: its Lease is no longer renewed (controller-runtime may leave it behind).
  const old = new V1MicroTime(Date.now() - 120_000);
  await leases.replaceNamespacedLease({
    namespace,
    name: VSO_LEADER_LEASE,
    body: {
      ...(await leases.readNamespacedLease({ namespace, name: VSO_LEADER_LEASE })),
      spec: {
        holderIdentity: 'vault-secrets-operator-controller-manager-7d9c_1f2e',
        leaseDurationSeconds: 15,
        acquireTime: old,
        renewTime: old,
      },
    },
  });
  // Installed without leader election: its chart's Deployment with replicas is enough to refuse.
  const labels = { 'app.kubernetes.io/name': 'vault-secrets-operator', 'control-plane': 'controller-manager' };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'vault-secrets-operator-controller-manager', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'manager', image: 'hashicorp/vault-secrets-operator:1.4.1' }] },
        },
      },
    },
  });
  await expect(start()).rejects.toThrow(
    /VSO's controller is installed: Deployment .*vault-secrets-operator-controller-manager .*uninstall VSO first/,
  );
  await apps.deleteNamespacedDeployment({ namespace, name: 'vault-secrets-operator-controller-manager' });
});

test("VSO's docs objects sync under secrets.hashicorp.com, a Secret VSO created is taken over, and status is VSO's shape", async () => {
  for (const manifest of manifests) {
    await custom.createNamespacedCustomObject({
      ...VSO_API,
      namespace,
      plural: vsoPlural(manifest.kind),
      body: manifest,
    });
  }
  // What VSO left behind for vault-kv-app: its Secret, labelled and owned as VSO writes them, with old data.
  const vss = await read<{ metadata: { uid: string } }>('VaultStaticSecret', 'vault-kv-app');
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name: 'secretkv',
        labels: {
          'app.kubernetes.io/component': 'secret-sync',
          'app.kubernetes.io/managed-by': 'hashicorp-vso',
          'app.kubernetes.io/name': 'vault-secrets-operator',
          'secrets.hashicorp.com/vso-ownerRefUID': vss.metadata.uid,
        },
        ownerReferences: [
          {
            apiVersion: 'secrets.hashicorp.com/v1beta1',
            kind: 'VaultStaticSecret',
            name: 'vault-kv-app',
            uid: vss.metadata.uid,
          },
        ],
      },
      data: { password: Buffer.from('written-by-vso').toString('base64') },
    },
  });

  operator = await start();
  const secret = await waitFor(
    'secretkv synced from Vault',
    async () => {
      const current = await core.readNamespacedSecret({ namespace, name: 'secretkv' });
      return decode(current, 'password') === 'static-password' && current;
    },
    30_000,
  );
  expect(decode(secret, 'username')).toBe('static-user');
  expect(secret.metadata?.ownerReferences).toEqual([
    expect.objectContaining({
      apiVersion: 'secrets.hashicorp.com/v1beta1',
      kind: 'VaultStaticSecret',
      name: 'vault-kv-app',
      uid: vss.metadata.uid,
    }),
  ]);
  expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('vaultbridge-operator');

  const synced = await waitFor('vault-kv-app status', async () => {
    const object = await read<{
      metadata: { generation: number };
      status?: { secretMAC?: string; lastGeneration?: number; conditions?: Condition[] };
    }>('VaultStaticSecret', 'vault-kv-app');
    return condition(object.status?.conditions, 'SecretSynced')?.status === 'True' && object;
  });
  expect(synced.status?.lastGeneration).toBe(synced.metadata.generation);
  expect(synced.status?.secretMAC).toMatch(/^[A-Za-z0-9+/=]+$/);
  expect(condition(synced.status?.conditions, 'Healthy')).toMatchObject({ status: 'True' });

  const tls = await waitFor(
    'pki1 issued',
    () => core.readNamespacedSecret({ namespace, name: 'pki1' }).catch(() => undefined),
    30_000,
  );
  expect(decode(tls, 'certificate')).toContain('BEGIN CERTIFICATE');
  const pki = await waitFor('vaultpkisecret-sample status', async () => {
    const object = await read<{ status?: { serialNumber?: string; valid?: boolean; conditions?: Condition[] } }>(
      'VaultPKISecret',
      'vaultpkisecret-sample',
    );
    return object.status?.serialNumber !== undefined && object;
  });
  expect(pki.status?.valid).toBe(true);
  expect(decode(tls, 'serial_number')).toBe(pki.status?.serialNumber);

  const db = await waitFor(
    'vso-db-demo issued',
    () => core.readNamespacedSecret({ namespace, name: 'vso-db-demo' }).catch(() => undefined),
    30_000,
  );
  expect(decode(db, 'username')).toMatch(/^v-/);
  const dynamic = await waitFor('vso-db-demo status', async () => {
    const object = await read<{
      status?: {
        secretLease?: { id?: string; duration?: number; renewable?: boolean };
        lastRenewalTime?: number;
        conditions?: Condition[];
      };
    }>('VaultDynamicSecret', 'vso-db-demo');
    return object.status?.secretLease?.id !== undefined && object;
  });
  expect(dynamic.status?.secretLease).toMatchObject({
    id: expect.stringContaining(`${layout.databaseMount}/creds/${namespace}/`),
    duration: 3600,
    renewable: true,
  });
  expect(dynamic.status?.lastRenewalTime).toBeGreaterThan(0);

  for (const kind of ['VaultConnection', 'VaultAuth'] as const) {
    const name = kind === 'VaultConnection' ? 'vault-connection' : 'static-auth';
    const object = await waitFor(`${kind} Healthy`, async () => {
      const current = await read<{ status?: { valid?: boolean; conditions?: Condition[] } }>(kind, name);
      return condition(current.status?.conditions, 'Healthy')?.status === 'True' && current;
    });
    expect(object.status?.valid).toBe(true);
  }
  // The Events name the object by VSO's group, as kubectl describe shows them.
  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=vault-kv-app' });
  expect(events.items.map((event) => event.involvedObject.apiVersion)).toContain('secrets.hashicorp.com/v1beta1');
});
