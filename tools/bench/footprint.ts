// Memory footprint (issue 14): each service's bundle run as its image runs it (the node flags of the
// Dockerfile's ENTRYPOINT), RSS against the goal, and a run inside a cgroup v1 memory group with the
// limit the chart sets, to show the limit neither kills it nor costs throughput.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseDockerfile, repoRoot, type ImageRecipe } from '@vaultbridge/testenv';
import YAML from 'yaml';

export interface FootprintRow {
  service: string;
  measure: string;
  oursMiB: number;
  goalMiB: number;
}

/** The node flags between `node` and the script in a Dockerfile's exec-form ENTRYPOINT (the flags it ships with). */
export function shippedNodeFlags(dockerfile: string): string[] {
  const text = fs.readFileSync(dockerfile, 'utf8');
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(text);
  if (!line) throw new Error(`${dockerfile}: no exec-form ENTRYPOINT ["node", ...] to take the node flags from`);
  const argv = JSON.parse(line[1] as string) as string[];
  if (argv[0] !== 'node') throw new Error(`${dockerfile}: the ENTRYPOINT does not start with node`);
  return argv.slice(1).filter((arg) => arg.startsWith('--'));
}

/**
 * The environment a Dockerfile's `ENV` lines give every process of the image (the malloc tuning and the
 * trust store the services ship with), to start the bundles the way the image does. A value that is a
 * path the Dockerfile COPYs into the image (SSL_CERT_DIR=/app/ca-certificates) becomes the path of what it
 * copies on this machine (the package's dist/bundle/ca-certificates), which must exist: the bundle step
 * writes it. BENCH_NO_IMAGE_ENV=1 leaves the environment out, to measure what it changes.
 */
export function shippedEnv(dockerfile: string): Record<string, string> {
  if (process.env.BENCH_NO_IMAGE_ENV === '1') return {};
  const recipe = parseDockerfile(fs.readFileSync(dockerfile, 'utf8'));
  const contextDir = path.dirname(dockerfile);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(recipe.env)) env[key] = hostPath(recipe, contextDir, value) ?? value;
  return env;
}

/** Where on this machine an image path a one-source COPY put there comes from, or undefined when none did. */
function hostPath(recipe: ImageRecipe, contextDir: string, imagePath: string): string | undefined {
  for (const step of recipe.steps) {
    if (step.kind !== 'copy' || step.sources.length !== 1) continue;
    const source = path.join(contextDir, step.sources[0]!);
    // As the image builder copies (a directory's contents to the destination; a file into it when it ends in /).
    const copied =
      step.destination.endsWith('/') && !(fs.existsSync(source) && fs.statSync(source).isDirectory())
        ? path.posix.join(step.destination, path.basename(source))
        : step.destination.replace(/\/$/, '');
    if (imagePath !== copied && !imagePath.startsWith(`${copied}/`)) continue;
    const onHost = path.join(source, imagePath.slice(copied.length));
    if (!fs.existsSync(onHost))
      throw new Error(
        `${imagePath} (the image's COPY of ${step.sources[0]!}): ${onHost} does not exist; run the package's bundle step`,
      );
    return onHost;
  }
  return undefined;
}

/** `128Mi` / `1Gi` / `200M` / bytes → bytes, as Kubernetes quantities read. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity.trim());
  if (!match) throw new Error(`"${quantity}" is not a memory quantity such as 128Mi`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ''] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

/** The memory limit a sub-chart's values.yaml sets (`resources.limits.memory`, or `keyPath` inside it). */
export function chartMemoryLimit(chart: string, keyPath: string[] = ['resources']): number {
  const file = path.join(repoRoot, 'charts/vaultbridge/charts', chart, 'values.yaml');
  let node: unknown = YAML.parse(fs.readFileSync(file, 'utf8'));
  for (const key of keyPath) node = (node as Record<string, unknown> | undefined)?.[key];
  const limit = (node as { limits?: { memory?: string } } | undefined)?.limits?.memory;
  if (!limit) throw new Error(`${file}: no ${[...keyPath, 'limits', 'memory'].join('.')} to run the cgroup check with`);
  return quantityBytes(limit);
}

const cgroupRoot = '/sys/fs/cgroup/memory';

/** A cgroup v1 memory group with a hard limit; `spawn` starts a command already inside it; `remove` deletes it. */
export class MemoryCgroup {
  readonly dir: string;
  readonly limitBytes: number;

  constructor(name: string, limitBytes: number) {
    this.limitBytes = limitBytes;
    if (!fs.existsSync(path.join(cgroupRoot, 'memory.limit_in_bytes'))) {
      throw new Error(
        `${cgroupRoot} is not a cgroup v1 memory controller: the cgroup check needs root and the v1 memory controller mounted`,
      );
    }
    this.dir = path.join(cgroupRoot, `vaultbridge-bench-${name}-${process.pid}`);
    fs.mkdirSync(this.dir);
    fs.writeFileSync(path.join(this.dir, 'memory.limit_in_bytes'), String(limitBytes));
    // Swap would hide the limit: as in a pod, the group may not swap.
    try {
      fs.writeFileSync(path.join(this.dir, 'memory.swappiness'), '0');
    } catch {
      // Not every kernel lets a child group set it; the limit still holds.
    }
  }

  /** Starts `command` inside the group: a shell joins it, then execs the command (so no instant runs outside). */
  spawn(
    command: string,
    args: string[],
    stdio: 'inherit' | 'ignore' = 'ignore',
    env: NodeJS.ProcessEnv = process.env,
  ): ChildProcess {
    return spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.dir, command, ...args], {
      stdio: ['ignore', stdio, 'inherit'],
      env,
    });
  }

  private read(file: string): string {
    return fs.readFileSync(path.join(this.dir, file), 'utf8');
  }

  /** Peak usage charged to the group (RSS and page cache), the times the limit was hit, and OOM kills. */
  stats(): { maxUsageMiB: number; failcnt: number; oomKills: number } {
    const oom = /oom_kill (\d+)/.exec(this.read('memory.oom_control'));
    return {
      maxUsageMiB: Number(this.read('memory.max_usage_in_bytes')) / 1024 ** 2,
      failcnt: Number(this.read('memory.failcnt')),
      oomKills: oom ? Number(oom[1]) : NaN,
    };
  }

  /** Removes the group; its processes must have ended (rmdir of a group with members fails). */
  remove(): void {
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(this.dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
    throw new Error(`cannot remove ${this.dir}: processes are still in it`);
  }
}

export interface CgroupCheck {
  service: string;
  limitMiB: number;
  seconds: number;
  oomKilled: boolean;
  maxUsageMiB: number;
  failcnt: number;
  /** Work done per second by the limited process and by the same service unlimited, side by side. */
  limitedPerSecond: number;
  unlimitedPerSecond: number;
  unit: string;
}

export function printFootprintTable(title: string, rows: FootprintRow[], checks: CgroupCheck[]): void {
  console.log(
    `\n${title} (RSS, MiB; measured while other work loads this machine: RSS and ratios are the stable part)`,
  );
  console.log('| service | measure | ours | goal | ours / goal |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    const verdict = row.oursMiB <= row.goalMiB ? 'met' : 'over';
    console.log(
      `| ${row.service} | ${row.measure} | ${row.oursMiB.toFixed(0)} | ${row.goalMiB} | ${(row.oursMiB / row.goalMiB).toFixed(2)} (${verdict}) |`,
    );
  }
  if (checks.length === 0) return;
  console.log(
    "\n| service | cgroup limit (the chart's) | run | OOM-killed | peak charged to the group | throughput in the limit vs without | change (goal: within -10 %) |",
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const c of checks) {
    const change = (c.limitedPerSecond / c.unlimitedPerSecond - 1) * 100;
    console.log(
      `| ${c.service} | ${c.limitMiB.toFixed(0)} MiB | ${c.seconds} s | ${c.oomKilled ? 'yes' : 'no'} (limit hit ${c.failcnt}×) | ${c.maxUsageMiB.toFixed(0)} MiB | ${c.limitedPerSecond.toFixed(1)} vs ${c.unlimitedPerSecond.toFixed(1)} ${c.unit} | ${change >= 0 ? '+' : ''}${change.toFixed(1)} % |`,
    );
  }
}
