// The CSI provider's footprint: RSS idle and after 50 concurrent + 200 warm mounts (benchCsiMount), and a
// mount load run side by side on two providers, one inside a memory cgroup with the chart's limit.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '@vaultbridge/testenv';
import { benchCsiMount, prepareCsiBench, printCsiTable, type CsiBenchResult, type Driver } from './csi-mount.ts';
import {
  chartMemoryLimit,
  MemoryCgroup,
  printFootprintTable,
  type CgroupCheck,
  type FootprintRow,
} from './footprint.ts';

export interface CsiFootprint {
  mount: CsiBenchResult;
  rows: FootprintRow[];
  cgroup: CgroupCheck;
}

const goals = { idleMiB: 64, afterLoadMiB: 96 };

/** Mounts per second for `seconds`: `workers` callers per provider, each cycling over its own 20 pods (logins, then warm mounts). */
async function mountLoad(
  driver: Driver,
  mountOn: (driver: Driver, podKey: string) => Promise<number>,
  tag: string,
  seconds: number,
  workers = 4,
): Promise<{ mounts: number; errors: number }> {
  const until = performance.now() + seconds * 1000;
  let mounts = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let n = 0; performance.now() < until; n++) {
        try {
          await mountOn(driver, `${tag}-${worker}-${n % 20}`);
          mounts++;
        } catch {
          errors++;
          // A provider that is gone (killed by the limit) answers at once: do not spin.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }),
  );
  return { mounts, errors };
}

export async function csiCgroupCheck(seconds: number): Promise<CgroupCheck> {
  const limitBytes = chartMemoryLimit('csi-provider');
  const stack = await startStack();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-csi-cgroup-'));
  const cgroup = new MemoryCgroup('csi', limitBytes);
  const children: ChildProcess[] = [];
  try {
    const setup = await prepareCsiBench(stack, work);
    const workers = 4;
    await setup.createPods(
      ['limited', 'free'].flatMap((tag) =>
        Array.from({ length: workers * 20 }, (_, i) => `${tag}-${Math.floor(i / 20)}-${i % 20}`),
      ),
    );
    const limited = await setup.startProvider(path.join(work, 'limited.sock'), [], (command, args, env) =>
      cgroup.spawn(command, args, 'ignore', env),
    );
    children.push(limited);
    const unlimited = await setup.startProvider(path.join(work, 'unlimited.sock'), []);
    children.push(unlimited);
    let killedBy: string | null = null;
    limited.once('exit', (_code, signal) => (killedBy = signal));
    const limitedDriver = setup.connect(path.join(work, 'limited.sock'));
    const unlimitedDriver = setup.connect(path.join(work, 'unlimited.sock'));
    const mountOn = (driver: Driver, podKey: string) => setup.mountOn(driver, setup.kvObjects, podKey);
    // Side by side, so the machine's other load falls on both alike.
    const [inLimit, free] = await Promise.all([
      mountLoad(limitedDriver, mountOn, 'limited', seconds, workers),
      mountLoad(unlimitedDriver, mountOn, 'free', seconds, workers),
    ]);
    limitedDriver.close();
    unlimitedDriver.close();
    const stats = cgroup.stats();
    return {
      service: 'CSI provider',
      limitMiB: limitBytes / 1024 ** 2,
      seconds,
      oomKilled: killedBy === 'SIGKILL' || stats.oomKills > 0,
      maxUsageMiB: stats.maxUsageMiB,
      failcnt: stats.failcnt,
      limitedPerSecond: inLimit.mounts / seconds,
      unlimitedPerSecond: free.mounts / seconds,
      unit: 'mounts/s',
    };
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    cgroup.remove();
    await stack.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export async function benchCsiFootprint(cgroupSeconds: number): Promise<CsiFootprint> {
  const mount = await benchCsiMount();
  const rows: FootprintRow[] = [
    { service: 'CSI provider', measure: 'idle after start', oursMiB: mount.idleRssMiB, goalMiB: goals.idleMiB },
    {
      service: 'CSI provider',
      measure: `after ${mount.concurrent.pods} concurrent + ${mount.warm.mounts} warm mounts`,
      oursMiB: mount.rssMiB,
      goalMiB: goals.afterLoadMiB,
    },
  ];
  const cgroup = await csiCgroupCheck(cgroupSeconds);
  return { mount, rows, cgroup };
}

export function printCsiFootprint(result: CsiFootprint): void {
  printCsiTable(result.mount);
  printFootprintTable('CSI provider footprint', result.rows, [result.cgroup]);
}
