// VaultDynamicSecret end to end: real kube-apiserver, real Vault database engine, real PostgreSQL, the
// operator in-process. Short database TTLs make renewal, max-TTL rotation and revocation happen in seconds.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { FORCE_SYNC_ANNOTATION, GROUP, VERSION } from '../src/api/common.ts';
import type { VaultDynamicSecret } from '../src/api/vault-dynamic-secret.ts';
import { REVOKE_FINALIZER } from '../src/controllers/dynamic-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import type { RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { connectAndStartOperator, decode, inNamespace, waitFor } from './support/e2e.ts';
import { RESTARTED_AT_ANNOTATION } from '../src/workloads/rollout-restart.ts';

const stack = sharedStack();
const { layout } = stack;
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const apps = kubeConfig.makeApiClient(AppsV1Api);
const namespace = stack.uniqueName('vds');
let operator: RunningOperator;
const objects = inNamespace(custom, core, namespace);

const readVds = (name: string): Promise<VaultDynamicSecret> =>
  objects.read<VaultDynamicSecret>('vaultdynamicsecrets', name);
const condition = (object: VaultDynamicSecret, type: string) =>
  object.status?.conditions?.find((item) => item.type === type);

const { create, readSecret } = objects;

/** A database role of its own, so TTLs can be seconds. */
async function databaseRole(name: string, defaultTtl: string, maxTtl: string): Promise<void> {
  await stack.writeDatabaseRole(name, { defaultTtl, maxTtl });
}

async function logsIn(secret: V1Secret): Promise<boolean> {
  const { host, port, database } = stack.postgres;
  const client = new pg.Client({
    host,
    port,
    database,
    user: decode(secret, 'username'),
    password: decode(secret, 'password'),
  });
  try {
    await client.connect();
    return (await client.query('SELECT 1 AS one')).rows[0]?.one === 1;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function eventReasons(name: string): Promise<string[]> {
  const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => e.reason ?? '');
}

const roles = { renew: `${namespace}-renew`, rotate: `${namespace}-rotate`, revoke: `${namespace}-revoke` };

beforeAll(async () => {
  await installCrds(kubeConfig);
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(
    namespace,
    `
path "${layout.databaseMount}/creds/${namespace}-*" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`,
  );
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
  });
  await databaseRole(roles.renew, '6s', '10m');
  await databaseRole(roles.rotate, '4s', '7s');
  await databaseRole(roles.revoke, '1h', '2h');
  operator = await connectAndStartOperator(stack, namespace, create, 'operator-vds-e2e', {
    runtimePodUid: RUNTIME_POD_UID,
  });
});

/** What the chart passes as OPERATOR_POD_UID (the pod's metadata.uid). */
const RUNTIME_POD_UID = '6f1c2a9e-0b7d-4c3e-9a55-2f8e1d0c4b71';

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
});

test('database credentials land in an owned Secret, log in to PostgreSQL, and the lease is renewed (same credentials)', async () => {
  await create('vaultdynamicsecrets', 'VaultDynamicSecret', 'db', {
    vaultAuthRef: 'auth',
    mount: layout.databaseMount,
    path: `creds/${roles.renew}`,
    renewalPercent: 50,
    destination: { name: 'db-creds', create: true },
  });
  const secret = await waitFor('the destination Secret', () => readSecret('db-creds'));
  expect(await logsIn(secret)).toBe(true);
  expect(JSON.parse(decode(secret, '_raw')!)).toEqual({
    username: decode(secret, 'username'),
    password: decode(secret, 'password'),
  });
  const issued = await waitFor('Ready=True', async () => {
    const object = await readVds('db');
    return condition(object, 'Ready')?.status === 'True' ? object : undefined;
  });
  expect(issued.status?.secretLease).toMatchObject({ duration: 6, renewable: true });
  expect(issued.status?.secretLease?.id).toMatch(new RegExp(`^${layout.databaseMount}/creds/${roles.renew}/`));
  expect(condition(issued, 'SecretSynced')?.message).toContain(`reason InitialSync`);
  // VSO's status fields: the client, the token that owns the lease, the operator pod that synced.
  expect(issued.status?.vaultClientMeta).toMatchObject({
    cacheKey: expect.stringMatching(/^kubernetes-[0-9a-f]{22}$/),
    id: expect.stringMatching(/^[0-9a-f]{16}$/),
  });
  expect(issued.status?.lastRuntimePodUID).toBe(RUNTIME_POD_UID);

  // 50% of 6 s: renewed within ~3 s, keeping the lease and the credentials.
  const renewed = await waitFor(
    'a renewal',
    async () => {
      const object = await readVds('db');
      return (object.status?.lastRenewalTime ?? 0) > (issued.status?.lastRenewalTime ?? 0) ? object : undefined;
    },
    15_000,
  );
  expect(renewed.status?.secretLease?.id).toBe(issued.status?.secretLease?.id);
  expect(condition(renewed, 'LeaseRenewal')).toMatchObject({ status: 'True', reason: 'LeaseRenewed' });
  const after = (await readSecret('db-creds'))!;
  expect(decode(after, 'username')).toBe(decode(secret, 'username'));
  expect(after.metadata?.resourceVersion).toBe(secret.metadata?.resourceVersion);
  expect(await logsIn(after)).toBe(true);
  expect(await eventReasons('db')).toEqual(expect.arrayContaining(['SecretSynced', 'SecretLeaseRenewal']));
});

test('at the max TTL new credentials are issued and the workloads restart; the first issue restarted nothing', async () => {
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'api' },
      spec: {
        selector: { matchLabels: { app: 'api' } },
        template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'busybox' }] } },
      },
    },
  });
  await create('vaultdynamicsecrets', 'VaultDynamicSecret', 'rotating', {
    vaultAuthRef: 'auth',
    mount: layout.databaseMount,
    path: `creds/${roles.rotate}`,
    renewalPercent: 50,
    destination: { name: 'rotating-creds', create: true },
    rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }],
  });
  const first = await waitFor('the first credentials', () => readSecret('rotating-creds'));
  const firstLease = (await waitFor('the first lease', async () => (await readVds('rotating')).status?.secretLease)).id;
  expect(
    (await apps.readNamespacedDeployment({ name: 'api', namespace })).spec?.template?.metadata?.annotations?.[
      RESTARTED_AT_ANNOTATION
    ],
  ).toBeUndefined();

  // TTL 4 s, max TTL 7 s: a renewal is cut short by the max TTL, so the operator issues new credentials.
  const second = await waitFor(
    'new credentials',
    async () => {
      const secret = await readSecret('rotating-creds');
      return secret && decode(secret, 'username') !== decode(first, 'username') ? secret : undefined;
    },
    20_000,
  );
  expect(await logsIn(second)).toBe(true);
  const object = await waitFor('the new lease in status', async () => {
    const vds = await readVds('rotating');
    return vds.status?.secretLease?.id !== firstLease && condition(vds, 'RolloutRestart')?.status === 'True'
      ? vds
      : undefined;
  });
  expect(condition(object, 'SecretSynced')?.message).toMatch(
    /rotated .* reason (LeaseTruncated|LeaseRenewalFailed|LeaseNotRenewable)/,
  );
  const restartedAt = (await apps.readNamespacedDeployment({ name: 'api', namespace })).spec?.template?.metadata
    ?.annotations?.[RESTARTED_AT_ANNOTATION];
  expect(restartedAt).toBeDefined();
  expect(await eventReasons('rotating')).toEqual(
    expect.arrayContaining(['SecretSynced', 'SecretRotated', 'RolloutRestartTriggered']),
  );
});

test('a deleted Secret gets new credentials at once, without waiting for the lease', async () => {
  const old = (await readSecret('db-creds'))!;
  await core.deleteNamespacedSecret({ name: 'db-creds', namespace });
  const recreated = await waitFor(
    'the recreated Secret',
    async () => {
      const secret = await readSecret('db-creds');
      return secret && secret.metadata?.uid !== old.metadata?.uid ? secret : undefined;
    },
    5000,
  );
  expect(decode(recreated, 'username')).not.toBe(decode(old, 'username'));
  expect(await logsIn(recreated)).toBe(true);
});

test('the force-sync annotation issues new credentials now, once per value', async () => {
  const before = (await readSecret('db-creds'))!;
  await custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'vaultdynamicsecrets',
      name: 'db',
      body: { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: 'rotate-1' } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const after = await waitFor(
    'new credentials',
    async () => {
      const secret = await readSecret('db-creds');
      return secret && decode(secret, 'username') !== decode(before, 'username') ? secret : undefined;
    },
    5000,
  );
  expect(await logsIn(after)).toBe(true);
  const object = await waitFor('status.lastForceSync', async () => {
    const vds = await readVds('db');
    return vds.status?.lastForceSync === 'rotate-1' ? vds : undefined;
  });
  expect(condition(object, 'SecretSynced')?.message).toContain('reason ForceSync');
  // The same value does not act again.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(decode((await readSecret('db-creds'))!, 'username')).toBe(decode(after, 'username'));
});

test('revoke: true holds a finalizer and revokes the lease when the object is deleted', async () => {
  await create('vaultdynamicsecrets', 'VaultDynamicSecret', 'revoking', {
    vaultAuthRef: 'auth',
    mount: layout.databaseMount,
    path: `creds/${roles.revoke}`,
    revoke: true,
    destination: { name: 'revoking-creds', create: true },
  });
  const secret = await waitFor('the credentials', () => readSecret('revoking-creds'));
  expect(await logsIn(secret)).toBe(true);
  const object = await waitFor('the finalizer and lease', async () => {
    const vds = await readVds('revoking');
    return vds.metadata.finalizers?.includes(REVOKE_FINALIZER) && vds.status?.secretLease?.id ? vds : undefined;
  });
  const leaseId = object.status!.secretLease!.id;
  await custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'vaultdynamicsecrets',
    name: 'revoking',
  });
  await waitFor('the object to be gone', async () => (await readVds('revoking').catch(() => undefined)) === undefined);
  await expect(stack.vaultAdmin.write('sys/leases/lookup', { lease_id: leaseId })).rejects.toThrow(/invalid lease|400/);
  // Revoking a database lease drops the role: the credentials no longer log in.
  expect(await logsIn(secret)).toBe(false);
});

test('allowStaticCreds: a static database role is synced, and Vault rotating its password reaches the Secret and restarts the workload', async () => {
  const staticRole = `${namespace}-static`;
  const pgUser = `static_${namespace.replace(/-/g, '_')}`;
  const { host, port, database, user, password } = stack.postgres;
  const admin = new pg.Client({ host, port, database, user, password });
  await admin.connect();
  await admin.query(`CREATE ROLE "${pgUser}" WITH LOGIN PASSWORD 'set-by-hand'`);
  await admin.end();
  await stack.vaultAdmin.write(`${layout.databaseMount}/static-roles/${staticRole}`, {
    db_name: layout.databaseConnection,
    username: pgUser,
    rotation_period: '5s',
  });
  await stack.writePolicy(
    namespace,
    `
path "${layout.databaseMount}/creds/${namespace}-*" { capabilities = ["read"] }
path "${layout.databaseMount}/static-creds/${staticRole}" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`,
  );
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'static-app' },
      spec: {
        selector: { matchLabels: { app: 'static-app' } },
        template: {
          metadata: { labels: { app: 'static-app' } },
          spec: { containers: [{ name: 'app', image: 'busybox' }] },
        },
      },
    },
  });
  await create('vaultdynamicsecrets', 'VaultDynamicSecret', 'static', {
    vaultAuthRef: 'auth',
    mount: layout.databaseMount,
    path: `static-creds/${staticRole}`,
    allowStaticCreds: true,
    destination: { name: 'static-creds', create: true },
    rolloutRestartTargets: [{ kind: 'Deployment', name: 'static-app' }],
  });
  const first = await waitFor('the static credentials', () => readSecret('static-creds'));
  expect(decode(first, 'username')).toBe(pgUser);
  expect(await logsIn(first)).toBe(true);
  const synced = await waitFor('staticCredsMetaData', async () => {
    const object = await readVds('static');
    return object.status?.staticCredsMetaData ? object : undefined;
  });
  expect(synced.status?.staticCredsMetaData).toMatchObject({ rotationPeriod: 5 });
  expect(synced.status?.secretLease?.duration).toBe(0);

  // Vault rotates the password every 5 s; the operator reads again just after each rotation.
  const rotated = await waitFor(
    'the rotated password',
    async () => {
      const secret = await readSecret('static-creds');
      return secret && decode(secret, 'password') !== decode(first, 'password') ? secret : undefined;
    },
    20_000,
  );
  expect(await logsIn(rotated)).toBe(true);
  expect(await logsIn(first)).toBe(false);
  await waitFor(
    'the workload restart',
    async () =>
      (await apps.readNamespacedDeployment({ name: 'static-app', namespace })).spec?.template?.metadata?.annotations?.[
        RESTARTED_AT_ANNOTATION
      ] !== undefined,
  );
  // Vault would go on rotating it every 5 s for the rest of the run.
  await stack.vaultAdmin.delete(`${layout.databaseMount}/static-roles/${staticRole}`);
});

test('a path the Vault role may not read is Ready=False naming it, and no Secret is written', async () => {
  await create('vaultdynamicsecrets', 'VaultDynamicSecret', 'forbidden', {
    vaultAuthRef: 'auth',
    mount: layout.databaseMount,
    path: `creds/${layout.databaseRole}`,
    destination: { name: 'forbidden-creds', create: true },
  });
  const object = await waitFor('Ready=False', async () => {
    const vds = await readVds('forbidden');
    return condition(vds, 'Ready')?.status === 'False' ? vds : undefined;
  });
  expect(condition(object, 'Ready')).toMatchObject({ reason: 'VaultPermissionDenied' });
  expect(condition(object, 'Ready')?.message).toContain(`${layout.databaseMount}/creds/${layout.databaseRole}`);
  expect(await readSecret('forbidden-creds')).toBeUndefined();
});
