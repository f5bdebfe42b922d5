import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import {
  claimMachine,
  prepareNetwork,
  prepareRuntime,
  releaseMachine,
  startNode,
  stopNode,
} from './cluster/cluster.ts';
import { servicePackages, serviceImage } from './cluster/images.ts';
import { clusterLayout, type ClusterLayout } from './cluster/layout.ts';
import { CountingProxy } from './counting-proxy.ts';
import { startEtcd } from './etcd.ts';
import { TestStack, type StackHandle } from './handle.ts';
import { KubeAdmin } from './kube-admin.ts';
import { startApiServer } from './kube-apiserver.ts';
import { startPostgres, type RunningPostgres } from './postgres.ts';
import { stopProcess, type ManagedProcess } from './processes.ts';
import { VaultAdmin } from './vault-api.ts';
import { startVault } from './vault-server.ts';
import { configureVault, defaultVaultLayout, type PostgresConnection } from './vault-setup.ts';

export interface StartOptions {
  /** Where data, certificates and logs go; a new temp dir by default, removed by stop(). */
  workDir?: string;
  /** Leave the work dir (logs) behind after stop(). */
  keepWorkDir?: boolean;
  /** Report progress, e.g. to the console. */
  onProgress?: (message: string) => void;
  /**
   * Also run a real node (containerd, kubelet, scheduler, controller-manager, kube-proxy, CoreDNS,
   * the Secrets Store CSI Driver) with the service images imported. Needs root on Linux and
   * `tools/install.sh cluster`. Its state lives in /var/lib/vaultbridge-cluster (VAULTBRIDGE_CLUSTER_DIR).
   */
  cluster?: boolean;
}

/** A stack this process started. stop() ends every child, also when a test failed. */
export class RunningStack extends TestStack {
  private readonly processes: ManagedProcess[];
  private readonly proxy: CountingProxy;
  private readonly removeWorkDir: boolean;
  private readonly clusterLayout: ClusterLayout | undefined;
  private stopped = false;

  constructor(
    handle: StackHandle,
    processes: ManagedProcess[],
    proxy: CountingProxy,
    removeWorkDir: boolean,
    layout?: ClusterLayout,
  ) {
    super(handle);
    this.processes = processes;
    this.proxy = proxy;
    this.removeWorkDir = removeWorkDir;
    this.clusterLayout = layout;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.proxy.close();
    if (this.clusterLayout)
      await stopNode(this.clusterLayout, takeNodeProcesses(this.processes), path.join(this.handle.workDir, 'logs'));
    // The API server first (it holds etcd), then the rest together.
    const apiServer = this.processes.find((p) => p.name === 'kube-apiserver');
    if (apiServer) await stopProcess(apiServer);
    await Promise.all(this.processes.filter((p) => p !== apiServer).map((p) => stopProcess(p)));
    if (this.removeWorkDir) fs.rmSync(this.handle.workDir, { recursive: true, force: true });
  }
}

const serverNames = new Set(['etcd', 'vault', 'postgres', 'kube-apiserver']);

/** Removes and returns the node's processes (everything but the stack's servers). */
function takeNodeProcesses(processes: ManagedProcess[]): ManagedProcess[] {
  const node = processes.filter((p) => !serverNames.has(p.name));
  for (const proc of node) processes.splice(processes.indexOf(proc), 1);
  return node;
}

/**
 * Starts etcd, kube-apiserver, PostgreSQL and Vault on free loopback ports and configures Vault.
 * With `cluster`, the servers listen on the node's bridge address and a real node runs too.
 */
export async function startStack(options: StartOptions = {}): Promise<RunningStack> {
  const progress = options.onProgress ?? (() => {});
  const layout = options.cluster ? clusterLayout() : undefined;
  if (layout) claimMachine(layout);
  // The cluster's run dir is fixed (and emptied on each start): its paths appear in kubelet state.
  const clusterRunDir = layout ? path.join(layout.stateDir, 'run') : undefined;
  if (clusterRunDir) {
    fs.rmSync(clusterRunDir, { recursive: true, force: true });
    fs.mkdirSync(clusterRunDir, { recursive: true });
  }
  const workDir = options.workDir ?? clusterRunDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-stack-'));
  const logDir = path.join(workDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const processes: ManagedProcess[] = [];
  const started = Date.now();
  const track = <T extends { process: ManagedProcess }>(promise: Promise<T>, label: string): Promise<T> =>
    promise.then((value) => {
      processes.push(value.process);
      progress(`${label} ready after ${((Date.now() - started) / 1000).toFixed(1)}s`);
      return value;
    });

  let proxy: CountingProxy | undefined;
  try {
    // The bridge must hold the node address before the servers bind it.
    if (layout) await prepareNetwork(layout, progress);
    // Independent servers start together; the API server waits only for etcd.
    const etcdPromise = track(startEtcd(workDir, logDir), 'etcd');
    const vaultPromise = track(startVault(workDir, logDir, layout?.gateway), 'vault');
    const postgresPromise = track(startPostgres(workDir, logDir), 'postgres');
    const nodeOptions = layout ? { address: layout.gateway, serviceIp: layout.kubernetesServiceIp } : undefined;
    const apiServerPromise = etcdPromise.then((etcd) =>
      track(startApiServer(workDir, logDir, etcd.clientUrl, nodeOptions), 'kube-apiserver'),
    );
    const runtimePromise = layout
      ? track(prepareRuntime(layout, logDir, progress), 'containerd with images')
      : Promise.resolve(undefined);
    const results = await Promise.allSettled([
      etcdPromise,
      vaultPromise,
      postgresPromise,
      apiServerPromise,
      runtimePromise,
    ]);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    const [vault, postgres, apiServer, runtime] = [
      await vaultPromise,
      await postgresPromise,
      await apiServerPromise,
      await runtimePromise,
    ];
    if (layout) await startNode(layout, apiServer, workDir, logDir, progress, processes);

    proxy = new CountingProxy(vault.addr);
    const proxyUrl = await proxy.listen();
    const handle: StackHandle = {
      workDir,
      kubeconfigPath: apiServer.kubeconfigPath,
      apiServer: { url: apiServer.url, caPem: apiServer.caPem },
      vault: { addr: proxyUrl, directAddr: vault.addr, token: vault.rootToken, tls: vault.tls },
      postgres: pgConnection(postgres),
      layout: defaultVaultLayout,
      pids: Object.fromEntries(processes.map((p) => [p.name, p.pid])),
      ...(layout
        ? {
            cluster: {
              nodeName: layout.nodeName,
              nodeAddress: layout.gateway,
              podCidr: layout.podCidr,
              vaultAddrForPods: vault.addr,
              providersDir: layout.providersDir,
              imageArchive: runtime!.archive.file,
              images: Object.fromEntries(servicePackages.map((pkg) => [pkg, serviceImage(pkg).reference])) as Record<
                (typeof servicePackages)[number],
                string
              >,
            },
          }
        : {}),
    };
    await configureVault(
      new VaultAdmin(vault.addr, vault.rootToken),
      new KubeAdmin(apiServer.kubeconfigPath),
      handle.apiServer,
      handle.postgres,
      handle.layout,
    );
    progress(`vault configured after ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return new RunningStack(handle, processes, proxy, !options.keepWorkDir && !options.workDir && !layout, layout);
  } catch (error) {
    await proxy?.close();
    if (layout) await stopNode(layout, takeNodeProcesses(processes), logDir).catch(() => releaseMachine(layout));
    await Promise.all(processes.map((p) => stopProcess(p)));
    throw new Error(
      `test stack failed to start (logs in ${logDir}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function pgConnection(pg: RunningPostgres): PostgresConnection {
  return { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: pg.database };
}

/**
 * Uses an existing cluster and Vault instead of starting servers (like envtest's USE_EXISTING_CLUSTER):
 * KUBECONFIG names the cluster, VAULT_ADDR and VAULT_TOKEN a Vault whose token may configure mounts,
 * and VAULTBRIDGE_PG_HOST/PORT/USER/PASSWORD/DATABASE a PostgreSQL that Vault can reach (optional).
 * Vault is configured idempotently; a counting proxy still runs in this process.
 */
export async function useExistingStack(options: StartOptions = {}): Promise<RunningStack> {
  const env = process.env;
  const missing = ['KUBECONFIG', 'VAULT_ADDR', 'VAULT_TOKEN'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`VAULTBRIDGE_USE_EXISTING needs ${missing.join(', ')} in the environment`);
  const workDir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-existing-'));
  const kubeconfigPath = env.KUBECONFIG!.split(':')[0]!;
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error(`KUBECONFIG ${kubeconfigPath} has no current cluster`);
  const caPem = cluster.caData
    ? Buffer.from(cluster.caData, 'base64').toString('utf8')
    : cluster.caFile
      ? fs.readFileSync(cluster.caFile, 'utf8')
      : '';
  const postgres: PostgresConnection | undefined = env.VAULTBRIDGE_PG_HOST
    ? {
        host: env.VAULTBRIDGE_PG_HOST,
        port: Number(env.VAULTBRIDGE_PG_PORT ?? 5432),
        user: env.VAULTBRIDGE_PG_USER ?? 'postgres',
        password: env.VAULTBRIDGE_PG_PASSWORD ?? '',
        database: env.VAULTBRIDGE_PG_DATABASE ?? 'postgres',
      }
    : undefined;
  const proxy = new CountingProxy(env.VAULT_ADDR!);
  const proxyUrl = await proxy.listen();
  const handle: StackHandle = {
    workDir,
    kubeconfigPath,
    apiServer: { url: env.VAULTBRIDGE_KUBE_HOST_FOR_VAULT ?? cluster.server, caPem },
    vault: { addr: proxyUrl, directAddr: env.VAULT_ADDR!, token: env.VAULT_TOKEN! },
    ...(postgres ? { postgres } : {}),
    layout: defaultVaultLayout,
    pids: {},
  };
  await configureVault(
    new VaultAdmin(handle.vault.directAddr, handle.vault.token),
    new KubeAdmin(kubeconfigPath),
    handle.apiServer,
    postgres,
    handle.layout,
  );
  options.onProgress?.('existing cluster and Vault configured');
  return new RunningStack(handle, [], proxy, !options.workDir);
}
