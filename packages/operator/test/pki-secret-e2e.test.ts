// VaultPKISecret end to end: real kube-apiserver, real Vault PKI engine, the operator in-process. Short
// TTLs make rotation, revocation of the previous certificate and drift repair happen in seconds.
import { X509Certificate } from 'node:crypto';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { sharedStack } from '@vaultbridge/testenv';
import { FORCE_SYNC_ANNOTATION, GROUP, VERSION } from '../src/api/common.ts';
import type { VaultPkiSecret } from '../src/api/vault-pki-secret.ts';
import { PKI_FINALIZER } from '../src/controllers/pki-secret.ts';
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
const namespace = stack.uniqueName('vps');
let operator: RunningOperator;
const objects = inNamespace(custom, core, namespace);

const readVps = (name: string): Promise<VaultPkiSecret> => objects.read<VaultPkiSecret>('vaultpkisecrets', name);
const condition = (object: VaultPkiSecret, type: string) =>
  object.status?.conditions?.find((item) => item.type === type);

const { create, readSecret } = objects;

/** Vault's record of a certificate: revocation_time is 0 until it is revoked. */
async function revocationTime(serial: string): Promise<number> {
  const answer = await stack.vaultAdmin.read<{ data: { revocation_time: number } }>(
    `${layout.pkiMount}/cert/${serial}`,
  );
  return answer.data.revocation_time;
}

const domain = layout.pkiDomain;

beforeAll(async () => {
  await installCrds(kubeConfig);
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(
    namespace,
    `
path "${layout.pkiMount}/issue/${layout.pkiRole}" { capabilities = ["update"] }
path "${layout.pkiMount}/revoke" { capabilities = ["update"] }
`,
  );
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
  });
  operator = await connectAndStartOperator(stack, namespace, create, 'operator-vps-e2e');
});

afterAll(async () => {
  if (operator) await deleteSyncedObjects(custom, namespace);
  await operator?.stop();
});

test('a kubernetes.io/tls Secret gets a certificate for the asked names; it is re-issued before expiry, the workload restarts and the old one is revoked', async () => {
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      },
    },
  });
  await create('vaultpkisecrets', 'VaultPKISecret', 'web-tls', {
    vaultAuthRef: 'auth',
    mount: layout.pkiMount,
    role: layout.pkiRole,
    commonName: `web.${domain}`,
    altNames: [`www.${domain}`],
    ttl: '8s',
    expiryOffset: '5s',
    revoke: true,
    destination: { name: 'web-tls', create: true, type: 'kubernetes.io/tls' },
    rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
  });
  const secret = await waitFor('the TLS Secret', () => readSecret('web-tls'));
  expect(secret.type).toBe('kubernetes.io/tls');
  const leaf = new X509Certificate(decode(secret, 'tls.crt')!);
  expect(leaf.subject).toContain(`CN=web.${domain}`);
  expect(leaf.subjectAltName).toContain(`DNS:www.${domain}`);
  expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(decode(secret, 'tls.key')!))).toBe(true);
  const first = await waitFor('Ready=True', async () => {
    const object = await readVps('web-tls');
    return condition(object, 'Ready')?.status === 'True' ? object : undefined;
  });
  expect(first.status).toMatchObject({ valid: true, error: '' });
  expect(first.status?.serialNumber).toBe(decode(secret, 'serial_number'));
  expect(first.metadata.finalizers).toContain(PKI_FINALIZER);
  expect(
    (await apps.readNamespacedDeployment({ name: 'web', namespace })).spec?.template?.metadata?.annotations?.[
      RESTARTED_AT_ANNOTATION
    ],
  ).toBeUndefined();

  // 8 s certificate, re-issued 5 s before expiry: a new serial about 3 s later.
  const rotated = await waitFor(
    'the rotated certificate',
    async () => {
      const object = await readVps('web-tls');
      return object.status?.serialNumber !== first.status?.serialNumber &&
        condition(object, 'RolloutRestart')?.status === 'True'
        ? object
        : undefined;
    },
    20_000,
  );
  expect(decode((await readSecret('web-tls'))!, 'serial_number')).toBe(rotated.status?.serialNumber);
  expect(
    (await apps.readNamespacedDeployment({ name: 'web', namespace })).spec?.template?.metadata?.annotations?.[
      RESTARTED_AT_ANNOTATION
    ],
  ).toBeDefined();
  await waitFor('the previous serial revoked', async () => (await revocationTime(first.status!.serialNumber!)) > 0);
  expect(await revocationTime(rotated.status!.serialNumber!)).toBe(0);
});

test('an edited Secret gets a new certificate (its key cannot be restored from anywhere else)', async () => {
  await create('vaultpkisecrets', 'VaultPKISecret', 'steady', {
    vaultAuthRef: 'auth',
    mount: layout.pkiMount,
    role: layout.pkiRole,
    commonName: `steady.${domain}`,
    ttl: '1h',
    destination: { name: 'steady-tls', create: true },
  });
  const object = await waitFor('the first certificate', async () => {
    const vps = await readVps('steady');
    return vps.status?.serialNumber ? vps : undefined;
  });
  const secret = (await readSecret('steady-tls'))!;
  await core.replaceNamespacedSecret({
    name: 'steady-tls',
    namespace,
    body: { ...secret, data: { ...secret.data, private_key: Buffer.from('tampered').toString('base64') } },
  });
  const repaired = await waitFor(
    'a new certificate',
    async () => {
      const current = await readSecret('steady-tls');
      return current &&
        decode(current, 'serial_number') !== object.status?.serialNumber &&
        decode(current, 'private_key') !== 'tampered'
        ? current
        : undefined;
    },
    5000,
  );
  expect(new X509Certificate(decode(repaired, 'certificate')!).subject).toContain(`CN=steady.${domain}`);
});

test('the force-sync annotation issues a new certificate now', async () => {
  const before = (await readVps('steady')).status!.serialNumber!;
  await custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'vaultpkisecrets',
      name: 'steady',
      body: { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: '2026-11-26' } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const object = await waitFor(
    'a new serial',
    async () => {
      const vps = await readVps('steady');
      return vps.status?.serialNumber !== before && vps.status?.lastForceSync === '2026-11-26' ? vps : undefined;
    },
    5000,
  );
  expect(decode((await readSecret('steady-tls'))!, 'serial_number')).toBe(object.status?.serialNumber);
});

test("a name the PKI role does not allow is Ready=False with Vault's reason, and no Secret is written", async () => {
  await create('vaultpkisecrets', 'VaultPKISecret', 'outside', {
    vaultAuthRef: 'auth',
    mount: layout.pkiMount,
    role: layout.pkiRole,
    commonName: 'web.not-allowed.invalid',
    destination: { name: 'outside-tls', create: true },
  });
  const object = await waitFor('Ready=False', async () => {
    const vps = await readVps('outside');
    return condition(vps, 'Ready')?.status === 'False' ? vps : undefined;
  });
  expect(condition(object, 'Ready')).toMatchObject({ reason: 'VaultRejectedRequest' });
  expect(condition(object, 'Ready')?.message).toContain('web.not-allowed.invalid');
  expect(object.status).toMatchObject({ valid: false, error: 'VaultRejectedRequest' });
  expect(await readSecret('outside-tls')).toBeUndefined();
});

test('deleting an object with revoke revokes its certificate and lets go', async () => {
  await create('vaultpkisecrets', 'VaultPKISecret', 'short-lived', {
    vaultAuthRef: 'auth',
    mount: layout.pkiMount,
    role: layout.pkiRole,
    commonName: `gone.${domain}`,
    ttl: '1h',
    revoke: true,
    destination: { name: 'gone-tls', create: true },
  });
  const object = await waitFor('the certificate and finalizer', async () => {
    const vps = await readVps('short-lived');
    return vps.status?.serialNumber && vps.metadata.finalizers?.includes(PKI_FINALIZER) ? vps : undefined;
  });
  await custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'vaultpkisecrets',
    name: 'short-lived',
  });
  await waitFor(
    'the object to be gone',
    async () => (await readVps('short-lived').catch(() => undefined)) === undefined,
  );
  expect(await revocationTime(object.status!.serialNumber!)).toBeGreaterThan(0);
});
