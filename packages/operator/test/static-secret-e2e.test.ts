// VaultStaticSecret end to end against the real stack: kube-apiserver + OpenBao, the operator in-process.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import { GROUP, VERSION } from '../src/api/common.ts';
import type { VaultStaticSecret } from '../src/api/vault-static-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import type { RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { connectAndStartOperator, decode, inNamespace, setUpAppRole, waitFor } from './support/e2e.ts';
import { secretMac } from '../src/sync/hmac.ts';
import { RESTARTED_AT_ANNOTATION } from '../src/workloads/rollout-restart.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const apps = kubeConfig.makeApiClient(AppsV1Api);
const namespace = stack.uniqueName('vss');
const vaultPath = `e2e/${namespace}/app`;
let operator: RunningOperator;
const objects = inNamespace(custom, core, namespace);

const readVss = (name: string): Promise<VaultStaticSecret> =>
  objects.read<VaultStaticSecret>('vaultstaticsecrets', name);

const condition = (object: VaultStaticSecret, type: string) =>
  object.status?.conditions?.find((item) => item.type === type);

const { create, readSecret } = objects;

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpAppRole(stack, namespace, vaultPath, { username: 'app', password: 'first-password' });

  operator = await connectAndStartOperator(stack, namespace, create, 'operator-e2e');
});

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
});

test('a KV v2 secret is synced into an owned Secret, status Ready with a MAC', async () => {
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'app', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1s',
    destination: { name: 'app-secret', create: true, labels: { team: 'web' } },
  });
  const secret = await waitFor('the destination Secret', () => readSecret('app-secret'));
  expect(decode(secret, 'username')).toBe('app');
  expect(decode(secret, 'password')).toBe('first-password');
  expect(JSON.parse(decode(secret, '_raw')!)).toMatchObject({
    data: { username: 'app', password: 'first-password' },
    metadata: { version: 1 },
  });
  expect(secret.metadata?.labels).toMatchObject({
    'app.kubernetes.io/managed-by': 'vaultbridge-operator',
    team: 'web',
  });
  const vss = await waitFor('Ready=True', async () => {
    const object = await readVss('app');
    return condition(object, 'Ready')?.status === 'True' && object;
  });
  expect(secret.metadata?.ownerReferences).toEqual([
    { apiVersion: `${GROUP}/${VERSION}`, kind: 'VaultStaticSecret', name: 'app', uid: vss.metadata.uid },
  ]);
  expect(vss.status?.secretMAC).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  expect(vss.status?.lastGeneration).toBe(vss.metadata.generation);
  expect(condition(vss, 'Ready')).toMatchObject({ reason: 'Ready', observedGeneration: vss.metadata.generation });
  expect(condition(vss, 'SecretSynced')?.status).toBe('True');
  // VSO's status fields, for tools written for VSO: the client's cache key and the token's id.
  expect(vss.status?.vaultClientMeta?.cacheKey).toMatch(/^kubernetes-[0-9a-f]{22}$/);
  expect(vss.status?.vaultClientMeta?.id).toMatch(/^[0-9a-f]{16}$/);
  // The MAC is over the synced data with the key the operator keeps in a Secret (so MACs survive restarts).
  const keySecret = await readSecret('vaultbridge-operator-hmac-key');
  const macKey = Buffer.from(keySecret?.data?.key ?? '', 'base64');
  expect(macKey.length).toBe(32);
  expect(vss.status?.secretMAC).toBe(secretMac(macKey, secret.data ?? {}));
});

test('a change in Vault reaches the Secret within refreshAfter', async () => {
  const before = (await readVss('app')).status?.secretMAC;
  const readyAt = condition(await readVss('app'), 'Ready')?.lastTransitionTime;
  await stack.vaultAdmin.write(`secret/data/${vaultPath}`, { data: { username: 'app', password: 'second-password' } });
  await waitFor(
    'the rotated password',
    async () => decode((await readSecret('app-secret'))!, 'password') === 'second-password',
  );
  const after = await waitFor('the new MAC', async () => {
    const object = await readVss('app');
    return object.status?.secretMAC !== before && object;
  });
  // Still Ready: the transition time of an unchanged condition is kept.
  expect(condition(after, 'Ready')?.lastTransitionTime).toBe(readyAt);
});

// refreshAfter 1h: the repairs below come from watching the destination, not from polling Vault.
test('a deleted destination Secret is recreated without polling Vault', async () => {
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'steady', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'steady-secret', create: true },
  });
  await waitFor('Ready=True', async () => condition(await readVss('steady'), 'Ready')?.status === 'True');
  const old = (await readSecret('steady-secret'))!;
  await core.deleteNamespacedSecret({ name: 'steady-secret', namespace });
  const recreated = await waitFor(
    'the recreated Secret',
    async () => {
      const secret = await readSecret('steady-secret');
      return secret && secret.metadata?.uid !== old.metadata?.uid && secret;
    },
    5000,
  );
  expect(decode(recreated, 'password')).toBe('second-password');
});

test('an edited key of the destination Secret is restored without polling Vault', async () => {
  const secret = (await readSecret('steady-secret'))!;
  await core.replaceNamespacedSecret({
    name: 'steady-secret',
    namespace,
    body: { ...secret, data: { ...secret.data, password: Buffer.from('tampered').toString('base64') } },
  });
  await waitFor(
    'the restored password',
    async () => decode((await readSecret('steady-secret'))!, 'password') === 'second-password',
    5000,
  );
});

test('a change costs one Vault read: our own Secret write is not "repaired" by reading Vault again', async () => {
  const countedPath = `e2e/${namespace}/counted`;
  const route = `GET /v1/secret/data/${countedPath}`;
  await stack.vaultAdmin.write(`secret/data/${countedPath}`, { data: { password: 'rotation-0' } });
  // refreshAfter 1h: every read below comes from a force-sync or from the destination watch.
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'counted', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: countedPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'counted-secret', create: true },
  });
  await waitFor('Ready=True', async () => condition(await readVss('counted'), 'Ready')?.status === 'True');
  const macKey = Buffer.from((await readSecret('vaultbridge-operator-hmac-key'))?.data?.key ?? '', 'base64');
  const before = (await stack.requestCounts()).byRoute[route] ?? 0;
  const rotations = 5;
  for (let index = 1; index <= rotations; index++) {
    await stack.vaultAdmin.write(`secret/data/${countedPath}`, { data: { password: `rotation-${index}` } });
    await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'vaultstaticsecrets',
        name: 'counted',
        body: { metadata: { annotations: { 'secrets.vaultbridge.dev/force-sync': `rotation-${index}` } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const secret = await waitFor(`rotation ${index} in the Secret`, async () => {
      const current = await readSecret('counted-secret');
      return current && decode(current, 'password') === `rotation-${index}` && current;
    });
    // The status MAC is written after the Secret; only then is the whole sync done.
    await waitFor(
      `the MAC of rotation ${index}`,
      async () => (await readVss('counted')).status?.secretMAC === secretMac(macKey, secret.data ?? {}),
    );
  }
  // The watch event of the last write reaches the operator within milliseconds; give a repair time to show.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const reads = ((await stack.requestCounts()).byRoute[route] ?? 0) - before;
  expect(reads).toBe(rotations);
});

test('a VaultStaticSecret whose VaultAuth does not exist is Ready=False naming the ref, and leaves an existing Secret alone', async () => {
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'precious' }, data: { keep: Buffer.from('me').toString('base64') } },
  });
  const original = (await readSecret('precious'))!;
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'broken', {
    vaultAuthRef: 'missing-auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    destination: { name: 'precious', create: true, overwrite: true },
  });
  const broken = await waitFor('Ready=False', async () => {
    const object = await readVss('broken');
    return condition(object, 'Ready')?.status === 'False' && object;
  });
  expect(condition(broken, 'Ready')).toMatchObject({
    reason: 'VaultAuthNotFound',
    observedGeneration: broken.metadata.generation,
  });
  // SecretSynced=False from the first failure on (VSO's shape; the Synced printer column reads it).
  expect(condition(broken, 'SecretSynced')).toMatchObject({ status: 'False', reason: 'VaultAuthNotFound' });
  expect(condition(broken, 'Ready')?.message).toContain(
    `spec.vaultAuthRef: VaultAuth ${namespace}/missing-auth not found`,
  );
  expect(condition(broken, 'Ready')?.message).not.toContain('second-password');
  const after = (await readSecret('precious'))!;
  expect(after.metadata?.resourceVersion).toBe(original.metadata?.resourceVersion);
  expect(decode(after, 'keep')).toBe('me');
  // The good one is unaffected by its broken neighbour.
  expect(condition(await readVss('app'), 'Ready')?.status).toBe('True');
});

test('a Secret the object does not own is not overwritten without overwrite', async () => {
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'not-ours' }, data: { keep: Buffer.from('me').toString('base64') } },
  });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'no-overwrite', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    destination: { name: 'not-ours', create: true },
  });
  const object = await waitFor('Ready=False', async () => {
    const vss = await readVss('no-overwrite');
    return condition(vss, 'Ready')?.status === 'False' && vss;
  });
  expect(condition(object, 'Ready')).toMatchObject({ reason: 'DestinationNotOwned' });
  expect(condition(object, 'Ready')?.message).toContain('spec.destination.overwrite');
  expect(decode((await readSecret('not-ours'))!, 'keep')).toBe('me');
});

test('a 403 from Vault is Ready=False naming the path', async () => {
  await stack.vaultAdmin.write(`secret/data/e2e-forbidden/${namespace}`, { data: { a: 'b' } });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'forbidden', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: `e2e-forbidden/${namespace}`,
    type: 'kv-v2',
    destination: { name: 'forbidden', create: true },
  });
  const object = await waitFor('Ready=False', async () => {
    const vss = await readVss('forbidden');
    return condition(vss, 'Ready')?.status === 'False' && vss;
  });
  expect(condition(object, 'Ready')).toMatchObject({ reason: 'VaultPermissionDenied' });
  expect(condition(object, 'Ready')?.message).toContain(`secret/e2e-forbidden/${namespace}`);
  expect(await readSecret('forbidden')).toBeUndefined();
});

// Rollout restarts. No kubelet or controller-manager here: the API server stores the workloads, and the
// restart is the pod-template annotation their controllers would act on.
function workloadSpec(app: string, paused = false) {
  return {
    selector: { matchLabels: { app } },
    template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
    ...(paused ? { paused: true } : {}),
  };
}

const restartedAt = (workload: V1Deployment | undefined) =>
  workload?.spec?.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];

async function eventsFor(name: string): Promise<{ reason: string; type: string; message: string }[]> {
  const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', message: e.message ?? '' }));
}

test('a change of the Vault data restarts the rollout targets; the first sync and a drift repair do not', async () => {
  const path = `e2e/${namespace}/restart`;
  await stack.vaultAdmin.write(`secret/data/${path}`, { data: { token: 'one' } });
  await apps.createNamespacedDeployment({ namespace, body: { metadata: { name: 'web' }, spec: workloadSpec('web') } });
  await apps.createNamespacedStatefulSet({
    namespace,
    body: { metadata: { name: 'db' }, spec: { ...workloadSpec('db'), serviceName: 'db' } },
  });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'restarting', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path,
    type: 'kv-v2',
    refreshAfter: '1s',
    destination: { name: 'restarting-secret', create: true },
    rolloutRestartTargets: [
      { kind: 'Deployment', name: 'web' },
      { kind: 'StatefulSet', name: 'db' },
    ],
  });
  const first = await waitFor('the first sync', async () => {
    const object = await readVss('restarting');
    return object.status?.secretMAC ? object : undefined;
  });
  expect(condition(first, 'RolloutRestart')).toBeUndefined();

  // Drift repair restores the Secret; the Vault data did not change, so nothing restarts.
  const secret = (await readSecret('restarting-secret'))!;
  await core.replaceNamespacedSecret({
    name: 'restarting-secret',
    namespace,
    body: { ...secret, data: { token: Buffer.from('tampered').toString('base64') } },
  });
  await waitFor('the repaired Secret', async () => decode((await readSecret('restarting-secret'))!, 'token') === 'one');
  // Several refreshes (refreshAfter 1s) with unchanged data: still no restart.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect(restartedAt(await apps.readNamespacedDeployment({ name: 'web', namespace }))).toBeUndefined();
  expect(
    restartedAt((await apps.readNamespacedStatefulSet({ name: 'db', namespace })) as V1Deployment),
  ).toBeUndefined();

  const changedAt = Date.now();
  await stack.vaultAdmin.write(`secret/data/${path}`, { data: { token: 'two' } });
  const deployment = await waitFor('the Deployment restart', async () => {
    const web = await apps.readNamespacedDeployment({ name: 'web', namespace });
    return restartedAt(web) ? web : undefined;
  });
  expect(Date.parse(restartedAt(deployment)!)).toBeGreaterThanOrEqual(changedAt - 1000);
  expect(restartedAt((await apps.readNamespacedStatefulSet({ name: 'db', namespace })) as V1Deployment)).toBeDefined();
  expect(decode((await readSecret('restarting-secret'))!, 'token')).toBe('two');
  const after = await waitFor('RolloutRestart=True', async () => {
    const object = await readVss('restarting');
    return condition(object, 'RolloutRestart')?.status === 'True' && object;
  });
  expect(condition(after, 'RolloutRestart')).toMatchObject({
    reason: 'RolloutRestartTriggered',
    message: 'restarted Deployment web, StatefulSet db',
  });
  const events = await waitFor('the Events', async () => {
    const list = await eventsFor('restarting');
    return list.filter((e) => e.reason === 'RolloutRestartTriggered').length === 2 && list;
  });
  expect(events).toEqual(
    expect.arrayContaining([
      { reason: 'SecretSynced', type: 'Normal', message: `Secret restarting-secret created from secret/${path}` },
      { reason: 'SecretSynced', type: 'Normal', message: `Secret restarting-secret updated from secret/${path}` },
      { reason: 'RolloutRestartTriggered', type: 'Normal', message: 'Rollout restart triggered for Deployment web' },
      { reason: 'RolloutRestartTriggered', type: 'Normal', message: 'Rollout restart triggered for StatefulSet db' },
    ]),
  );
  expect(JSON.stringify(events)).not.toMatch(/\b(one|two)\b/);

  // One restart per change: further refreshes of the same data leave the annotation as it is.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect(restartedAt(await apps.readNamespacedDeployment({ name: 'web', namespace }))).toBe(restartedAt(deployment));
});

test('objects changing together restart a shared workload once (batched), and each reports it', async () => {
  const paths = ['batch-a', 'batch-b'].map((name) => `e2e/${namespace}/${name}`);
  for (const path of paths) await stack.vaultAdmin.write(`secret/data/${path}`, { data: { token: 'one' } });
  await apps.createNamespacedDeployment({
    namespace,
    body: { metadata: { name: 'shared' }, spec: workloadSpec('shared') },
  });
  for (const [index, path] of paths.entries()) {
    await create('vaultstaticsecrets', 'VaultStaticSecret', `batch-${index}`, {
      vaultAuthRef: 'auth',
      mount: 'secret',
      path,
      type: 'kv-v2',
      refreshAfter: '1h',
      destination: { name: `batch-${index}`, create: true },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'shared' }],
    });
  }
  for (const index of [0, 1])
    await waitFor('the first sync', async () => (await readVss(`batch-${index}`)).status?.secretMAC);
  const before = (await apps.readNamespacedDeployment({ name: 'shared', namespace })).metadata?.generation ?? 0;

  for (const path of paths) await stack.vaultAdmin.write(`secret/data/${path}`, { data: { token: 'two' } });
  // Both objects sync at once (force-sync wakes them now instead of at refreshAfter).
  await Promise.all(
    [0, 1].map((index) =>
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: 'vaultstaticsecrets',
          name: `batch-${index}`,
          body: { metadata: { annotations: { 'secrets.vaultbridge.dev/force-sync': 'now' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    ),
  );
  for (const index of [0, 1]) {
    const object = await waitFor('RolloutRestart=True', async () => {
      const vss = await readVss(`batch-${index}`);
      return condition(vss, 'RolloutRestart')?.status === 'True' ? vss : undefined;
    });
    expect(condition(object, 'RolloutRestart')).toMatchObject({
      reason: 'RolloutRestartTriggered',
      message: 'restarted Deployment shared',
    });
    await waitFor('the Event', async () =>
      (await eventsFor(`batch-${index}`)).some((e) => e.reason === 'RolloutRestartTriggered'),
    );
  }
  // One pod-template change for both: one rollout.
  expect((await apps.readNamespacedDeployment({ name: 'shared', namespace })).metadata?.generation).toBe(before + 1);
});

test('a paused Deployment and a missing target are reported, and the Secret is still synced', async () => {
  const path = `e2e/${namespace}/restart-failing`;
  await stack.vaultAdmin.write(`secret/data/${path}`, { data: { token: 'one' } });
  await apps.createNamespacedDeployment({
    namespace,
    body: { metadata: { name: 'paused-web' }, spec: workloadSpec('paused-web', true) },
  });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'restart-failing', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path,
    type: 'kv-v2',
    refreshAfter: '1s',
    destination: { name: 'restart-failing-secret', create: true },
    rolloutRestartTargets: [
      { kind: 'Deployment', name: 'paused-web' },
      { kind: 'DaemonSet', name: 'ghost' },
    ],
  });
  await waitFor('the first sync', async () => (await readVss('restart-failing')).status?.secretMAC);
  await stack.vaultAdmin.write(`secret/data/${path}`, { data: { token: 'two' } });
  const object = await waitFor('RolloutRestart=False', async () => {
    const vss = await readVss('restart-failing');
    return condition(vss, 'RolloutRestart')?.status === 'False' && vss;
  });
  expect(condition(object, 'RolloutRestart')?.reason).toBe('RolloutRestartTriggeredFailed');
  expect(condition(object, 'RolloutRestart')?.message).toContain('Deployment paused-web: the Deployment is paused');
  expect(condition(object, 'RolloutRestart')?.message).toContain('DaemonSet ghost: not found in this namespace');
  expect(condition(object, 'Ready')?.status).toBe('True');
  expect(decode((await readSecret('restart-failing-secret'))!, 'token')).toBe('two');
  expect(restartedAt(await apps.readNamespacedDeployment({ name: 'paused-web', namespace }))).toBeUndefined();
  await waitFor(
    'the Warning Events',
    async () =>
      (await eventsFor('restart-failing')).filter((e) => e.type === 'Warning' && e.reason === 'RolloutRestartFailed')
        .length === 2,
  );
});

test('a failure is recorded as one Warning Event, not one per retry', async () => {
  await waitFor('the 403 Event', async () =>
    (await eventsFor('forbidden')).some((e) => e.reason === 'VaultPermissionDenied'),
  );
  // The forbidden object keeps failing with back-off (200 ms to 2 s here); its status says so, Events do not repeat.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const warnings = (await eventsFor('forbidden')).filter((e) => e.reason === 'VaultPermissionDenied');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ type: 'Warning' });
  expect(warnings[0]?.message).toContain(`secret/e2e-forbidden/${namespace}`);
});

test('destination.transformation: a template key, excluded raw keys and no _raw', async () => {
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'shaped', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: {
      name: 'shaped-secret',
      create: true,
      transformation: {
        templates: {
          'config.ini': {
            text: '[db]\nuser = {{Secrets.username}}\npassword = {{Secrets.password}}\nversion = {{Metadata.version}}\n',
          },
        },
        excludes: ['^password$'],
        excludeRaw: true,
      },
    },
  });
  const secret = await waitFor('the shaped Secret', () => readSecret('shaped-secret'));
  expect(Object.keys(secret.data ?? {}).sort()).toEqual(['config.ini', 'username']);
  const current = await stack.vaultAdmin.read<{ data: { data: { password: string }; metadata: { version: number } } }>(
    `secret/data/${vaultPath}`,
  );
  expect(decode(secret, 'config.ini')).toBe(
    `[db]\nuser = app\npassword = ${current.data.data.password}\nversion = ${current.data.metadata.version}\n`,
  );
});

test('Go templates as VSO writes them: sprig, .Metadata and .Annotations, and a define from a SecretTransformation sourceTemplate', async () => {
  await create('secrettransformations', 'SecretTransformation', 'go-helpers', {
    sourceTemplates: [
      {
        name: 'helpers',
        text: '{{- define "helper.env" -}}{{- range $k, $v := . }}{{ $k | upper }}={{ $v | quote }}\n{{ end }}{{- end -}}',
      },
    ],
    templates: { 'app.env': { text: '{{- template "helper.env" .Secrets -}}' } },
  });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'go-shaped', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: {
      name: 'go-shaped',
      create: true,
      transformation: {
        excludeRaw: true,
        excludes: ['.*'],
        templates: {
          'password.txt': { text: '{{- printf "password=%s" (get .Secrets "password") -}}' },
          'meta.txt': { text: 'version={{ .Metadata.version }} user={{ .Secrets.username | b64enc }}' },
          'inline.env': { text: '{{- template "helper.env" (pick .Secrets "username") -}}' },
        },
        transformationRefs: [{ name: 'go-helpers' }],
      },
    },
  });
  const secret = await waitFor('the Secret shaped by Go templates', () => readSecret('go-shaped'));
  const current = await stack.vaultAdmin.read<{
    data: { data: { username: string; password: string }; metadata: { version: number } };
  }>(`secret/data/${vaultPath}`);
  expect(Object.keys(secret.data ?? {}).sort()).toEqual(['app.env', 'inline.env', 'meta.txt', 'password.txt']);
  expect(decode(secret, 'password.txt')).toBe(`password=${current.data.data.password}`);
  expect(decode(secret, 'meta.txt')).toBe(
    `version=${current.data.metadata.version} user=${Buffer.from('app').toString('base64')}`,
  );
  expect(decode(secret, 'inline.env')).toBe('USERNAME="app"\n');
  const env = Object.entries(current.data.data)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k.toUpperCase()}=${JSON.stringify(v)}\n`)
    .join('');
  expect(decode(secret, 'app.env')).toBe(env);
});

test('transformationRefs: templates and excludes from a SecretTransformation, inline templates winning; a bad one is reported on both objects', async () => {
  await create('secrettransformations', 'SecretTransformation', 'db-shapes', {
    templates: {
      dsn: { text: 'postgres://{{Secrets.username}}@db/app' },
      greeting: { text: 'hello {{Secrets.username}}' },
    },
    excludes: ['^password$'],
  });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'by-ref', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: {
      name: 'by-ref',
      create: true,
      transformation: {
        excludeRaw: true,
        templates: { greeting: { text: 'inline {{Secrets.username}}' } },
        transformationRefs: [
          { name: 'db-shapes', templateRefs: [{ name: 'dsn', keyOverride: 'DATABASE_URL' }, { name: 'greeting' }] },
        ],
      },
    },
  });
  const secret = await waitFor('the Secret shaped by the SecretTransformation', () => readSecret('by-ref'));
  expect(Object.keys(secret.data ?? {}).sort()).toEqual(['DATABASE_URL', 'greeting', 'username']);
  expect(decode(secret, 'DATABASE_URL')).toBe('postgres://app@db/app');
  expect(decode(secret, 'greeting')).toBe('inline app');
  type StatusObject = { status?: { valid?: boolean; error?: string } };
  await waitFor(
    'the SecretTransformation valid',
    async () => (await objects.read<StatusObject>('secrettransformations', 'db-shapes')).status?.valid === true,
  );

  await create('secrettransformations', 'SecretTransformation', 'broken-shapes', {
    templates: { dsn: { text: '{{#each}}' } },
  });
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'by-broken-ref', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    destination: {
      name: 'by-broken-ref',
      create: true,
      transformation: { transformationRefs: [{ name: 'broken-shapes' }] },
    },
  });
  const broken = await waitFor('the SecretTransformation invalid', async () => {
    const object = await objects.read<StatusObject>('secrettransformations', 'broken-shapes');
    return object.status?.valid === false ? object : undefined;
  });
  expect(broken.status?.error).toContain('spec.templates.dsn.text');
  const vss = await waitFor('Ready=False', async () => {
    const object = await readVss('by-broken-ref');
    return condition(object, 'Ready')?.status === 'False' ? object : undefined;
  });
  expect(condition(vss, 'Ready')).toMatchObject({ reason: 'InvalidSecretTransformation' });
  expect(condition(vss, 'Ready')?.message).toContain(`SecretTransformation ${namespace}/broken-shapes`);
  expect(await readSecret('by-broken-ref')).toBeUndefined();
});

test('a template that does not compile is Ready=False naming the field', async () => {
  await create('vaultstaticsecrets', 'VaultStaticSecret', 'bad-template', {
    vaultAuthRef: 'auth',
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    destination: { name: 'bad-template', create: true, transformation: { templates: { url: { text: '{{#each}}' } } } },
  });
  const object = await waitFor('Ready=False', async () => {
    const vss = await readVss('bad-template');
    return condition(vss, 'Ready')?.status === 'False' ? vss : undefined;
  });
  expect(condition(object, 'Ready')).toMatchObject({ reason: 'InvalidSpec' });
  expect(condition(object, 'Ready')?.message).toContain('spec.destination.transformation.templates.url.text');
  expect(await readSecret('bad-template')).toBeUndefined();
});

// Status of the connection objects: what was checked, or why it failed, on the object itself.
describe('VaultConnection and VaultAuth status', () => {
  type StatusObject = {
    status?: {
      valid?: boolean;
      error?: string;
      conditions?: { type: string; status: string; reason: string; message: string }[];
    };
  };
  const read = (plural: string, name: string) =>
    custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      name,
    }) as Promise<StatusObject>;
  const ready = (object: StatusObject) => object.status?.conditions?.find((c) => c.type === 'Ready');

  test('a working connection and login are Ready with what was checked', async () => {
    const connection = await waitFor('VaultConnection Ready', async () => {
      const object = await read('vaultconnections', 'vault');
      return ready(object)?.status === 'True' ? object : undefined;
    });
    expect(connection.status?.valid).toBe(true);
    expect(ready(connection)?.message).toMatch(/^Vault answers \(version 1\.13\.0\)$/);
    expect(connection.status?.conditions?.find((c) => c.type === 'VaultPing')?.status).toBe('True');
    expect(connection.status?.conditions?.find((c) => c.type === 'Healthy')).toMatchObject({
      status: 'True',
      reason: 'Healthy',
    });
    const auth = await waitFor('VaultAuth Ready', async () => {
      const object = await read('vaultauths', 'auth');
      return ready(object)?.status === 'True' ? object : undefined;
    });
    expect(auth.status).toMatchObject({ valid: true, error: '' });
    expect(ready(auth)?.message).toContain(`logged in with role "${namespace}"`);
    expect(auth.status?.conditions?.find((c) => c.type === 'Healthy')).toMatchObject({
      status: 'True',
      reason: 'Healthy',
    });
    expect(ready(auth)?.message).toContain(namespace);
  });

  test('an unreachable Vault and a refused login are Ready=False with the reason', async () => {
    await create('vaultconnections', 'VaultConnection', 'nowhere', { address: 'http://127.0.0.1:1' });
    await create('vaultauths', 'VaultAuth', 'wrong-role', {
      vaultConnectionRef: 'vault',
      method: 'kubernetes',
      mount: stack.layout.kubernetesAuthMount,
      kubernetes: { role: 'no-such-role', serviceAccount: 'app', audiences: ['vault'] },
    });
    const connection = await waitFor('VaultConnection Ready=False', async () => {
      const object = await read('vaultconnections', 'nowhere');
      return ready(object)?.status === 'False' ? object : undefined;
    });
    expect(connection.status?.valid).toBe(false);
    expect(ready(connection)?.reason).toBe('VaultUnavailable');
    const auth = await waitFor('VaultAuth Ready=False', async () => {
      const object = await read('vaultauths', 'wrong-role');
      return ready(object)?.status === 'False' ? object : undefined;
    });
    expect(auth.status).toMatchObject({ valid: false, error: 'VaultLoginFailed' });
    expect(ready(auth)?.message).toContain('no-such-role');
    expect(auth.status?.conditions?.find((c) => c.type === 'Healthy')).toMatchObject({
      status: 'False',
      reason: 'VaultLoginFailed',
    });
    expect(connection.status?.conditions?.find((c) => c.type === 'Healthy')).toMatchObject({
      status: 'False',
      reason: 'VaultUnavailable',
    });
  });
});

describe('AppRole VaultAuth', () => {
  test('a VaultAuth with method appRole logs in with the secret_id from a Secret, and secrets sync through it', async () => {
    const mount = `approle-${namespace}`;
    await stack.vaultAdmin.write(`sys/auth/${mount}`, { type: 'approle' });
    await stack.vaultAdmin.write(`auth/${mount}/role/app`, {
      token_policies: [namespace],
      token_ttl: '1h',
      secret_id_ttl: '1h',
    });
    const roleId = (await stack.vaultAdmin.read<{ data: { role_id: string } }>(`auth/${mount}/role/app/role-id`)).data
      .role_id;
    const secretId = (
      await stack.vaultAdmin.write<{ data: { secret_id: string } }>(`auth/${mount}/role/app/secret-id`, {})
    ).data.secret_id;
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'approle-secret-id' }, stringData: { id: secretId } },
    });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'approle-wrong-id' }, stringData: { id: 'not-the-secret-id' } },
    });
    await create('vaultauths', 'VaultAuth', 'approle', {
      vaultConnectionRef: 'vault',
      method: 'appRole',
      mount,
      appRole: { roleId, secretRef: 'approle-secret-id' },
    });
    await create('vaultauths', 'VaultAuth', 'approle-wrong', {
      vaultConnectionRef: 'vault',
      method: 'appRole',
      mount,
      appRole: { roleId, secretRef: 'approle-wrong-id' },
    });
    await create('vaultstaticsecrets', 'VaultStaticSecret', 'via-approle', {
      vaultAuthRef: 'approle',
      mount: 'secret',
      path: vaultPath,
      type: 'kv-v2',
      destination: { name: 'via-approle', create: true },
    });
    const secret = await waitFor('the Secret synced through AppRole', () => readSecret('via-approle'));
    expect(decode(secret, 'username')).toBe('app');

    type StatusObject = {
      status?: {
        valid?: boolean;
        error?: string;
        conditions?: { type: string; status: string; reason: string; message: string }[];
      };
    };
    const ready = async (name: string, status: string) =>
      waitFor(`VaultAuth ${name} Ready=${status}`, async () => {
        const object = await objects.read<StatusObject>('vaultauths', name);
        const condition = object.status?.conditions?.find((c) => c.type === 'Ready');
        return condition?.status === status ? condition : undefined;
      });
    expect((await ready('approle', 'True')).message).toContain(`logged in with role "AppRole at auth/${mount}"`);
    const refused = await ready('approle-wrong', 'False');
    expect(refused.reason).toBe('VaultLoginFailed');
    expect(refused.message).toContain(`AppRole login to Vault at auth/${mount} failed`);
    expect(refused.message).not.toContain(secretId);
  });
});

describe('JWT VaultAuth', () => {
  test('method jwt logs in with a service-account token (TokenRequest) or one kept in a Secret, validated by Vault itself', async () => {
    const mount = `jwt-${namespace}`;
    // Vault's JWT method checks tokens with the API server's service-account signing keys.
    await stack.enableJwtAuth(mount);
    await stack.vaultAdmin.write(`auth/${mount}/role/app`, {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['vault'],
      bound_subject: `system:serviceaccount:${namespace}:app`,
      token_policies: [namespace],
      token_ttl: '1h',
    });
    const { token } = await stack.requestToken(namespace, 'app', { audiences: ['vault'], expirationSeconds: 3600 });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'jwt-token' }, stringData: { jwt: token } },
    });
    await create('vaultauths', 'VaultAuth', 'jwt-sa', {
      vaultConnectionRef: 'vault',
      method: 'jwt',
      mount,
      jwt: { role: 'app', serviceAccount: 'app', audiences: ['vault'] },
    });
    await create('vaultauths', 'VaultAuth', 'jwt-secret', {
      vaultConnectionRef: 'vault',
      method: 'jwt',
      mount,
      jwt: { role: 'app', secretRef: 'jwt-token' },
    });
    await create('vaultauths', 'VaultAuth', 'jwt-wrong-audience', {
      vaultConnectionRef: 'vault',
      method: 'jwt',
      mount,
      jwt: { role: 'app', serviceAccount: 'app', audiences: ['not-vault'] },
    });
    await create('vaultstaticsecrets', 'VaultStaticSecret', 'via-jwt', {
      vaultAuthRef: 'jwt-sa',
      mount: 'secret',
      path: vaultPath,
      type: 'kv-v2',
      destination: { name: 'via-jwt', create: true },
    });
    expect(decode(await waitFor('the Secret synced through JWT auth', () => readSecret('via-jwt')), 'username')).toBe(
      'app',
    );

    type StatusObject = {
      status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
    };
    const ready = async (name: string, status: string) =>
      waitFor(`VaultAuth ${name} Ready=${status}`, async () => {
        const condition = (await objects.read<StatusObject>('vaultauths', name)).status?.conditions?.find(
          (c) => c.type === 'Ready',
        );
        return condition?.status === status ? condition : undefined;
      });
    expect((await ready('jwt-sa', 'True')).message).toContain('logged in with role "app"');
    expect((await ready('jwt-secret', 'True')).message).toContain('logged in with role "app"');
    const refused = await ready('jwt-wrong-audience', 'False');
    expect(refused.reason).toBe('VaultLoginFailed');
    expect(refused.message).toContain(`JWT login to Vault as role "app" at auth/${mount} failed`);
    expect(refused.message).not.toContain(token);
  });
});
