// `vaultbridge-migrate --from-namespace` against the real API server: the CLI reads the namespace's
// workloads and operator objects, the output (server fields gone) is applied back with server-side
// apply, and the workload in the API server is the migrated one.
import fs from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { installCrds } from '@vaultbridge/operator';
import { sharedStack } from '@vaultbridge/testenv';
import { runMigrateCli } from '../src/cli.ts';
import { parseManifests, type Manifest } from '../src/manifests.ts';
import { annotatedDeployment } from './support/agent.ts';
import { applyManifests, installShippedCrds } from './support/apply.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const apps = kubeConfig.makeApiClient(AppsV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('mig-ns');

async function cli(
  argv: string[],
  stdin = '',
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; manifests: Manifest[]; report: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runMigrateCli(argv, { stdin: Readable.from(stdin === '' ? [] : [stdin]), stdout, stderr, env });
  return { code, manifests: parseManifests(out, 'stdout'), report: err };
}

beforeAll(async () => {
  await installShippedCrds(kubeConfig);
  // VSO's group served without VaultAuthGlobal (our operator's VSO mode, or a VSO before 0.8): the
  // namespace read must take that kind as absent, not fail. Installed here so the case does not depend
  // on which test of the shared stack ran first.
  await installCrds(kubeConfig, undefined, { vsoGroup: true });
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await apps.createNamespacedDeployment({
    namespace,
    body: annotatedDeployment(namespace, 'web', 'secret/data/web/config', 'database/creds/app') as never,
  });
});

test('--from-namespace --to operator: the live Deployment is read, converted, and applied back', async () => {
  const kubeconfig = stack.handle.kubeconfigPath;
  expect(fs.existsSync(kubeconfig)).toBe(true);
  const result = await cli([
    '--to',
    'operator',
    '--from-namespace',
    namespace,
    '--kubeconfig',
    kubeconfig,
    '--vault-address',
    stack.vaultAddr,
  ]);
  expect(result.report).not.toMatch(/^ {2}error /m);
  expect(result.code).toBe(0);
  const deployment = result.manifests.find((m) => m.kind === 'Deployment') as { metadata: Record<string, unknown> };
  // What the server set is not carried: the output applies as a user's manifest.
  expect(Object.keys(deployment.metadata).sort()).toEqual(['name', 'namespace']);
  expect(result.manifests.map((m) => m.kind)).toEqual([
    'VaultConnection',
    'VaultAuth',
    'VaultStaticSecret',
    'VaultDynamicSecret',
    'Deployment',
  ]);

  await applyManifests(kubeConfig, result.manifests);
  const live = await apps.readNamespacedDeployment({ name: 'web', namespace });
  expect(
    Object.keys(live.spec!.template.metadata!.annotations ?? {}).filter((key) =>
      key.startsWith('vault.hashicorp.com/'),
    ),
  ).toEqual([]);
  expect(live.spec!.template.spec!.volumes!.map((v) => [v.name, v.projected?.sources?.length])).toEqual([
    ['vault-secrets', 2],
    ['vault-secrets-custom-0', 1],
  ]);
  expect(live.spec!.template.spec!.containers[0]!.volumeMounts).toEqual([
    { name: 'vault-secrets', mountPath: '/vault/secrets', readOnly: true },
    { name: 'vault-secrets-custom-0', mountPath: '/etc/app', readOnly: true },
  ]);
  const statics = (await custom.listNamespacedCustomObject({
    group: 'secrets.vaultbridge.dev',
    version: 'v1beta1',
    namespace,
    plural: 'vaultstaticsecrets',
  })) as { items: unknown[] };
  expect(statics.items).toHaveLength(1);
});

test('--from-namespace --to csi: the operator objects now in the namespace become SecretProviderClasses', async () => {
  const result = await cli(['--to', 'csi', '--from-namespace', namespace, '--kubeconfig', stack.handle.kubeconfigPath]);
  expect(result.report).not.toMatch(/^ {2}error /m);
  expect(result.code).toBe(0);
  expect(result.manifests.map((m) => m.kind).sort()).toEqual([
    'Deployment',
    'SecretProviderClass',
    'SecretProviderClass',
  ]);
  const deployment = result.manifests.find((m) => m.kind === 'Deployment') as {
    spec: { template: { spec: { volumes: Array<{ name: string; csi?: { driver: string } }> } } };
  };
  expect(deployment.spec.template.spec.volumes.map((v) => [v.name, v.csi?.driver])).toEqual([
    ['vault-secrets', 'secrets-store.csi.k8s.io'],
    ['vault-secrets-custom-0', 'secrets-store.csi.k8s.io'],
  ]);
});

test('--ask-vault: the engine of each path comes from Vault, not from its shape', async () => {
  // A KV v2 secret named by its logical path (no data/), which the agent reads fine: by shape it would be KV v1.
  const pod = `
apiVersion: v1
kind: Pod
metadata:
  name: shapes
  namespace: ${namespace}
  annotations:
    vault.hashicorp.com/agent-inject: "true"
    vault.hashicorp.com/role: web
    vault.hashicorp.com/agent-inject-secret-v2: ${stack.layout.kvV2Mount}/web/config
    vault.hashicorp.com/agent-inject-secret-v1: ${stack.layout.kvV1Mount}/web/config
spec:
  containers: [{ name: app, image: busybox }]
`;
  const guessed = await cli(['--to', 'operator', '--vault-address', stack.vaultAddr], pod);
  const asked = await cli(['--to', 'operator', '--vault-address', stack.vaultAddr, '--ask-vault'], pod, {
    VAULT_ADDR: stack.handle.vault.directAddr,
    VAULT_TOKEN: stack.rootToken,
  });
  const types = (manifests: Manifest[]) =>
    manifests
      .filter((m) => m.kind === 'VaultStaticSecret')
      .map((m) => [
        (m.spec as { mount: string }).mount,
        (m.spec as { type: string }).type,
        (m.spec as { path: string }).path,
      ]);
  expect(types(guessed.manifests)).toEqual([
    ['kv', 'kv-v1', 'web/config'],
    [stack.layout.kvV2Mount, 'kv-v1', 'web/config'],
  ]);
  expect(guessed.report).toMatch(/from the path's shape/);
  expect(types(asked.manifests)).toEqual([
    ['kv', 'kv-v1', 'web/config'],
    [stack.layout.kvV2Mount, 'kv-v2', 'web/config'],
  ]);
  expect(asked.report).not.toMatch(/from the path's shape/);
});
