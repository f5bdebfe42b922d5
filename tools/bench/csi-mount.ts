// CSI provider benchmark: the provider bundle on a unix socket against the real stack, called as the
// Secrets Store CSI driver calls it, and run as in its pod: its service account (token, CA and namespace
// under VAULTBRIDGE_SERVICE_ACCOUNT_ROOT, KUBERNETES_SERVICE_HOST/PORT), no kubeconfig, and mounts without
// a kubelet token (a CSIDriver without tokenRequests, the upstream default), so every new pod takes the
// TokenRequest fallback against real Pod objects. Mount latency cold (new identity: TokenRequest + login +
// reads) and warm, many pods mounting at once, Vault requests per mount, the rotation polls of a pod with
// database credentials, and the provider's memory. BENCH_CSI_ACCESS=kubeconfig runs the provider with
// --kubeconfig instead (for bundles older than its in-cluster client, which read only a kubeconfig).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { loadProviderService, mapLimit } from '@vaultbridge/csi-provider';
import { freeLoopbackPort, repoRoot, startStack, type RunningStack } from '@vaultbridge/testenv';
import { shippedEnv, shippedNodeFlags } from './footprint.ts';

interface MountResponse {
  files: Array<{ path: string; contents: Buffer }>;
}
export type Driver = grpc.Client & {
  Mount(request: unknown, callback: (error: grpc.ServiceError | null, response: MountResponse) => void): void;
};

export interface CsiBenchResult {
  coldMountMs: number;
  /** The same first mount from a provider started with --no-warm-up (what it cost before the warm-up). */
  coldMountNoWarmUpMs: number;
  idleRssNoWarmUpMiB: number;
  coldVaultRequests: number;
  warm: { mounts: number; p50Ms: number; p99Ms: number; vaultRequestsPerMount: number };
  concurrent: { pods: number; totalMs: number; p99Ms: number; vaultLogins: number; vaultRequests: number };
  rotationPolls: { polls: number; databaseReads: number };
  idleRssMiB: number;
  rssMiB: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function rssMiB(child: ChildProcess): number {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** The shipped node flags (the image's ENTRYPOINT), unless BENCH_CSI_NODE_FLAGS names others ('' for none). */
export function csiNodeFlags(): string[] {
  const fromEnv = process.env.BENCH_CSI_NODE_FLAGS;
  if (fromEnv !== undefined) return fromEnv.split(' ').filter(Boolean);
  return shippedNodeFlags(path.join(repoRoot, 'packages/csi-provider/Dockerfile'));
}

/** The provider bundle (BENCH_CSI_BUNDLE names another build, e.g. an older commit's, to compare against). */
export function csiBundle(): string {
  const bundle = process.env.BENCH_CSI_BUNDLE ?? path.join(repoRoot, 'packages/csi-provider/dist/bundle/cli.mjs');
  if (!fs.existsSync(bundle))
    throw new Error(`${bundle} is missing: run 'npx nx run @vaultbridge/csi-provider:bundle' (npm run bench does)`);
  return bundle;
}

export interface CsiBenchSetup {
  /** Starts a provider on `socketPath`; `spawnWith` starts it another way (e.g. inside a cgroup). */
  startProvider(
    socketPath: string,
    extraArgs: string[],
    spawnWith?: (command: string, args: string[], env: NodeJS.ProcessEnv) => ChildProcess,
  ): Promise<ChildProcess>;
  connect(socketPath: string): Driver;
  /** Creates the Pod objects (`web-<podKey>`) mountOn binds its TokenRequests to. */
  createPods(podKeys: readonly string[]): Promise<void>;
  mountOn(driver: Driver, objects: string, podKey: string): Promise<number>;
  kvObjects: string;
  dbObjects: string;
  token: string;
}

/** How the provider reaches the API server: its service account as in a pod (default), or BENCH_CSI_ACCESS=kubeconfig. */
function csiAccess(): 'in-cluster' | 'kubeconfig' {
  const access = process.env.BENCH_CSI_ACCESS ?? 'in-cluster';
  if (access !== 'in-cluster' && access !== 'kubeconfig')
    throw new Error(`BENCH_CSI_ACCESS: expected in-cluster or kubeconfig, got ${JSON.stringify(access)}`);
  return access;
}

/** Vault policy, role and secrets for the bench namespace, and how to start providers and mount. */
export async function prepareCsiBench(stack: RunningStack, work: string): Promise<CsiBenchSetup> {
  const bundle = csiBundle();
  const nodeFlags = csiNodeFlags();
  const access = csiAccess();
  const ns = 'csi-bench';
  const { layout } = stack;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  // The provider's own service account; its RBAC does not change the footprint (the chart's own rules are
  // exercised by packages/csi-provider/test/bundle-token-request-e2e.test.ts).
  const account = await stack.serviceAccountRoot(ns, 'csi-provider');
  await stack.kube.bindClusterRole('csi-bench-csi-provider', 'cluster-admin', ns, 'csi-provider');
  await stack.writePolicy(
    'csi-bench',
    `
path "${layout.kvV2Mount}/data/csi-bench/*" { capabilities = ["read"] }
path "${layout.databaseMount}/creds/${layout.databaseRole}" { capabilities = ["read"] }
`,
  );
  await stack.writeKubernetesRole('csi-bench', {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: ['csi-bench'],
    audience: 'vault',
  });
  for (const name of ['db', 'api', 'tls'])
    await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/csi-bench/${name}`, {
      data: { user: name, password: `${name}-password` },
    });

  // As in the pod: no KUBECONFIG and no ~/.kube/config (HOME is the work directory), which would win.
  const { KUBECONFIG: _kubeconfig, ...parentEnv } = process.env;
  const env = {
    ...parentEnv,
    HOME: work,
    ...shippedEnv(path.join(repoRoot, 'packages/csi-provider/Dockerfile')),
    ...(access === 'in-cluster'
      ? { ...account.env, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: account.root }
      : { NAMESPACE: ns }),
  };
  const startProvider = async (
    socketPath: string,
    extraArgs: string[],
    spawnWith?: (command: string, args: string[], env: NodeJS.ProcessEnv) => ChildProcess,
  ): Promise<ChildProcess> => {
    const args = [
      ...nodeFlags,
      bundle,
      '--endpoint',
      socketPath,
      '--health-addr',
      `127.0.0.1:${await freeLoopbackPort()}`,
      '--vault-addr',
      stack.vaultAddr,
      ...(access === 'kubeconfig' ? ['--kubeconfig', stack.handle.kubeconfigPath] : []),
      '--log-level',
      'warn',
      ...extraArgs,
    ];
    const child = spawnWith
      ? spawnWith(process.execPath, args, env)
      : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    for (let i = 0; i < 100 && !fs.existsSync(socketPath); i++) await sleep(100);
    await sleep(1000);
    return child;
  };
  const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  const { token } = await stack.requestToken(ns, 'app', { audiences: ['vault'] });
  // The fallback's TokenRequest is bound to the pod, so every pod mounted is a real Pod object (no
  // kubelet runs it); made before the timings, by createPods.
  const podUids = new Map<string, string>();
  const createPods = async (podKeys: readonly string[]): Promise<void> => {
    await mapLimit(
      podKeys.filter((podKey) => !podUids.has(podKey)),
      8,
      async (podKey) => {
        const pod = await stack.kube.core.createNamespacedPod({
          namespace: ns,
          body: {
            metadata: { name: `web-${podKey}` },
            spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'app:local' }] },
          },
        });
        podUids.set(podKey, pod.metadata?.uid ?? '');
      },
    );
  };
  const kvObjects = ['db', 'api', 'tls']
    .map(
      (name) =>
        `- objectName: ${name}\n  secretPath: ${layout.kvV2Mount}/data/csi-bench/${name}\n  secretKey: password\n`,
    )
    .join('');
  const dbObjects = `- objectName: db-username\n  secretPath: ${layout.databaseMount}/creds/${layout.databaseRole}\n  secretKey: username\n- objectName: db-password\n  secretPath: ${layout.databaseMount}/creds/${layout.databaseRole}\n  secretKey: password\n`;
  const mountOn = (driver: Driver, objects: string, podKey: string): Promise<number> => {
    const podUid = podUids.get(podKey);
    if (!podUid) return Promise.reject(new Error(`no Pod for ${podKey}: createPods first`));
    // No serviceAccount.tokens: the driver of a CSIDriver without tokenRequests sends none.
    const attributes = JSON.stringify({
      roleName: 'csi-bench',
      objects,
      'csi.storage.k8s.io/pod.name': `web-${podKey}`,
      'csi.storage.k8s.io/pod.namespace': ns,
      'csi.storage.k8s.io/pod.uid': podUid,
      'csi.storage.k8s.io/serviceAccount.name': 'app',
    });
    const started = performance.now();
    return new Promise((resolve, reject) =>
      driver.Mount(
        {
          attributes,
          secrets: 'null',
          target_path: path.join(work, podKey),
          permission: '420',
          current_object_version: [],
        },
        (error) => (error ? reject(error) : resolve(performance.now() - started)),
      ),
    );
  };
  const connect = (socketPath: string): Driver =>
    new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as Driver;
  // One login and read first, so Vault's own first-time costs land on no provider measured after.
  await stack.vaultAdmin.write('auth/kubernetes/login', { role: 'csi-bench', jwt: token });
  await stack.vaultAdmin.read(`${layout.kvV2Mount}/data/csi-bench/db`);
  return { startProvider, connect, createPods, mountOn, kvObjects, dbObjects, token };
}

const idleSettleMs = 5000;

export async function benchCsiMount(warmMounts = 200, pods = 50, polls = 20): Promise<CsiBenchResult> {
  const stack = await startStack();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-csi-bench-'));
  let provider: ChildProcess | undefined;
  try {
    const { layout } = stack;
    const { startProvider, connect, createPods, mountOn, kvObjects, dbObjects } = await prepareCsiBench(stack, work);
    await createPods(['pod-no-warm-up', 'pod-0', 'pod-db', ...Array.from({ length: pods }, (_, i) => `pod-c${i}`)]);
    const counts = async () => await stack.requestCounts();

    // The first mount of a provider started without the warm-up, for comparison; then the real one.
    const noWarmUpSocket = path.join(work, 'no-warm-up.sock');
    const noWarmUp = await startProvider(noWarmUpSocket, ['--no-warm-up']);
    // Idle is after start-up has settled: parsing the bundle holds ~17 MiB of malloc'd memory for the first
    // seconds (longer on a loaded machine), given back once compiled.
    await sleep(idleSettleMs);
    const idleRssNoWarmUpMiB = rssMiB(noWarmUp);
    const noWarmUpDriver = connect(noWarmUpSocket);
    const coldMountNoWarmUpMs = await mountOn(noWarmUpDriver, kvObjects, 'pod-no-warm-up');
    noWarmUpDriver.close();
    const noWarmUpExited = new Promise((resolve) => noWarmUp.once('exit', resolve));
    noWarmUp.kill('SIGTERM');
    await noWarmUpExited;

    const socketPath = path.join(work, 'vault.sock');
    provider = await startProvider(socketPath, []);
    await sleep(idleSettleMs);
    const idleRssMiB = rssMiB(provider);
    const driver = connect(socketPath);
    const mount = (objects: string, podUid: string): Promise<number> => mountOn(driver, objects, podUid);

    // Cold: the identity's first mount logs in, then reads.
    await stack.resetRequestCounts();
    const coldMountMs = await mount(kvObjects, 'pod-0');
    const coldVaultRequests = (await counts()).total;

    // Warm: the same pod's mounts and rotation polls (KV is never cached: every poll reads Vault).
    await stack.resetRequestCounts();
    const warm: number[] = [];
    for (let i = 0; i < warmMounts; i++) warm.push(await mount(kvObjects, 'pod-0'));
    const warmRequests = (await counts()).total;
    warm.sort((a, b) => a - b);

    // Many pods of one service account at once (a Deployment scaling up).
    await stack.resetRequestCounts();
    const startedAll = performance.now();
    const concurrent = (await Promise.all(Array.from({ length: pods }, (_, i) => mount(kvObjects, `pod-c${i}`)))).sort(
      (a, b) => a - b,
    );
    const totalMs = performance.now() - startedAll;
    const concurrentCounts = await counts();
    const logins = Object.entries(concurrentCounts.byRoute)
      .filter(([route]) => route.includes('/login'))
      .reduce((sum, [, n]) => sum + n, 0);

    // A pod with database credentials: the driver's rotation polls reuse the leased credential.
    await stack.resetRequestCounts();
    for (let i = 0; i < polls; i++) await mount(dbObjects, 'pod-db');
    const dbReads = (await counts()).byRoute[`GET /v1/${layout.databaseMount}/creds/${layout.databaseRole}`] ?? 0;

    const result: CsiBenchResult = {
      coldMountMs,
      coldMountNoWarmUpMs,
      idleRssNoWarmUpMiB,
      coldVaultRequests,
      warm: {
        mounts: warmMounts,
        p50Ms: percentile(warm, 50),
        p99Ms: percentile(warm, 99),
        vaultRequestsPerMount: warmRequests / warmMounts,
      },
      concurrent: {
        pods,
        totalMs,
        p99Ms: percentile(concurrent, 99),
        vaultLogins: logins,
        vaultRequests: concurrentCounts.total,
      },
      rotationPolls: { polls, databaseReads: dbReads },
      idleRssMiB,
      rssMiB: rssMiB(provider),
    };
    driver.close();
    return result;
  } finally {
    const running = provider;
    if (running && running.exitCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
    await stack.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function printCsiTable(r: CsiBenchResult): void {
  console.log('\nCSI provider (bundle, unix socket, real Vault; 3 KV objects per mount unless noted)');
  console.log('| scenario | result |');
  console.log('|---|---|');
  console.log(
    `| first mount after the provider starts (login + reads) | ${r.coldMountMs.toFixed(1)} ms, ${r.coldVaultRequests} Vault requests (without the warm-up, --no-warm-up: ${r.coldMountNoWarmUpMs.toFixed(1)} ms) |`,
  );
  console.log(
    `| ${r.warm.mounts} mounts of one pod, one after another | p50 ${r.warm.p50Ms.toFixed(1)} ms, p99 ${r.warm.p99Ms.toFixed(1)} ms, ${r.warm.vaultRequestsPerMount.toFixed(2)} Vault requests per mount |`,
  );
  console.log(
    `| ${r.concurrent.pods} pods of one service account at once | all in ${r.concurrent.totalMs.toFixed(0)} ms, p99 ${r.concurrent.p99Ms.toFixed(1)} ms, ${r.concurrent.vaultLogins} Vault login(s) (one per new pod, as upstream), ${r.concurrent.vaultRequests} Vault requests |`,
  );
  console.log(
    `| ${r.rotationPolls.polls} rotation polls of a pod with database credentials | ${r.rotationPolls.databaseReads} database credential read(s) (upstream re-issues on every poll, vault-csi-provider #238: ${r.rotationPolls.polls}) |`,
  );
  console.log(
    `| provider RSS idle after start / after the run | ${r.idleRssMiB.toFixed(0)} MiB / ${r.rssMiB.toFixed(0)} MiB (idle without the warm-up: ${r.idleRssNoWarmUpMiB.toFixed(0)} MiB) |`,
  );
}
