// Hostile input against the operator CLI on the real stack: patterns and Vault key names chosen to stall
// a backtracking regex engine must not stall the operator (its /healthz keeps answering), and patterns
// RE2 does not have are refused in status naming the field.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import type { VaultStaticSecret } from '../src/api/vault-static-secret.ts';
import { installCrds } from '../src/install-crds.ts';
import { ALLOW_SYNC_ANNOTATION } from '../src/sync/destination.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, inNamespace, setUpDefaultAppAuth, waitFor } from './support/e2e.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('hostile');
const objects = inNamespace(custom, core, namespace);
const vaultPath = `e2e/${namespace}/app`;
// 2^40 backtracking steps for `^(a+)+$` in a JavaScript RegExp: hours on one event loop. (`-` rather
// than the issue's `!`, which is not a valid Secret key.)
const HOSTILE_KEY = `${'a'.repeat(40)}-`;
let operator: OperatorProcess;

const ready = (object: VaultStaticSecret) => object.status?.conditions?.find((item) => item.type === 'Ready');

beforeAll(async () => {
  await installCrds(kubeConfig);
  await setUpDefaultAppAuth(stack, namespace, objects.create, vaultPath, {
    [HOSTILE_KEY]: 'kept',
    [HOSTILE_KEY.slice(0, -1)]: 'dropped',
    password: 'p',
  });
  operator = await startOperatorProcess(stack, namespace);
  await waitFor('/healthz', async () => (await operator.probe('/healthz')).ok);
});

afterAll(async () => {
  if (operator) {
    await deleteSyncedObjects(custom, namespace);
    operator.child.kill('SIGTERM');
    await operator.exited;
  }
});

test('excludes ^(a+)+$ with a hostile Vault key: the Secret syncs and /healthz answers throughout', async () => {
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'redos', {
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1s',
    destination: { name: 'redos', create: true, transformation: { excludes: ['^(a+)+$'], excludeRaw: true } },
  });
  // Probe the health server all along the syncs (refreshAfter 1 s re-runs the match every second); a
  // probe left unanswered for 2 s rejects and fails the test.
  let probes = 0;
  const secret = await waitFor('the Secret and three refreshes', async () => {
    expect((await operator.probe('/healthz')).status).toBe(200);
    probes += 1;
    const synced = await objects.readSecret('redos');
    return probes >= 30 && synced;
  });
  expect(Object.keys(secret.data ?? {}).sort()).toEqual([HOSTILE_KEY, 'password'].sort());
  expect(decode(secret, HOSTILE_KEY)).toBe('kept');
  expect(ready(await objects.read<VaultStaticSecret>('vaultstaticsecrets', 'redos'))?.status).toBe('True');
});

test('a pattern RE2 does not have (lookahead) is InvalidSpec naming the field, and the operator stays healthy', async () => {
  await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'lookahead', {
    mount: 'secret',
    path: vaultPath,
    type: 'kv-v2',
    refreshAfter: '1h',
    destination: { name: 'lookahead', create: true, transformation: { includes: ['^pass', '(?=a)a'] } },
  });
  const condition = await waitFor('Ready=False', async () => {
    const found = ready(await objects.read<VaultStaticSecret>('vaultstaticsecrets', 'lookahead'));
    return found?.status === 'False' && found;
  });
  expect(condition.reason).toBe('InvalidSpec');
  expect(condition.message).toContain('spec.destination.transformation.includes[1]');
  expect(condition.message).toContain('not a supported RE2 regular expression');
  expect(await objects.readSecret('lookahead')).toBeUndefined();
  expect((await operator.probe('/healthz')).status).toBe(200);
});

describe('create: false never turns VaultStaticSecret rights into write on any Secret', () => {
  const original = { keep: Buffer.from('original').toString('base64') };
  const secrets: {
    name: string;
    type: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    reason: string;
  }[] = [
    {
      name: 'helm-release',
      type: 'helm.sh/release.v1',
      labels: { owner: 'helm', name: 'rel' },
      reason: 'DestinationProtected',
    },
    {
      name: 'sa-token',
      type: 'kubernetes.io/service-account-token',
      annotations: { 'kubernetes.io/service-account.name': 'app' },
      reason: 'DestinationProtected',
    },
    { name: 'not-opted-in', type: 'Opaque', reason: 'DestinationNotOptedIn' },
    {
      name: 'tls-not-asked',
      type: 'kubernetes.io/tls',
      annotations: { [ALLOW_SYNC_ANNOTATION]: 'VaultStaticSecret/tls-not-asked' },
      reason: 'DestinationTypeNotAllowed',
    },
  ];

  test.each(secrets)(
    '$name ($type) is refused with $reason and keeps its data',
    async ({ name, type, labels, annotations, reason }) => {
      const data = type === 'kubernetes.io/tls' ? { 'tls.crt': original.keep, 'tls.key': original.keep } : original;
      await core.createNamespacedSecret({ namespace, body: { metadata: { name, labels, annotations }, type, data } });
      await objects.create('vaultstaticsecrets', 'VaultStaticSecret', name, {
        mount: 'secret',
        path: vaultPath,
        type: 'kv-v2',
        refreshAfter: '1h',
        destination: { name, create: false },
      });
      const condition = await waitFor('Ready=False', async () => {
        const found = ready(await objects.read<VaultStaticSecret>('vaultstaticsecrets', name));
        return found?.status === 'False' && found;
      });
      expect(condition.reason).toBe(reason);
      expect(condition.message).toContain(`Secret ${namespace}/${name}`);
      expect((await objects.readSecret(name))?.data).toEqual(data);
    },
  );

  test('a Secret annotated for this object gets the Vault data, and keeps its labels and annotations', async () => {
    const annotations = { [ALLOW_SYNC_ANNOTATION]: 'VaultStaticSecret/opted-in', team: 'web' };
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'opted-in', annotations, labels: { app: 'web' } }, type: 'Opaque', data: original },
    });
    await objects.create('vaultstaticsecrets', 'VaultStaticSecret', 'opted-in', {
      mount: 'secret',
      path: vaultPath,
      type: 'kv-v2',
      refreshAfter: '1h',
      destination: { name: 'opted-in', create: false },
    });
    const secret = await waitFor('the Vault data', async () => {
      const found = await objects.readSecret('opted-in');
      return found?.data?.password !== undefined && found;
    });
    expect(decode(secret, 'password')).toBe('p');
    expect(secret.metadata?.annotations).toMatchObject(annotations);
    expect(secret.metadata?.labels).toEqual({ app: 'web' });
  });
});
