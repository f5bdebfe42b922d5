// The bundles as the image ships them (the package's bundle step, into a temporary directory), on the real
// stack: cli.mjs holds no Kubernetes client; its TokenRequest fallback imports kube-client.mjs, a second
// bundle with its own copies of core's classes, at the first mount whose driver sent no token. The token
// it gets is bound to the pod (Vault logs in with it), and the API server's refusal crosses back as the
// provider's own ServiceAccountTokenError (FAILED_PRECONDITION with the server's reason, not INTERNAL).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { freeLoopbackPort, repoRoot, sharedStack } from '@vaultbridge/testenv';
import { loadProviderService } from '../src/index.ts';

const stack = sharedStack();
const { layout } = stack;
const packageDir = path.join(repoRoot, 'packages/csi-provider');

interface MountResponse {
  files: Array<{ path: string; contents: Buffer }>;
}
type Client = grpc.Client & {
  Mount(request: unknown, callback: (error: grpc.ServiceError | null, response: MountResponse) => void): void;
};

const namespace = stack.uniqueName('csi-bundle');
const serviceAccount = 'api';
const authMount = stack.uniqueName('k8s-csi-bundle');
const role = stack.uniqueName('csi-bundle');
const appPath = stack.uniqueName('csi-bundle-app');
const podName = 'bundle-pod';
let podUid = '';
let work: string;
let bundleDir: string;
let provider: ChildProcess | undefined;
let client: Client | undefined;
let providerOutput = '';

/** The entries of the package's `bundle` script (what the image ships), e.g. src/cli.ts src/kube-client.ts. */
function bundleEntries(): string[] {
  const script = (
    JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
      scripts: { bundle: string };
    }
  ).scripts.bundle;
  const entries = script.split(' ').filter((word) => word.endsWith('.ts'));
  if (entries.length === 0) throw new Error(`no entries in the bundle script: ${script}`);
  return entries;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-bundle-'));
  bundleDir = path.join(work, 'dist/bundle');
  execFileSync(process.execPath, [path.join(repoRoot, 'tools/bundle.js'), '--outdir', bundleDir, ...bundleEntries()], {
    cwd: packageDir,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
  // The provider finds its .proto at ../../proto from dist/bundle, as in the image.
  fs.symlinkSync(path.join(packageDir, 'proto'), path.join(work, 'proto'));

  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, serviceAccount);
  await stack.enableKubernetesAuth(authMount);
  await stack.writePolicy(role, `path "${layout.kvV2Mount}/data/${appPath}" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(role, {
    serviceAccounts: [serviceAccount],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
    mount: authMount,
  });
  await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}`, { data: { username: 'bundle-user' } });
  const pod = await stack.kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: podName },
      spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'app:local' }] },
    },
  });
  podUid = pod.metadata?.uid ?? '';
  expect(podUid).not.toBe('');

  const socketPath = path.join(work, 'vault.sock');
  provider = spawn(
    process.execPath,
    [
      path.join(bundleDir, 'cli.mjs'),
      '--endpoint',
      socketPath,
      '--health-addr',
      `127.0.0.1:${await freeLoopbackPort()}`,
      '--vault-addr',
      stack.vaultAddr,
      '--kubeconfig',
      stack.handle.kubeconfigPath,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAMESPACE: namespace } },
  );
  provider.stdout?.on('data', (chunk: Buffer) => (providerOutput += chunk.toString()));
  provider.stderr?.on('data', (chunk: Buffer) => (providerOutput += chunk.toString()));
  for (let i = 0; i < 300 && !fs.existsSync(socketPath); i++) {
    if (provider.exitCode !== null) break;
    await sleep(100);
  }
  if (!fs.existsSync(socketPath))
    throw new Error(`the bundled provider did not listen on ${socketPath}: ${providerOutput.slice(-2000)}`);
  const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  client = new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as Client;
}, 180_000);

afterAll(async () => {
  client?.close();
  if (provider && provider.exitCode === null && provider.signalCode === null) {
    const exited = new Promise((resolve) => provider?.once('exit', resolve));
    provider.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(work, { recursive: true, force: true });
});

function mount(uid: string): Promise<MountResponse> {
  const attributes = JSON.stringify({
    roleName: role,
    vaultKubernetesMountPath: authMount,
    objects: `- objectName: username\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n`,
    'csi.storage.k8s.io/pod.name': podName,
    'csi.storage.k8s.io/pod.namespace': namespace,
    'csi.storage.k8s.io/pod.uid': uid,
    'csi.storage.k8s.io/serviceAccount.name': serviceAccount,
  });
  return new Promise((resolve, reject) =>
    client!.Mount(
      {
        attributes,
        secrets: 'null',
        target_path: path.join(work, 'target'),
        permission: '420',
        current_object_version: [],
      },
      (error, response) => (error ? reject(error) : resolve(response)),
    ),
  );
}

test('the Kubernetes client is in kube-client.mjs, not in cli.mjs, and the image ships every bundle', () => {
  const cli = fs.readFileSync(path.join(bundleDir, 'cli.mjs'), 'utf8');
  const kubeClient = fs.readFileSync(path.join(bundleDir, 'kube-client.mjs'), 'utf8');
  // CoreV1Api's TokenRequest call, and client-node's own source file names in each bundle's source map.
  expect(kubeClient).toContain('createNamespacedServiceAccountToken');
  expect(cli).not.toContain('createNamespacedServiceAccountToken');
  const sources = (file: string) =>
    (JSON.parse(fs.readFileSync(path.join(bundleDir, `${file}.map`), 'utf8')) as { sources: string[] }).sources;
  expect(sources('cli.mjs').filter((source) => source.includes('node_modules/@kubernetes/client-node/'))).toEqual([]);
  expect(sources('cli.mjs').filter((source) => source.includes('node_modules/undici/'))).toEqual([]);
  expect(sources('kube-client.mjs').some((source) => source.includes('node_modules/@kubernetes/client-node/'))).toBe(
    true,
  );

  const dockerfile = fs.readFileSync(path.join(packageDir, 'Dockerfile'), 'utf8');
  const copied = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\/app\/dist\/bundle\/\s*$/gm)].flatMap((m) =>
    (m[1] ?? '').split(/\s+/),
  );
  const built = fs.readdirSync(bundleDir).filter((file) => file.endsWith('.mjs'));
  expect(built.sort()).toEqual(['cli.mjs', 'hmac-key-process.mjs', 'kube-client.mjs']);
  for (const file of built) expect(copied).toContain(`dist/bundle/${file}`);
});

test("the driver sent no token: cli.mjs imports kube-client.mjs, requests one bound to the pod, and Vault's login with it serves the mount", async () => {
  const route = `POST /v1/auth/${authMount}/login`;
  const before = (await stack.requestCounts()).byRoute[route] ?? 0;
  const response = await mount(podUid);
  const file = response.files.find((entry) => entry.path === 'username');
  expect(file && Buffer.from(file.contents).toString('utf8')).toBe('bundle-user');
  expect(((await stack.requestCounts()).byRoute[route] ?? 0) - before).toBe(1);
});

test("the API server's refusal crosses the bundles as the provider's ServiceAccountTokenError: FAILED_PRECONDITION with its reason", async () => {
  const wrongUid = '7a1e0000-0000-4000-8000-000000000099';
  const error = await mount(wrongUid).then(
    () => {
      throw new Error('the mount was served; expected a refusal');
    },
    (refusal: grpc.ServiceError) => refusal,
  );
  expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
  expect(error.details).toMatch(
    /TokenRequest for service account .* failed .*the UID in the bound object reference \(7a1e0000-0000-4000-8000-000000000099\) does not match/,
  );
});
