import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { RunningApiServer } from '../kube-apiserver.ts';
import { startProcess, stopProcess, tailLog, type ManagedProcess } from '../processes.ts';
import {
  startCoreDns,
  startControllerManager,
  startCsiDriver,
  startKubelet,
  startKubeProxy,
  startScheduler,
  kubeProxyCleanupArgs,
} from './components.ts';
import { importImages, killLeftovers, startContainerd } from './containerd.ts';
import { buildImageArchive, bundleServices, type BuiltArchive } from './images.ts';
import type { ClusterLayout } from './layout.ts';
import { removeKubeletChains, setUpNetwork } from './network.ts';

export type Progress = (message: string) => void;

/** Times one step of the cluster's start and reports it, so a slow step is visible in every run. */
export async function timed<T>(progress: Progress, label: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await step();
  progress(`${label}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return result;
}

const ownerFile = (layout: ClusterLayout): string => path.join(path.dirname(layout.containerdSocket), 'owner.pid');

/** One cluster per machine: refuse while another live `up --cluster` owns it. */
export function claimMachine(layout: ClusterLayout): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the cluster tier needs root (containerd, the kubelet, the pod network and iptables); run the tiers below it with `npm run test:api`',
    );
  }
  if (process.platform !== 'linux')
    throw new Error('the cluster tier needs Linux; run the tiers below it with `npm run test:api`');
  const file = ownerFile(layout);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const owner = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 0;
  if (owner && owner !== process.pid) {
    let alive = true;
    try {
      process.kill(owner, 0);
    } catch {
      alive = false;
    }
    if (alive)
      throw new Error(
        `a cluster is already running on this machine (testenv process ${owner}); stop it first (kill -TERM ${owner})`,
      );
  }
  fs.writeFileSync(file, String(process.pid));
}

export function releaseMachine(layout: ClusterLayout): void {
  const file = ownerFile(layout);
  if (fs.existsSync(file) && Number(fs.readFileSync(file, 'utf8')) === process.pid) fs.rmSync(file);
}

/**
 * What the node needs before the API server, in two parts: the network (leftovers of an earlier
 * run ended, the bridge whose address the API server binds), then the runtime (containerd started
 * fresh, its metadata wiped, and the images imported from the cached archive), which runs while the
 * servers start.
 */
export async function prepareNetwork(layout: ClusterLayout, progress: Progress): Promise<void> {
  await timed(progress, 'cluster: leftovers of earlier runs ended', () => killLeftovers(layout, { daemons: true }));
  await timed(progress, 'cluster: pod network and containment', () => setUpNetwork(layout));
}

export async function prepareRuntime(
  layout: ClusterLayout,
  logDir: string,
  progress: Progress,
): Promise<{ process: ManagedProcess; archive: BuiltArchive }> {
  const archivePromise = timed(progress, 'cluster: service bundles and image archive', async () => {
    await bundleServices(progress);
    const archive = await buildImageArchive(layout.imagesDir, progress);
    progress(
      `images: ${archive.cached ? 'reused' : 'built'} ${path.basename(archive.file)} (${archive.references.join(', ')})`,
    );
    return archive;
  });
  // Runtime state and IP allocations belong to the previous run; containerd's root (its image
  // store) is kept, so an unchanged archive is not imported again.
  for (const dir of [layout.containerdState, layout.cniDataDir]) fs.rmSync(dir, { recursive: true, force: true });
  const containerd = await timed(progress, 'cluster: containerd', () => startContainerd(layout, logDir));
  try {
    const archive = await archivePromise;
    const marker = path.join(layout.containerdRoot, 'vaultbridge-imported');
    if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === path.basename(archive.file)) {
      progress('cluster: images already imported');
    } else {
      await timed(progress, 'cluster: images imported', () => importImages(layout, archive.file));
      fs.writeFileSync(marker, path.basename(archive.file));
    }
    return { process: containerd, archive };
  } catch (error) {
    await stopProcess(containerd);
    throw error;
  }
}

/** The node's processes after the API server is up; ends with the node Ready. */
export async function startNode(
  layout: ClusterLayout,
  api: RunningApiServer,
  workDir: string,
  logDir: string,
  progress: Progress,
  started: ManagedProcess[],
): Promise<void> {
  const dir = path.join(workDir, 'node');
  fs.mkdirSync(dir, { recursive: true });
  const keep = (proc: ManagedProcess): ManagedProcess => {
    started.push(proc);
    return proc;
  };
  keep(await startControllerManager(layout, api, dir, logDir));
  keep(await startScheduler(api, dir, logDir));
  keep(await startKubeProxy(layout, api, dir, logDir));
  await Promise.all([
    timed(progress, 'cluster: kubelet', async () => keep(await startKubelet(layout, api, dir, logDir))),
    timed(progress, 'cluster: coredns', async () => keep(await startCoreDns(layout, api, dir, logDir))),
  ]);
  await timed(progress, 'cluster: secrets-store-csi-driver', async () => {
    for (const proc of await startCsiDriver(layout, api, dir, logDir, { rotationPollInterval: '5s' })) keep(proc);
  });
  await timed(progress, 'cluster: node Ready', () => waitForNodeReady(layout, api, started));
}

async function waitForNodeReady(
  layout: ClusterLayout,
  api: RunningApiServer,
  processes: ManagedProcess[],
): Promise<void> {
  const config = new k8s.KubeConfig();
  config.loadFromFile(api.kubeconfigPath);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const storage = config.makeApiClient(k8s.StorageV1Api);
  const deadline = Date.now() + 120_000;
  let last = 'not registered';
  while (Date.now() < deadline) {
    const dead = processes.find((p) => p.child.exitCode !== null);
    if (dead)
      throw new Error(
        `${dead.name} exited while the node came up. Last log lines (${dead.logPath}):\n${tailLog(dead)}`,
      );
    try {
      const node = await core.readNode({ name: layout.nodeName });
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      last = `Ready=${ready?.status} (${ready?.reason ?? ''}: ${ready?.message ?? ''})`;
      if (ready?.status === 'True') {
        // The CSI driver counts once the kubelet registered it through our registrar.
        const csiNode = await storage.readCSINode({ name: layout.nodeName });
        if (csiNode.spec.drivers.some((d) => d.name === 'secrets-store.csi.k8s.io')) return;
        last = 'Ready, but the CSI driver is not registered on the node yet';
      }
    } catch {
      // not registered yet
    }
    await sleep(250);
  }
  const kubelet = processes.find((p) => p.name === 'kubelet');
  throw new Error(
    `node ${layout.nodeName} not ready after 120 s: ${last}${kubelet ? `\nkubelet log (${kubelet.logPath}):\n${tailLog(kubelet)}` : ''}`,
  );
}

/**
 * Stops the node: its processes first (the kubelet does not stop pods when it exits), then every
 * pod process and shim, containerd, and kube-proxy's rules. Safe after a partial start.
 */
export async function stopNode(layout: ClusterLayout, processes: ManagedProcess[], logDir: string): Promise<void> {
  const containerd = processes.find((p) => p.name === 'containerd');
  await Promise.all(processes.filter((p) => p !== containerd).map((p) => stopProcess(p)));
  await killLeftovers(layout, { daemons: false });
  if (containerd) await stopProcess(containerd);
  const [command, args] = kubeProxyCleanupArgs();
  const cleanup = startProcess('kube-proxy-cleanup', command, args, logDir);
  await Promise.race([cleanup.exited, sleep(30_000)]);
  await stopProcess(cleanup);
  await removeKubeletChains();
  releaseMachine(layout);
}
