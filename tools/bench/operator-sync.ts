// Operator benchmark: the operator bundle as a process against the real stack. N VaultStaticSecrets
// (one KV secret each, default 1,000; BENCH_OPERATOR_SECRETS) exist before the operator starts (created
// 100 at a time, not timed): the clock runs from the operator's start to every Secret holding its value,
// so the number is the operator's first sync and not the benchmark's own creates (which bounded it
// before). Then every KV secret changes in Vault: time until every Secret holds the new value (rotation
// latency, bounded by refreshAfter; BENCH_OPERATOR_ROTATION=0 skips it), Vault requests per Secret and
// per sync, the operator's CPU time per sync, and its memory at N objects. Printed beside VSO's numbers
// from the side-by-side run of issue 11 (VSO v1.4.1, same stack, 1,000 VaultStaticSecrets, refreshAfter 30s).
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { installCrds } from '@vaultbridge/operator';
import { freeLoopbackPort, startStack } from '@vaultbridge/testenv';
import {
  BENCH_GROUP,
  createCustomObject,
  inBatches,
  SecretValues,
  operatorPodEnv,
  spawnOperator,
  stopProcess,
} from './operator-support.ts';

export interface OperatorBenchResult {
  secrets: number;
  refreshAfter: string;
  concurrency: string;
  firstSync: {
    createMs: number;
    firstSecretMs: number;
    allSyncedMs: number;
    perSecond: number;
    vaultRequestsPerSecret: number;
    vaultRequestsPerSync: number;
    cpuMsPerSync: number;
    rssMiB: number;
  };
  rotation?: {
    allRotatedMs: number;
    vaultRequestsPerSecret: number;
    vaultRequestsPerSync: number;
    cpuMsPerSync: number;
  };
  rssMiB: number;
  peakRssMiB: number;
}

/**
 * VSO v1.4.1 at 1,000 VaultStaticSecrets (issue 11's side-by-side run on this stack). Its CPU per sync
 * was not recorded in absolute terms, only as "ours is 2.6×": the goal below is our CPU per sync
 * measured before that issue's work (bundle of commit 3c7b269, this benchmark: 8.4 ms on 2026-12-06) divided by 2.6.
 */
export const VSO_AT_1000 = {
  allSyncedMs: 17_800,
  allRotatedMs: 27_000,
  vaultRequestsPerSecret: 1.5,
  cpuMsPerSync: Number(process.env.BENCH_VSO_CPU_MS_PER_SYNC ?? 8.4 / 2.6),
};

/** User + system CPU time of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(child: ChildProcess): number {
  const fields = fs
    .readFileSync(`/proc/${child.pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function memoryMiB(child: ChildProcess): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/**
 * Called with the operator process at two points of the run: once every Secret holds its first value,
 * and once every Secret holds the rotated one (the footprint benchmark samples memory there, and holds
 * the steady state for a while after the sync).
 */
export interface OperatorBenchHooks {
  afterSync?: (operator: ChildProcess) => Promise<void>;
  afterRotation?: (operator: ChildProcess) => Promise<void>;
}

export async function benchOperatorSync(
  count = Number(process.env.BENCH_OPERATOR_SECRETS ?? 1000),
  refreshAfter = process.env.BENCH_OPERATOR_REFRESH_AFTER ?? '30s',
  hooks: OperatorBenchHooks = {},
): Promise<OperatorBenchResult> {
  const rotate = process.env.BENCH_OPERATOR_ROTATION !== '0';
  const stack = await startStack();
  let operator: ChildProcess | undefined;
  let secrets: SecretValues | undefined;
  try {
    const ns = 'operator-bench';
    const { layout } = stack;
    await stack.createNamespace(ns);
    await stack.createServiceAccount(ns, 'app');
    await stack.writePolicy(
      'operator-bench',
      `path "${layout.kvV2Mount}/data/operator-bench/*" { capabilities = ["read"] }`,
    );
    await stack.writeKubernetesRole('operator-bench', {
      serviceAccounts: ['app'],
      namespaces: [ns],
      policies: ['operator-bench'],
      audience: 'vault',
    });
    const names = Array.from({ length: count }, (_, i) => `app-${i}`);
    const kvPath = (name: string) => `${layout.kvV2Mount}/data/operator-bench/${name}`;
    await inBatches(names, (name) => stack.vaultAdmin.write(kvPath(name), { data: { password: `${name}-one` } }));

    // Everything the operator will find exists before it starts (as when it is installed, upgraded or
    // restarts in a cluster that has the objects): CRDs, the connection, the auth and N objects.
    await installCrds(stack.kube.config);
    const custom = stack.kube.config.makeApiClient(k8s.CustomObjectsApi);
    const group = BENCH_GROUP;
    await createCustomObject(custom, ns, 'vaultconnections', {
      apiVersion: `${group}/v1beta1`,
      kind: 'VaultConnection',
      metadata: { name: 'default' },
      spec: { address: stack.vaultAddr },
    });
    await createCustomObject(custom, ns, 'vaultauths', {
      apiVersion: `${group}/v1beta1`,
      kind: 'VaultAuth',
      metadata: { name: 'default' },
      spec: {
        method: 'kubernetes',
        mount: layout.kubernetesAuthMount,
        kubernetes: { role: 'operator-bench', serviceAccount: 'app', audiences: ['vault'] },
      },
    });
    const createStarted = performance.now();
    await inBatches(
      names,
      (name) =>
        createCustomObject(custom, ns, 'vaultstaticsecrets', {
          apiVersion: `${group}/v1beta1`,
          kind: 'VaultStaticSecret',
          metadata: { name },
          spec: {
            mount: layout.kvV2Mount,
            path: `operator-bench/${name}`,
            type: 'kv-v2',
            refreshAfter,
            destination: { name: `${name}-secret`, create: true },
          },
        }),
      100,
    );
    const createMs = performance.now() - createStarted;

    let firstSecretAt: number | undefined;
    secrets = await SecretValues.watch(stack.kube.config, ns, 'password', () => {
      firstSecretAt ??= performance.now();
    });
    const expect = (suffix: string) => new Map(names.map((name) => [`${name}-secret`, `${name}-${suffix}`]));
    const healthPort = await freeLoopbackPort();
    // VaultStaticSecret reconciles so far (each reads Vault once): requests per sync, whatever the refresh timing.
    const reconciles = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith('vaultbridge_operator_reconciles_total{'))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    };
    await stack.resetRequestCounts();
    const timeoutMs = Math.max(300_000, count * 100);
    // The clock starts as the process is spawned: its start, lists, login and every sync are inside.
    const started = performance.now();
    // As the chart runs it in a pod: credentials from its service account, not a kubeconfig.
    const podEnv = await operatorPodEnv(stack, ns);
    operator = spawnOperator(
      [
        '--operator-namespace',
        ns,
        '--health-probe-bind-address',
        `127.0.0.1:${healthPort}`,
        '--log-level',
        'warn',
        ...(process.env.BENCH_OPERATOR_CONCURRENCY
          ? ['--max-concurrent-reconciles', process.env.BENCH_OPERATOR_CONCURRENCY]
          : []),
      ],
      (process.env.BENCH_OPERATOR_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      podEnv,
    );
    await secrets.allHold(`all ${count} Secrets synced`, expect('one'), timeoutMs);
    const allSyncedMs = performance.now() - started;
    const syncRequests = (await stack.requestCounts()).total;
    const syncCpuMs = cpuMs(operator);
    const syncReconciles = await reconciles();
    const syncMemory = memoryMiB(operator);
    await hooks.afterSync?.(operator);

    let rotation: OperatorBenchResult['rotation'];
    if (rotate) {
      await stack.resetRequestCounts();
      const cpuBeforeRotation = cpuMs(operator);
      const reconcilesBeforeRotation = await reconciles();
      const rotationStarted = performance.now();
      await inBatches(names, (name) => stack.vaultAdmin.write(kvPath(name), { data: { password: `${name}-two` } }));
      await secrets.allHold(`all ${count} Secrets rotated`, expect('two'), timeoutMs);
      const allRotatedMs = performance.now() - rotationStarted;
      const rotationRequests = (await stack.requestCounts()).total;
      const rotationReconciles = (await reconciles()) - reconcilesBeforeRotation;
      rotation = {
        allRotatedMs,
        vaultRequestsPerSecret: rotationRequests / count,
        vaultRequestsPerSync: rotationRequests / Math.max(1, rotationReconciles),
        cpuMsPerSync: (cpuMs(operator) - cpuBeforeRotation) / Math.max(1, rotationReconciles),
      };
      await hooks.afterRotation?.(operator);
    }
    const memory = memoryMiB(operator);
    if (secrets.restarts > 0)
      console.error(
        `operator bench: the benchmark's Secret watch was dropped and re-listed ${secrets.restarts} time(s)`,
      );
    return {
      secrets: count,
      refreshAfter,
      concurrency: process.env.BENCH_OPERATOR_CONCURRENCY ?? 'default',
      // Per Secret: every request of the phase (the login and the status checks included, and any refresh
      // of a Secret synced early); per sync: the same over the reconciles that read Vault. CPU from the
      // process's start (its start-up included).
      firstSync: {
        createMs,
        firstSecretMs: (firstSecretAt ?? Number.NaN) - started,
        allSyncedMs,
        perSecond: count / (allSyncedMs / 1000),
        vaultRequestsPerSecret: syncRequests / count,
        vaultRequestsPerSync: syncRequests / Math.max(1, syncReconciles),
        cpuMsPerSync: syncCpuMs / Math.max(1, syncReconciles),
        rssMiB: syncMemory.rss,
      },
      ...(rotation === undefined ? {} : { rotation }),
      rssMiB: memory.rss,
      peakRssMiB: memory.peak,
    };
  } finally {
    secrets?.stop();
    await stopProcess(operator);
    await stack.stop();
  }
}

/**
 * The goal at `secrets` objects: VSO's measured numbers at 1,000; elsewhere its 1,000-object rate held
 * (VSO was not run at other sizes, so the time goals there are that rate scaled, and say so).
 */
export function vsoGoal(secrets: number): {
  allSyncedMs: number;
  allRotatedMs: number | undefined;
  vaultRequestsPerSecret: number;
  cpuMsPerSync: number;
  measured: boolean;
} {
  const measured = secrets === 1000;
  return {
    allSyncedMs: VSO_AT_1000.allSyncedMs * (secrets / 1000),
    // Rotation is bounded by refreshAfter, not by the count: only the measured 1,000 run is a fair goal.
    allRotatedMs: measured ? VSO_AT_1000.allRotatedMs : undefined,
    vaultRequestsPerSecret: VSO_AT_1000.vaultRequestsPerSecret,
    cpuMsPerSync: VSO_AT_1000.cpuMsPerSync,
    measured,
  };
}

export function printOperatorTable(r: OperatorBenchResult): void {
  const vso = r.refreshAfter === '30s' ? vsoGoal(r.secrets) : undefined;
  // ratio > 1: ours is better (faster, fewer requests, less CPU).
  const row = (measure: string, ours: number, unit: string, goal: number | undefined, digits = 0) => {
    const known = goal !== undefined && Number.isFinite(goal) ? goal : undefined;
    console.log(
      `| ${measure} | ${ours.toFixed(digits)} ${unit} | ${known !== undefined ? `${known.toFixed(digits)} ${unit}` : 'n/a'} | ${known !== undefined ? `${(known / ours).toFixed(2)}×` : 'n/a'} |`,
    );
  };
  const goalName =
    vso === undefined
      ? 'goal'
      : vso.measured
        ? 'goal (VSO v1.4.1)'
        : `goal (VSO v1.4.1's 1,000-object rate × ${r.secrets / 1000}; VSO not run at ${r.secrets})`;
  console.log(
    `\nOperator (bundle, real API server and Vault; ${r.secrets} VaultStaticSecrets existing before the operator starts, one KV secret each, refreshAfter ${r.refreshAfter}, concurrency ${r.concurrency})`,
  );
  console.log(`| measure | ours | ${goalName} | ratio (goal/ours; >1 is better) |`);
  console.log('|---|---|---|---|');
  row(`all ${r.secrets} Secrets synced, from the operator's start`, r.firstSync.allSyncedMs, 'ms', vso?.allSyncedMs);
  row(
    "first Secret written, from the operator's start (process start, lists, login)",
    r.firstSync.firstSecretMs,
    'ms',
    undefined,
  );
  if (r.rotation)
    row(`all ${r.secrets} Secrets rotated after a change in Vault`, r.rotation.allRotatedMs, 'ms', vso?.allRotatedMs);
  row(
    'Vault requests per Secret (first sync; login and status checks included)',
    r.firstSync.vaultRequestsPerSecret,
    '',
    vso?.vaultRequestsPerSecret,
    2,
  );
  row('Vault requests per sync (first sync)', r.firstSync.vaultRequestsPerSync, '', vso?.vaultRequestsPerSecret, 2);
  if (r.rotation)
    row(
      'Vault requests per Secret (rotation; refreshes before the change included)',
      r.rotation.vaultRequestsPerSecret,
      '',
      vso?.vaultRequestsPerSecret,
      2,
    );
  if (r.rotation)
    row('Vault requests per sync (rotation)', r.rotation.vaultRequestsPerSync, '', vso?.vaultRequestsPerSecret, 2);
  row(
    'operator CPU per sync (first sync, process start-up included)',
    r.firstSync.cpuMsPerSync,
    'ms',
    vso?.cpuMsPerSync,
    2,
  );
  if (r.rotation) row('operator CPU per sync (rotation)', r.rotation.cpuMsPerSync, 'ms', vso?.cpuMsPerSync, 2);
  console.log(
    `| Secrets synced per second | ${r.firstSync.perSecond.toFixed(0)} | ${vso ? (r.secrets / (vso.allSyncedMs / 1000)).toFixed(0) : 'n/a'} | |`,
  );
  console.log(
    `| operator RSS after the first sync / at the end (peak) | ${r.firstSync.rssMiB.toFixed(0)} MiB / ${r.rssMiB.toFixed(0)} MiB (${r.peakRssMiB.toFixed(0)} MiB) | | |`,
  );
  console.log(
    `| (set-up, not timed above) the benchmark's creates of the ${r.secrets} objects, 100 at a time | ${r.firstSync.createMs.toFixed(0)} ms | | |`,
  );
}
