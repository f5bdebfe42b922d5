// The bundles as the image ships them (the package's bundle step, into a temporary directory), on the real
// stack, with the TokenRequest fallback (the driver sends no token: a CSIDriver without tokenRequests).
// In a pod (a service-account root, no kubeconfig) cli.mjs reads the HMAC key Secret and requests the pod's
// token over core's KubeHttp and never loads kube-config-client.mjs (@kubernetes/client-node): every module the
// process loads is recorded by a module hook preloaded with --import. With --kubeconfig it loads
// kube-config-client.mjs to read the file. The token is bound to the pod (Vault logs in with it), and the API
// server's refusal arrives as FAILED_PRECONDITION with its reason.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { freeLoopbackPort, moduleLogHook, repoRoot, sharedStack } from '@vaultbridge/testenv';
import { loadProviderService } from '../src/index.ts';
import { providerAccount, type ProviderAccount } from './support/provider-account.ts';
import { createAppPod } from './support/app-pod.ts';

const stack = sharedStack();
const { layout } = stack;
const packageDir = path.join(repoRoot, 'packages/csi-provider');

interface MountResponse {
  files: Array<{ path: string; contents: Buffer }>;
}
type Client = grpc.Client & {
  Mount(request: unknown, callback: (error: grpc.ServiceError | null, response: MountResponse) => void): void;
};

interface RunningProvider {
  process: ChildProcess;
  client: Client;
  /** The file:// URLs of every module the process loaded (the hook's log). */
  loaded(): string[];
  output(): string;
}

const namespace = stack.uniqueName('csi-bundle');
const serviceAccount = 'api';
const hmacSecretName = 'vault-csi-provider-hmac-key';
const authMount = stack.uniqueName('k8s-csi-bundle');
const role = stack.uniqueName('csi-bundle');
const appPath = stack.uniqueName('csi-bundle-app');
const podName = 'bundle-pod';
let podUid = '';
let work: string;
let bundleDir: string;
let account: ProviderAccount;
const providers: RunningProvider[] = [];

/** The entries of the package's `bundle` script (what the image ships), e.g. src/cli.ts ../core/src/kube/kube-config-client.ts. */
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

/** cli.mjs from the bundle directory with `args`, in `env` (no KUBECONFIG, HOME without a ~/.kube/config). */
async function startProvider(name: string, args: string[], env: Record<string, string>): Promise<RunningProvider> {
  const socketPath = path.join(work, `${name}.sock`);
  const log = path.join(work, `${name}-modules.log`);
  const { KUBECONFIG: _kubeconfig, ...parentEnv } = process.env;
  let output = '';
  const child = spawn(
    process.execPath,
    [
      '--import',
      moduleLogHook(work, log),
      path.join(bundleDir, 'cli.mjs'),
      '--endpoint',
      socketPath,
      '--health-addr',
      `127.0.0.1:${await freeLoopbackPort()}`,
      '--vault-addr',
      stack.vaultAddr,
      '--hmac-secret-name',
      hmacSecretName,
      '--log-level',
      'warn',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...parentEnv, HOME: work, ...env } },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; i < 300 && !fs.existsSync(socketPath); i++) {
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  if (!fs.existsSync(socketPath))
    throw new Error(`the bundled provider did not listen on ${socketPath}: ${output.slice(-2000)}`);
  const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  const client = new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as Client;
  const running = {
    process: child,
    client,
    loaded: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean),
    output: () => output,
  };
  providers.push(running);
  return running;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-bundle-'));
  bundleDir = path.join(work, 'dist/bundle');
  execFileSync(process.execPath, [path.join(repoRoot, 'tools/bundle.js'), '--outdir', bundleDir, ...bundleEntries()], {
    cwd: packageDir,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
  // No proto/ beside the bundle, as in the image: the gRPC descriptor is built into cli.mjs
  // (src/provider-proto.ts), so nothing parses a .proto at start.

  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, serviceAccount);
  account = await providerAccount(stack, namespace, hmacSecretName);
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
  podUid = await createAppPod(stack, namespace, podName, serviceAccount);
}, 180_000);

afterAll(async () => {
  for (const { client, process: child } of providers) {
    client.close();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
  await account?.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

function mount(client: Client, uid: string): Promise<MountResponse> {
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
    client.Mount(
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

async function expectServedWithBoundToken(client: Client): Promise<void> {
  const route = `POST /v1/auth/${authMount}/login`;
  const before = (await stack.requestCounts()).byRoute[route] ?? 0;
  const response = await mount(client, podUid);
  const file = response.files.find((entry) => entry.path === 'username');
  expect(file && Buffer.from(file.contents).toString('utf8')).toBe('bundle-user');
  expect(((await stack.requestCounts()).byRoute[route] ?? 0) - before).toBe(1);
}

const isKubeClient = (url: string) => url.endsWith('/kube-config-client.mjs');

test('the Kubernetes client is in kube-config-client.mjs, not in cli.mjs, and the image ships every bundle', () => {
  const cli = fs.readFileSync(path.join(bundleDir, 'cli.mjs'), 'utf8');
  const kubeClient = fs.readFileSync(path.join(bundleDir, 'kube-config-client.mjs'), 'utf8');
  // client-node's KubeConfig (its loadFromDefault) is in kube-config-client.mjs only, and so are its sources.
  expect(kubeClient).toContain('loadFromDefault');
  expect(cli).not.toContain('loadFromDefault');
  const sources = (file: string) =>
    (JSON.parse(fs.readFileSync(path.join(bundleDir, `${file}.map`), 'utf8')) as { sources: string[] }).sources;
  expect(sources('cli.mjs').filter((source) => source.includes('node_modules/@kubernetes/client-node/'))).toEqual([]);
  expect(sources('cli.mjs').filter((source) => source.includes('node_modules/undici/'))).toEqual([]);
  expect(
    sources('kube-config-client.mjs').some((source) => source.includes('node_modules/@kubernetes/client-node/')),
  ).toBe(true);

  const dockerfile = fs.readFileSync(path.join(packageDir, 'Dockerfile'), 'utf8');
  const copied = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\/app\/dist\/bundle\/\s*$/gm)].flatMap((m) =>
    (m[1] ?? '').split(/\s+/),
  );
  const built = fs.readdirSync(bundleDir).filter((file) => file.endsWith('.mjs'));
  expect(built.sort()).toEqual(['cli.mjs', 'kube-config-client.mjs']);
  for (const file of built) expect(copied).toContain(`dist/bundle/${file}`);
});

describe('in a pod: the service account, no kubeconfig', () => {
  let provider: RunningProvider;
  beforeAll(async () => {
    // No NAMESPACE: the provider's namespace comes from the service account's namespace file, as in a pod.
    provider = await startProvider('in-cluster', [], {
      ...account.env,
      VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: account.root,
    });
  }, 60_000);

  test("reads (creating it) the HMAC key Secret at start with the chart's RBAC, over KubeHttp", async () => {
    const secret = await stack.kube.core.readNamespacedSecret({ namespace, name: hmacSecretName });
    expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('vaultbridge-csi-provider');
    expect(Buffer.from(secret.data?.key ?? '', 'base64').length).toBe(32);
    // No warning: neither "no Kubernetes access" nor "cannot read or create the HMAC key Secret".
    expect(provider.output()).not.toMatch(/no Kubernetes access|HMAC key Secret/);
  });

  test('the driver sent no token: a TokenRequest bound to the pod serves the mount, and kube-config-client.mjs was never loaded', async () => {
    await expectServedWithBoundToken(provider.client);
    const loaded = provider.loaded();
    expect(loaded.some((url) => url.endsWith('/cli.mjs'))).toBe(true);
    expect(loaded.filter(isKubeClient)).toEqual([]);
  });

  test("the API server's refusal is FAILED_PRECONDITION with its reason", async () => {
    const wrongUid = '7a1e0000-0000-4000-8000-000000000099';
    const error = await mount(provider.client, wrongUid).then(
      () => {
        throw new Error('the mount was served; expected a refusal');
      },
      (refusal: grpc.ServiceError) => refusal,
    );
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toMatch(
      /TokenRequest for service account .* failed .*the UID in the bound object reference \(7a1e0000-0000-4000-8000-000000000099\) does not match/,
    );
    expect(provider.loaded().filter(isKubeClient)).toEqual([]);
  });
});

test('with --kubeconfig: kube-config-client.mjs reads the file, and the fallback mount is served the same way', async () => {
  const provider = await startProvider('kubeconfig', ['--kubeconfig', stack.handle.kubeconfigPath], {
    NAMESPACE: namespace,
  });
  await expectServedWithBoundToken(provider.client);
  expect(provider.loaded().filter(isKubeClient)).toHaveLength(1);
}, 60_000);
