import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, waitUntilReady, type ManagedProcess } from '../processes.ts';
import type { ClusterLayout } from './layout.ts';
import { run } from './run.ts';

/** The image the CRI plugin runs every pod sandbox with; imported from the stack's image archive. */
export const sandboxImage = 'vaultbridge.local/pause:v1';

/**
 * containerd as a plain process with its own root, state and socket (no systemd here), configured
 * for the kubelet's CRI. `restrict_oom_score_adj` is required where root lacks CAP_SYS_RESOURCE:
 * runc cannot lower the sandbox's oom_score_adj and every sandbox fails ("can't get final child's
 * PID from pipe: EOF"). Network namespaces live under the state dir, so cleaning up never touches
 * anyone else's.
 */
function config(layout: ClusterLayout): string {
  return `version = 2
root = ${JSON.stringify(layout.containerdRoot)}
state = ${JSON.stringify(layout.containerdState)}

[grpc]
  address = ${JSON.stringify(layout.containerdSocket)}

[ttrpc]
  address = ${JSON.stringify(`${layout.containerdSocket}.ttrpc`)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${JSON.stringify(path.join(layout.stateDir, 'containerd/opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${JSON.stringify(sandboxImage)}
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${JSON.stringify(layout.cniConfDir)}
`;
}

export function ctr(layout: ClusterLayout, args: string[], timeoutMs = 120_000): Promise<string> {
  return run('ctr', ['--address', layout.containerdSocket, '--namespace', 'k8s.io', ...args], { timeoutMs });
}

export async function startContainerd(layout: ClusterLayout, logDir: string): Promise<ManagedProcess> {
  for (const dir of [layout.containerdRoot, layout.containerdState, path.dirname(layout.containerdSocket)])
    fs.mkdirSync(dir, { recursive: true });
  const configPath = path.join(layout.stateDir, 'containerd/config.toml');
  fs.writeFileSync(configPath, config(layout));
  const proc = startProcess('containerd', 'containerd', ['--config', configPath, '--log-level', 'warn'], logDir);
  await waitUntilReady(
    proc,
    async () => {
      await ctr(layout, ['version'], 5_000);
      return true;
    },
    60_000,
  );
  return proc;
}

/** Imports a docker-archive tarball (several images may share its layers). */
export async function importImages(layout: ClusterLayout, archive: string): Promise<void> {
  await ctr(layout, ['images', 'import', '--no-unpack=false', archive], 300_000);
}

/**
 * Ends the processes of the cluster's pods (the kubelet's `kubepods` cgroup tree) and containerd's
 * shims for our socket, then the mounts under the cluster's kubelet root and containerd state. With
 * `daemons` (before a start, after a crash) also any process whose command line names the cluster's
 * state or socket directory: servers and node daemons an earlier run left. Only things the cluster
 * created are touched.
 */
export async function killLeftovers(layout: ClusterLayout, options: { daemons: boolean }): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const pids = [...podProcesses(), ...clusterProcesses(layout, options.daemons)];
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(200);
  }
  await unmountUnder([layout.kubeletRoot, layout.containerdState, layout.containerdRoot]);
}

function podProcesses(): number[] {
  const pids: number[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (entry.name === 'cgroup.procs') {
        const text = fs.readFileSync(path.join(dir, entry.name), 'utf8');
        for (const line of text.split('\n')) if (line.trim()) pids.push(Number(line));
      }
    }
  };
  // cgroup v1 (pids controller) or the unified hierarchy, whichever the kubelet used.
  for (const base of ['/sys/fs/cgroup/pids/kubepods', '/sys/fs/cgroup/kubepods']) walk(base);
  return pids.filter((pid) => pid !== process.pid);
}

function clusterProcesses(layout: ClusterLayout, daemons: boolean): number[] {
  const markers = [`${layout.stateDir}/`, `${path.dirname(layout.containerdSocket)}/`];
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid || pid === process.ppid) continue;
    try {
      const args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const ours = args.some((arg) => markers.some((marker) => arg.includes(marker)));
      if (ours && (daemons || args[0]?.endsWith('containerd-shim-runc-v2'))) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function unmountUnder(dirs: string[]): Promise<void> {
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter(
      (target): target is string => !!target && dirs.some((dir) => target === dir || target.startsWith(`${dir}/`)),
    );
  // Deepest first, so a mount inside another comes off before its parent.
  for (const target of mounts.sort((a, b) => b.length - a.length)) {
    await run('umount', ['-l', target]).catch(() => undefined);
  }
}
