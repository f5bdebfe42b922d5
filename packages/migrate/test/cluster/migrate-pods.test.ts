// Issue 13's proof in real pods, one direction per test: a workload runs on the node with its original
// method (the chart's injector, the real Secrets Store CSI Driver calling our provider, the chart's
// operator), its app container is read with `kubectl exec` (every file under its secret directories,
// mode and text, and its secret env variables), the namespace is migrated with `vaultbridge-migrate
// --from-namespace` as a user runs it, the output is applied as `kubectl replace`/`create` would, and
// the migrated pod's container must see the same files, modes and values. The report's items are
// asserted, so what each direction cannot express is part of the proof. Database credentials and
// certificates are new on every read: there the old and new files must have the same shape (a DSN, a
// certificate's subject, issuer and SANs, the key type) and the new ones must work (log in to
// PostgreSQL, the key pairs with the certificate).
// VSO cannot run here (not built, no registry): its direction starts from VSO's manifests and compares
// with what VSO writes by its documentation (each field and `_raw`), read from Vault.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  appDeployment,
  csiVolume,
  installChart,
  secretProviderClass,
  waitFor,
  waitForPodsReady,
} from '@vaultbridge/testenv';
import { annotatedDeployment, DB_DSN } from '../support/agent.ts';
import { applyManifests } from '../support/apply.ts';
import type { Manifest } from '../../src/manifests.ts';
import {
  appContainer,
  containerView,
  currentPod,
  logsIn,
  migrateEnv,
  notExpressed,
  runMigrate,
  vaultNamespace,
  type ContainerView,
} from './support.ts';

const env = migrateEnv();
const { kvV2Mount, databaseMount, databaseRole, kubernetesAuthMount, pkiMount, pkiRole, pkiDomain } = env.stack.layout;
const kvData = { username: 'app-user', password: 'p&ss<word>', port: '5432' };
const group = 'secrets.vaultbridge.dev';
const version = 'v1beta1';

const policy = (namespace: string): string => `
path "${kvV2Mount}/data/${namespace}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
path "${pkiMount}/issue/${pkiRole}" { capabilities = ["update"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`;

async function kvNamespace(prefix: string, audience?: string): Promise<string> {
  const namespace = await vaultNamespace(env, prefix, policy, audience);
  await env.stack.vaultAdmin.write(`${kvV2Mount}/data/${namespace}/config`, { data: kvData });
  return namespace;
}

/** Deployment `web` as a manifest (stopped quickly: a rollout replaces it). */
function deployment(
  namespace: string,
  podSpec: Parameters<typeof appDeployment>[1],
  annotations: Record<string, string> = {},
): Manifest {
  return appDeployment('web', { terminationGracePeriodSeconds: 2, ...podSpec }, annotations, namespace) as Manifest;
}

/** The injector e2e files' Deployment (defaults, template with custom path and mode, JSON, one key, database) in a real pod. */
function injectedDeployment(namespace: string): Manifest {
  const annotated = annotatedDeployment(
    namespace,
    namespace,
    `${kvV2Mount}/data/${namespace}/config`,
    `${databaseMount}/creds/${databaseRole}`,
  ) as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
  return deployment(namespace, { containers: [appContainer(env)] }, annotated.spec.template.metadata.annotations);
}

const INJECTOR_DIRS = ['/vault/secrets', '/etc/app'];

/** How a new-per-read value is compared: what both sides must share (shape, subject), never the bytes. */
type Signature = (text: string) => string;

const dsn: Signature = (text) => (DB_DSN.test(text) ? 'postgresql://<user>:<password>@db/app' : text);
const token: Signature = (text) => (/^\S+$/.test(text) ? '<one word>' : text);
/** A certificate: its subject, issuer and SANs, and whether the text ends with a newline. */
const certificate: Signature = (text) => {
  const cert = new X509Certificate(text);
  const blocks = text.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  return `${cert.subject} / ${cert.issuer} / ${cert.subjectAltName} / ${blocks} certificates / newline at end: ${text.endsWith('\n')}`;
};
const privateKey: Signature = (text) =>
  `${createPrivateKey(text).asymmetricKeyType} key / newline at end: ${text.endsWith('\n')}`;

/**
 * The differences between what the original and the migrated container see (empty when the same).
 * Files in `dynamic` are new on every read (database credentials, certificates): their signatures must
 * be equal; the callers check that the new ones work.
 */
function differences(before: ContainerView, after: ContainerView, dynamic: Record<string, Signature> = {}): string[] {
  const out: string[] = [];
  const wanted = Object.keys(before.files).sort();
  if (JSON.stringify(wanted) !== JSON.stringify(Object.keys(after.files).sort()))
    out.push(`files: before ${JSON.stringify(wanted)}, after ${JSON.stringify(Object.keys(after.files).sort())}`);
  for (const [file, old] of Object.entries(before.files)) {
    const now = after.files[file];
    if (!now) continue;
    if (old.mode !== now.mode) out.push(`${file}: mode ${old.mode} → ${now.mode}`);
    const signature = dynamic[file] ?? ((text: string) => text);
    if (signature(old.text) !== signature(now.text))
      out.push(`${file}: ${JSON.stringify(signature(old.text))} → ${JSON.stringify(signature(now.text))}`);
  }
  if (JSON.stringify(before.env) !== JSON.stringify(after.env))
    out.push(`env: ${JSON.stringify(before.env)} → ${JSON.stringify(after.env)}`);
  return out;
}

/** The certificate and key a pod sees belong together. */
function pairs(view: ContainerView, certFile: string, keyFile: string): boolean {
  return new X509Certificate(view.files[certFile]!.text).checkPrivateKey(createPrivateKey(view.files[keyFile]!.text));
}

async function dsnLogsIn(text: string): Promise<void> {
  const [, user, password] = DB_DSN.exec(text)!;
  await logsIn(env, user!, password!);
}

/** `vaultbridge-migrate --to <to> --from-namespace <namespace>` against the stack, as a user runs it. */
async function migrateNamespace(namespace: string, to: 'csi' | 'operator', extra: readonly string[] = []) {
  const migration = await runMigrate([
    '--to',
    to,
    '--from-namespace',
    namespace,
    '--kubeconfig',
    env.stack.handle.kubeconfigPath,
    ...extra,
  ]);
  expect(migration.code).toBe(0);
  return migration;
}

/** Applies the output, waits for the migrated Deployment's new Ready pod and reads what it sees as before. */
async function migratedView(original: Original, manifests: readonly Manifest[]): Promise<ContainerView> {
  await applyManifests(env.stack.kube.config, manifests);
  const pod = await currentPod(env, original.namespace, 'web', [original.pod]);
  return containerView(env, original.namespace, pod, original.dirs, original.envNames);
}

async function deleteOperatorObjects(namespace: string, plurals: readonly string[]): Promise<void> {
  for (const plural of plurals) {
    const list = (await env.custom.listNamespacedCustomObject({ group, version, namespace, plural })) as {
      items: Array<{ metadata: { name: string } }>;
    };
    await Promise.all(
      list.items.map((item) =>
        env.custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name: item.metadata.name }),
      ),
    );
  }
}

async function secretGone(namespace: string, name: string): Promise<void> {
  await waitFor(env, namespace, `Secret ${name} removed`, async () => {
    try {
      await env.stack.kube.core.readNamespacedSecret({ namespace, name });
      return undefined;
    } catch {
      return true;
    }
  });
}

async function ownerKinds(namespace: string, name: string): Promise<string[]> {
  const secret = await env.stack.kube.core.readNamespacedSecret({ namespace, name });
  return (secret.metadata?.ownerReferences ?? []).map((ref) => ref.kind);
}

async function managedByDriver(namespace: string, name: string): Promise<boolean> {
  const secret = await env.stack.kube.core.readNamespacedSecret({ namespace, name });
  return secret.metadata?.labels?.['secrets-store.csi.k8s.io/managed'] === 'true';
}

interface Original {
  namespace: string;
  pod: string;
  view: ContainerView;
  /** what is read of the container: the files under these directories and these variables */
  dirs: readonly string[];
  envNames: readonly string[];
}

/** The Ready pod of `web` in `namespace` and what its app container sees. */
async function original(
  namespace: string,
  dirs: readonly string[],
  envNames: readonly string[] = [],
): Promise<Original> {
  const [pod] = await waitForPodsReady(env, namespace, 'app=web');
  const name = pod!.metadata!.name!;
  return { namespace, pod: name, dirs, envNames, view: await containerView(env, namespace, name, dirs, envNames) };
}

let injectorToCsi: Original;
let injectorToOperator: Original;
let csiToOperator: Original;
let operatorToCsi: Original;

const SPC_DIRS = ['/mnt/secrets'];
const OPERATOR_DIRS = ['/etc/config', '/etc/db', '/etc/tls'];

/**
 * The agent's init → sidecar handover file on the shared secrets volume (packages/agent/src/cache/persist.ts
 * HANDOVER_FILE). Init leaves it; the sidecar deletes it once adopted, which can be after the pod is Ready.
 */
const HANDOVER_FILE = '/vault/secrets/.vaultbridge-handover';

async function injectorOriginal(prefix: string): Promise<Original> {
  const namespace = await kvNamespace(prefix);
  await applyManifests(env.stack.kube.config, [injectedDeployment(namespace)]);
  // The init agent rendered before the app started: the files are there from the first exec.
  const injected = await original(namespace, INJECTOR_DIRS);
  const pod = await env.stack.kube.core.readNamespacedPod({ namespace, name: injected.pod });
  expect(pod.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status']).toBe('injected');
  // What the app sees for good is the view once the sidecar has adopted init's handover: reading earlier
  // caught the transient file in one CI run and not in the migrated pod, which has no agent.
  const settled = await waitFor(env, namespace, 'the sidecar to adopt the handover', async () => {
    const view = await containerView(env, namespace, injected.pod, INJECTOR_DIRS);
    return HANDOVER_FILE in view.files ? undefined : view;
  });
  return { ...injected, view: settled };
}

/** Upstream vault-csi-provider's documented shape: objects with secretKey, a database pair, secretObjects for an env variable. */
async function csiOriginal(): Promise<Original> {
  const namespace = await kvNamespace('mig-pods-spc');
  const kv = `${kvV2Mount}/data/${namespace}/config`;
  const creds = `${databaseMount}/creds/${databaseRole}`;
  const pki = {
    secretPath: `${pkiMount}/issue/${pkiRole}`,
    method: 'PUT',
    secretArgs: { common_name: `web.${pkiDomain}`, ttl: '1h' },
  };
  await applyManifests(env.stack.kube.config, [
    secretProviderClass(
      'web',
      {
        vaultAddress: env.cluster.vaultAddrForPods,
        roleName: namespace,
        objects: [
          { objectName: 'username', secretPath: kv, secretKey: 'username' },
          { objectName: 'password', secretPath: kv, secretKey: 'password' },
          { objectName: 'db-username', secretPath: creds, secretKey: 'username' },
          { objectName: 'db-password', secretPath: creds, secretKey: 'password' },
          // vault-csi-provider's documented PKI shape: one PUT to issue, two objects of its answer.
          { objectName: 'tls.crt', ...pki, secretKey: 'certificate' },
          { objectName: 'tls.key', ...pki, secretKey: 'private_key' },
        ],
        secretObjects: [
          { secretName: 'web-synced', type: 'Opaque', data: [{ objectName: 'password', key: 'password' }] },
        ],
      },
      namespace,
    ) as Manifest,
    deployment(namespace, {
      containers: [
        appContainer(env, {
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-synced', key: 'password' } } }],
          volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
        }),
      ],
      volumes: [csiVolume('secrets', 'web')],
    }),
  ]);
  return original(namespace, SPC_DIRS, ['PASSWORD']);
}

/** The operator's objects synced into Secrets the pod shows as volumes (with items) and an env variable. */
async function operatorOriginal(): Promise<Original> {
  const namespace = await kvNamespace('mig-pods-op', 'vault');
  const create = (kind: string, name: string, spec: object): Manifest => ({
    apiVersion: `${group}/${version}`,
    kind,
    metadata: { name, namespace },
    spec,
  });
  await applyManifests(env.stack.kube.config, [
    create('VaultConnection', 'vault', { address: env.cluster.vaultAddrForPods }),
    create('VaultAuth', 'app', {
      vaultConnectionRef: 'vault',
      method: 'kubernetes',
      mount: kubernetesAuthMount,
      kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
    }),
    create('VaultStaticSecret', 'config', {
      vaultAuthRef: 'app',
      mount: kvV2Mount,
      type: 'kv-v2',
      path: `${namespace}/config`,
      refreshAfter: '30s',
      destination: { name: 'web-config', create: true },
    }),
    create('VaultDynamicSecret', 'db', {
      vaultAuthRef: 'app',
      mount: databaseMount,
      path: `creds/${databaseRole}`,
      destination: { name: 'db-credentials', create: true },
    }),
    create('VaultPKISecret', 'tls', {
      vaultAuthRef: 'app',
      mount: pkiMount,
      role: pkiRole,
      commonName: `web.${pkiDomain}`,
      ttl: '1h',
      destination: { name: 'web-tls', create: true, type: 'kubernetes.io/tls' },
    }),
    deployment(namespace, {
      containers: [
        appContainer(env, {
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-config', key: 'password' } } }],
          volumeMounts: [
            { name: 'config', mountPath: '/etc/config', readOnly: true },
            { name: 'db', mountPath: '/etc/db', readOnly: true },
            { name: 'tls', mountPath: '/etc/tls', readOnly: true },
          ],
        }),
      ],
      volumes: [
        // A volume of every key cannot move (the keys are Vault's, unknown offline: an error in the report); items can.
        {
          name: 'config',
          secret: {
            secretName: 'web-config',
            items: [
              { key: 'username', path: 'username' },
              { key: 'password', path: 'password', mode: 0o400 },
            ],
          },
        },
        {
          name: 'db',
          secret: {
            secretName: 'db-credentials',
            items: [
              { key: 'username', path: 'username' },
              { key: 'password', path: 'password' },
            ],
          },
        },
        {
          name: 'tls',
          secret: {
            secretName: 'web-tls',
            items: [
              { key: 'tls.crt', path: 'tls.crt' },
              { key: 'tls.key', path: 'tls.key' },
            ],
          },
        },
      ],
    }),
  ]);
  return original(namespace, OPERATOR_DIRS, ['PASSWORD']);
}

beforeAll(async () => {
  await installChart(env);
  // The originals start side by side: the node runs them while the others are created.
  [injectorToCsi, injectorToOperator, csiToOperator, operatorToCsi] = await Promise.all([
    injectorOriginal('mig-pods-inj-csi'),
    injectorOriginal('mig-pods-inj-op'),
    csiOriginal(),
    operatorOriginal(),
  ]);
}, 300_000);

describe('vaultbridge-migrate, proven in real pods', () => {
  it('injector annotations → SecretProviderClass: the CSI volumes show the files the agent rendered', async () => {
    const { namespace, view } = injectorToCsi;
    expect(Object.keys(view.files).sort()).toEqual([
      '/etc/app/conf/dsn.env',
      '/vault/secrets/config.txt',
      '/vault/secrets/db',
      '/vault/secrets/password',
      '/vault/secrets/settings.json',
    ]);
    const migration = await migrateNamespace(namespace, 'csi', ['--vault-address', env.cluster.vaultAddrForPods]);
    // Templates refuse a missing key instead of printing nothing; leased credentials and the files follow
    // the driver's mount and rotation, not the agent's renewal; templates and the agent's default
    // rendering need the Vaultbridge provider (upstream vault-csi-provider has no templates).
    expect(notExpressed(migration.findings)).toEqual([
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-db"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-dsn"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-password"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-secret-config.txt"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-db"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-secret-settings.json"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-dsn"]',
    ]);
    const afterView = await migratedView(injectorToCsi, migration.manifests);
    const migrated = await env.apps.readNamespacedDeployment({ namespace, name: 'web' });
    expect(
      Object.keys(migrated.spec!.template.metadata!.annotations ?? {}).filter((key) =>
        key.startsWith('vault.hashicorp.com/'),
      ),
    ).toEqual([]);
    expect(differences(view, afterView, { '/vault/secrets/db': dsn })).toEqual([]);
    await dsnLogsIn(afterView.files['/vault/secrets/db']!.text);
  });

  it('injector annotations → operator objects: the projected Secret volumes show the files the agent rendered', async () => {
    const { namespace, view } = injectorToOperator;
    const migration = await migrateNamespace(namespace, 'operator', ['--vault-address', env.cluster.vaultAddrForPods]);
    // Only the templates' missing-key behaviour differs.
    expect(notExpressed(migration.findings)).toEqual([
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-db"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-dsn"]',
      'changed Deployment metadata.annotations["vault.hashicorp.com/agent-inject-template-password"]',
    ]);
    expect(migration.manifests.map((m) => m.kind)).toEqual([
      'VaultConnection',
      'VaultAuth',
      'VaultStaticSecret',
      'VaultDynamicSecret',
      'Deployment',
    ]);
    const afterView = await migratedView(injectorToOperator, migration.manifests);
    expect(differences(view, afterView, { '/vault/secrets/db': dsn })).toEqual([]);
    await dsnLogsIn(afterView.files['/vault/secrets/db']!.text);
  });

  it("SecretProviderClass → operator objects: the same files, and the env variable from the operator's Secret", async () => {
    const { namespace, view } = csiToOperator;
    expect(Object.keys(view.files).sort()).toEqual([
      '/mnt/secrets/db-password',
      '/mnt/secrets/db-username',
      '/mnt/secrets/password',
      '/mnt/secrets/tls.crt',
      '/mnt/secrets/tls.key',
      '/mnt/secrets/username',
    ]);
    expect(pairs(view, '/mnt/secrets/tls.crt', '/mnt/secrets/tls.key')).toBe(true);
    expect(view.env).toEqual({ PASSWORD: kvData.password });
    const migration = await migrateNamespace(namespace, 'operator');
    // The synced Secret outlives the pods now (the operator keeps it), and is taken over from the driver.
    // Also: the certificate is issued per VaultPKISecret sync, renewed by the operator, not per mount.
    expect(notExpressed(migration.findings)).toEqual([
      'changed SecretProviderClass spec.secretObjects[0]',
      'changed SecretProviderClass spec.parameters.objects[4].secretPath',
    ]);
    const afterView = await migratedView(csiToOperator, migration.manifests);
    expect(
      differences(view, afterView, {
        '/mnt/secrets/db-username': token,
        '/mnt/secrets/db-password': token,
        '/mnt/secrets/tls.crt': certificate,
        '/mnt/secrets/tls.key': privateKey,
      }),
    ).toEqual([]);
    expect(pairs(afterView, '/mnt/secrets/tls.crt', '/mnt/secrets/tls.key')).toBe(true);
    await logsIn(
      env,
      afterView.files['/mnt/secrets/db-username']!.text,
      afterView.files['/mnt/secrets/db-password']!.text,
    );
    // The driver's synced Secret goes with the old pod; then the operator writes it (it refuses to take
    // over a Secret it does not own), so later pods read the operator's.
    await waitFor(env, namespace, 'web-synced written by the operator', async () =>
      (await ownerKinds(namespace, 'web-synced')).includes('VaultStaticSecret') ? true : undefined,
    );
    expect(await managedByDriver(namespace, 'web-synced')).toBe(false);
  });

  it('operator objects → SecretProviderClass: the CSI volumes show the same files, secretObjects keep the env variable', async () => {
    const { namespace, view } = operatorToCsi;
    expect(Object.keys(view.files).sort()).toEqual([
      '/etc/config/password',
      '/etc/config/username',
      '/etc/db/password',
      '/etc/db/username',
      '/etc/tls/tls.crt',
      '/etc/tls/tls.key',
    ]);
    expect(pairs(view, '/etc/tls/tls.crt', '/etc/tls/tls.key')).toBe(true);
    expect(view.env).toEqual({ PASSWORD: kvData.password });
    const migration = await migrateNamespace(namespace, 'csi');
    // The env variable's Secret exists only while a pod mounts the volume (secretObjects).
    // Also: tls.crt (certificate + CA chain) needs our provider's Go template.
    expect(notExpressed(migration.findings)).toEqual([
      'changed VaultPKISecret spec.destination.type',
      'changed VaultStaticSecret spec.destination.name',
    ]);
    // One SPC per volume; the env variable's Secret is the secretObjects of the volume that shows its key.
    expect(migration.manifests.map((m) => m.kind).sort()).toEqual([
      'Deployment',
      'SecretProviderClass',
      'SecretProviderClass',
      'SecretProviderClass',
    ]);
    // The objects the output replaces go first, and their Secrets with them (owner references), so the
    // CSI driver's secretObjects write web-config for the env variable.
    await deleteOperatorObjects(namespace, ['vaultstaticsecrets', 'vaultdynamicsecrets', 'vaultpkisecrets']);
    await secretGone(namespace, 'web-config');
    const afterView = await migratedView(operatorToCsi, migration.manifests);
    expect(
      differences(view, afterView, {
        '/etc/db/username': token,
        '/etc/db/password': token,
        '/etc/tls/tls.crt': certificate,
        '/etc/tls/tls.key': privateKey,
      }),
    ).toEqual([]);
    expect(pairs(afterView, '/etc/tls/tls.crt', '/etc/tls/tls.key')).toBe(true);
    await logsIn(env, afterView.files['/etc/db/username']!.text, afterView.files['/etc/db/password']!.text);
    expect(await managedByDriver(namespace, 'web-config')).toBe(true);
  });

  it('VSO objects → ours: the pod sees the keys VSO writes (each field and _raw)', async () => {
    const namespace = await kvNamespace('mig-pods-vso', 'vault');
    const vso = `
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultConnection
metadata: { name: vault, namespace: ${namespace} }
spec: { address: "${env.cluster.vaultAddrForPods}" }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultAuth
metadata: { name: auth, namespace: ${namespace} }
spec: { vaultConnectionRef: vault, method: kubernetes, mount: ${kubernetesAuthMount}, kubernetes: { role: ${namespace}, serviceAccount: app, audiences: [vault] } }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultStaticSecret
metadata: { name: app, namespace: ${namespace} }
spec: { vaultAuthRef: auth, mount: ${kvV2Mount}, type: kv-v2, path: ${namespace}/config, refreshAfter: 30s, destination: { name: app-secret, create: true } }
`;
    const workload = deployment(namespace, {
      containers: [
        appContainer(env, {
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } }],
          volumeMounts: [{ name: 'app-secret', mountPath: '/etc/app-secret', readOnly: true }],
        }),
      ],
      volumes: [{ name: 'app-secret', secret: { secretName: 'app-secret' } }],
    });
    const migration = await runMigrate(['--to', 'operator'], `${vso}---\n${JSON.stringify(workload)}\n`);
    expect(migration.code).toBe(0);
    expect(migration.findings).toEqual([]);
    // The workload passes through unchanged: VSO and the operator both write the Secret it reads.
    expect(migration.manifests.find((m) => m.kind === 'Deployment')).toEqual(workload);
    await applyManifests(env.stack.kube.config, migration.manifests);
    const pod = await currentPod(env, namespace, 'web');
    const view = await containerView(env, namespace, pod, ['/etc/app-secret'], ['PASSWORD']);
    const vault = await env.stack.vaultAdmin.read<{
      data: { data: Record<string, string>; metadata: Record<string, unknown> };
    }>(`${kvV2Mount}/data/${namespace}/config`);
    expect(
      Object.fromEntries(
        Object.entries(view.files).map(([file, { text }]) => [file, file.endsWith('_raw') ? JSON.parse(text) : text]),
      ),
    ).toEqual({
      '/etc/app-secret/_raw': vault.data,
      '/etc/app-secret/password': kvData.password,
      '/etc/app-secret/port': kvData.port,
      '/etc/app-secret/username': kvData.username,
    });
    expect(view.env).toEqual({ PASSWORD: kvData.password });
    const stored = (await env.apps.readNamespacedDeployment({ namespace, name: 'web' })) as V1Deployment;
    expect(stored.spec?.template.spec?.volumes?.[0]?.secret?.secretName).toBe('app-secret');
  });
});
