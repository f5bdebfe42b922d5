// The operator's footprint (issue 14), the bundle as the image runs it: RSS after the first sync, after
// two minutes of steady refreshes and after a rotation (benchOperatorSync), at 1,000 and 10,000
// VaultStaticSecrets, against VSO's numbers and against flatness (within 10 % of after-sync); then five
// minutes of saturating reconciles by two operators side by side, one inside a cgroup v1 memory group
// with the chart's limit, to show the limit neither kills it nor costs throughput.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { installCrds } from '@vaultbridge/operator';
import { freeLoopbackPort, repoRoot, startStack } from '@vaultbridge/testenv';
import { chartMemoryLimit, MemoryCgroup, shippedEnv, shippedNodeFlags, type CgroupCheck } from './footprint.ts';
import { benchOperatorSync, printOperatorTable, type OperatorBenchResult } from './operator-sync.ts';
import { createCustomObject, inBatches, operatorBundle, operatorPodEnv, stopProcess } from './operator-support.ts';

/** VSO v1.4.1 at 1,000 VaultStaticSecrets (issue 14's side-by-side run on this stack), MiB. */
const VSO_AT_1000 = { afterSync: 98, steady: 106, afterRotation: 111 };
/** Flat: the steady state and the state after a rotation within this factor of after-sync. */
const FLAT = 1.1;

export interface OperatorMemoryRun {
  secrets: number;
  steadySeconds: number;
  afterSyncMiB: number;
  steadyMiB: number;
  /** Highest RSS sampled (every 5 s) during the steady hold. */
  steadyPeakMiB: number;
  afterRotationMiB: number;
  peakMiB: number;
  sync: OperatorBenchResult;
}

export interface OperatorFootprint {
  runs: OperatorMemoryRun[];
  cgroup: CgroupCheck & { secrets: number; refreshAfter: string };
}

function rssMiB(child: ChildProcess): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

/** One benchOperatorSync run with a steady hold of `steadySeconds` between the first sync and the rotation. */
export async function operatorMemoryRun(secrets: number, steadySeconds: number): Promise<OperatorMemoryRun> {
  let afterSyncMiB = Number.NaN;
  let steadyMiB = Number.NaN;
  let steadyPeakMiB = 0;
  let afterRotationMiB = Number.NaN;
  const sync = await benchOperatorSync(secrets, '30s', {
    afterSync: async (operator) => {
      afterSyncMiB = rssMiB(operator);
      // refreshAfter 30s: every object is read again ~4 times in two minutes (the steady state).
      for (let waited = 0; waited < steadySeconds; waited += 5) {
        await sleep(Math.min(5, steadySeconds - waited) * 1000);
        steadyPeakMiB = Math.max(steadyPeakMiB, rssMiB(operator));
      }
      steadyMiB = rssMiB(operator);
    },
    afterRotation: async (operator) => {
      afterRotationMiB = rssMiB(operator);
    },
  });
  return {
    secrets,
    steadySeconds,
    afterSyncMiB,
    steadyMiB,
    steadyPeakMiB,
    afterRotationMiB,
    peakMiB: sync.peakRssMiB,
    sync,
  };
}

/** Reconciles of VaultStaticSecrets so far, from an operator's /metrics. */
async function reconciles(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('vaultbridge_operator_reconciles_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/**
 * Two operators on one stack, each with `secrets` VaultStaticSecrets over the same KV secrets: the one
 * in the memory group serves our API group (as shipped), its unlimited twin VSO's (`--serve-vso-api-group`,
 * the same code), so neither touches the other's objects and the machine's other load falls on both
 * alike. refreshAfter 1s asks far more reconciles than either can do, and every KV secret changes every
 * 10 s, so each reconciles as fast as it can and writes Secrets: reconciles per second is its throughput.
 */
export async function operatorCgroupCheck(
  seconds: number,
  secrets = Number(process.env.BENCH_OPERATOR_CGROUP_SECRETS ?? 1000),
): Promise<OperatorFootprint['cgroup']> {
  const refreshAfter = '1s';
  const limitBytes = chartMemoryLimit('operator');
  const stack = await startStack();
  const cgroup = new MemoryCgroup('operator', limitBytes);
  const children: ChildProcess[] = [];
  let writing = true;
  let writer: Promise<void> | undefined;
  try {
    const { layout } = stack;
    const names = Array.from({ length: secrets }, (_, i) => `app-${i}`);
    const kvPath = (name: string) => `${layout.kvV2Mount}/data/operator-cgroup/${name}`;
    await stack.writePolicy(
      'operator-cgroup',
      `path "${layout.kvV2Mount}/data/operator-cgroup/*" { capabilities = ["read"] }`,
    );
    const twins = [
      { ns: 'operator-cgroup', group: 'secrets.vaultbridge.dev', vsoGroup: false },
      { ns: 'operator-cgroup-twin', group: 'secrets.hashicorp.com', vsoGroup: true },
    ];
    await stack.writeKubernetesRole('operator-cgroup', {
      serviceAccounts: ['app'],
      namespaces: twins.map((twin) => twin.ns),
      policies: ['operator-cgroup'],
      audience: 'vault',
    });
    let round = 0;
    const writeAll = () =>
      inBatches(names, (name) => stack.vaultAdmin.write(kvPath(name), { data: { password: `${name}-${round}` } }));
    await writeAll();
    const custom = stack.kube.config.makeApiClient(k8s.CustomObjectsApi);
    for (const { ns, group, vsoGroup } of twins) {
      await installCrds(stack.kube.config, 30_000, { vsoGroup });
      await stack.createNamespace(ns);
      await stack.createServiceAccount(ns, 'app');
      const apiVersion = `${group}/v1beta1`;
      await createCustomObject(
        custom,
        ns,
        'vaultconnections',
        { apiVersion, kind: 'VaultConnection', metadata: { name: 'default' }, spec: { address: stack.vaultAddr } },
        group,
      );
      await createCustomObject(
        custom,
        ns,
        'vaultauths',
        {
          apiVersion,
          kind: 'VaultAuth',
          metadata: { name: 'default' },
          spec: {
            method: 'kubernetes',
            mount: layout.kubernetesAuthMount,
            kubernetes: { role: 'operator-cgroup', serviceAccount: 'app', audiences: ['vault'] },
          },
        },
        group,
      );
      await inBatches(
        names,
        (name) =>
          createCustomObject(
            custom,
            ns,
            'vaultstaticsecrets',
            {
              apiVersion,
              kind: 'VaultStaticSecret',
              metadata: { name },
              spec: {
                mount: layout.kvV2Mount,
                path: `operator-cgroup/${name}`,
                type: 'kv-v2',
                refreshAfter,
                destination: { name: `${name}-secret`, create: true },
              },
            },
            group,
          ),
        100,
      );
    }

    const dockerfile = path.join(repoRoot, 'packages/operator/Dockerfile');
    const flags = [
      ...shippedNodeFlags(dockerfile),
      ...(process.env.BENCH_OPERATOR_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    ];
    const ports: number[] = [];
    for (const { ns, vsoGroup } of twins) {
      const port = await freeLoopbackPort();
      ports.push(port);
      // As the chart runs it in a pod: credentials from its service account, not a kubeconfig.
      const env = { ...(await operatorPodEnv(stack, ns)), ...shippedEnv(dockerfile) };
      const args = [
        ...flags,
        operatorBundle(),
        '--operator-namespace',
        ns,
        '--health-probe-bind-address',
        `127.0.0.1:${port}`,
        '--log-level',
        'warn',
        ...(vsoGroup ? ['--serve-vso-api-group'] : []),
      ];
      children.push(
        vsoGroup
          ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env })
          : cgroup.spawn(process.execPath, args, 'ignore', env),
      );
    }
    const [limited] = children as [ChildProcess, ChildProcess];
    let killedBy: NodeJS.Signals | null = null;
    limited.once('exit', (_code, signal) => (killedBy = signal));
    // Both have made their first sync (each object reconciled once) before the clock starts.
    const deadline = performance.now() + Math.max(300_000, secrets * 100);
    for (;;) {
      const counts = await Promise.all(ports.map((port) => reconciles(port).catch(() => 0)));
      if (counts.every((count) => count >= secrets)) break;
      if (killedBy !== null) break;
      if (performance.now() > deadline)
        throw new Error(`the two operators did not sync ${secrets} objects each in time`);
      await sleep(1000);
    }
    writer = (async () => {
      while (writing) {
        const started = performance.now();
        round += 1;
        await writeAll();
        await sleep(Math.max(0, 10_000 - (performance.now() - started)));
      }
    })();
    const before = await Promise.all(ports.map((port) => reconciles(port)));
    await sleep(seconds * 1000);
    const after = await Promise.all(ports.map((port) => reconciles(port).catch(() => Number.NaN)));
    const stats = cgroup.stats();
    return {
      service: 'operator',
      secrets,
      refreshAfter,
      limitMiB: limitBytes / 1024 ** 2,
      seconds,
      oomKilled: killedBy === 'SIGKILL' || stats.oomKills > 0,
      maxUsageMiB: stats.maxUsageMiB,
      failcnt: stats.failcnt,
      limitedPerSecond: ((after[0] as number) - (before[0] as number)) / seconds,
      unlimitedPerSecond: ((after[1] as number) - (before[1] as number)) / seconds,
      unit: 'reconciles/s',
    };
  } finally {
    writing = false;
    await writer?.catch(() => undefined);
    for (const child of children) await stopProcess(child);
    cgroup.remove();
    await stack.stop();
  }
}

export async function benchOperatorFootprint(cgroupSeconds: number): Promise<OperatorFootprint> {
  // BENCH_OPERATOR_FOOTPRINT_COUNTS=1000 skips the 10,000-object run (~10 minutes on this machine).
  const counts = (process.env.BENCH_OPERATOR_FOOTPRINT_COUNTS ?? '1000,10000').split(',').map(Number);
  const steadySeconds = Number(process.env.BENCH_OPERATOR_STEADY_SECONDS ?? 120);
  const runs: OperatorMemoryRun[] = [];
  for (const count of counts) runs.push(await operatorMemoryRun(count, steadySeconds));
  const cgroup = await operatorCgroupCheck(cgroupSeconds);
  return { runs, cgroup };
}

export function printOperatorFootprint(result: OperatorFootprint): void {
  for (const run of result.runs) printOperatorTable(run.sync);
  console.log(
    "\nOperator footprint (RSS, MiB; the bundle with the image's node flags and ENV; goal: at most VSO's at 1,000 objects, and every row within 10 % of after-sync)",
  );
  console.log(
    '| objects | measure | ours | VSO v1.4.1 (goal at 1,000) | ours / VSO | ours / after-sync (goal ≤ 1.10) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const run of result.runs) {
    const vso = run.secrets === 1000 ? VSO_AT_1000 : undefined;
    const row = (measure: string, ours: number, goal: number | undefined) => {
      const flat = ours / run.afterSyncMiB;
      const vsoCell = goal === undefined ? 'n/a (VSO not run)' : String(goal);
      const ratio = goal === undefined ? 'n/a' : `${(ours / goal).toFixed(2)} (${ours <= goal ? 'met' : 'over'})`;
      console.log(
        `| ${run.secrets} | ${measure} | ${ours.toFixed(0)} | ${vsoCell} | ${ratio} | ${flat.toFixed(2)} (${flat <= FLAT ? 'met' : 'over'}) |`,
      );
    };
    row('after the first sync', run.afterSyncMiB, vso?.afterSync);
    row(
      `after ${run.steadySeconds} s of steady refreshes (highest sampled: ${run.steadyPeakMiB.toFixed(0)})`,
      run.steadyMiB,
      vso?.steady,
    );
    row(`after a rotation (process peak: ${run.peakMiB.toFixed(0)})`, run.afterRotationMiB, vso?.afterRotation);
  }
  const c = result.cgroup;
  const change = (c.limitedPerSecond / c.unlimitedPerSecond - 1) * 100;
  console.log(
    `\n| service | cgroup limit (the chart's) | run | OOM-killed | peak charged to the group | throughput in the limit vs its unlimited twin (${c.secrets} objects each, refreshAfter ${c.refreshAfter}, KV changes every 10 s) | change (goal: within -10 %) |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  console.log(
    `| ${c.service} | ${c.limitMiB.toFixed(0)} MiB | ${c.seconds} s | ${c.oomKilled ? 'yes' : 'no'} (limit hit ${c.failcnt}×) | ${c.maxUsageMiB.toFixed(0)} MiB | ${c.limitedPerSecond.toFixed(1)} vs ${c.unlimitedPerSecond.toFixed(1)} ${c.unit} | ${change >= 0 ? '+' : ''}${change.toFixed(1)} % |`,
  );
}
