// Operator benchmark: the operator bundle as a process against the real stack. N VaultStaticSecrets
// (one KV secret each, default 1,000; BENCH_OPERATOR_SECRETS) are created at once: time until every
// Secret exists (sync throughput), then every KV secret changes in Vault: time until every Secret holds
// the new value (rotation latency, bounded by refreshAfter), Vault requests per Secret, the operator's
// CPU time per sync, and its memory at N objects. Printed beside VSO's numbers from the side-by-side run
// of issue 11 (VSO v1.4.1, same stack, 1,000 VaultStaticSecrets, refreshAfter 30s).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { freeLoopbackPort, repoRoot, startStack } from '@vaultbridge/testenv';

export interface OperatorBenchResult {
  secrets: number;
  refreshAfter: string;
  concurrency: string;
  firstSync: { allCreatedMs: number; allSyncedMs: number; perSecond: number; vaultRequestsPerSecret: number; vaultRequestsPerSync: number; cpuMsPerSync: number };
  rotation: { allRotatedMs: number; vaultRequestsPerSecret: number; vaultRequestsPerSync: number; cpuMsPerSync: number };
  rssMiB: number;
  peakRssMiB: number;
}

/**
 * VSO v1.4.1 at 1,000 VaultStaticSecrets (issue 11's side-by-side run on this stack). Its CPU per sync
 * was not recorded in absolute terms, only as "ours is 2.6×": the goal below is our CPU per sync
 * measured before that issue's work (bundle of commit 3c7b269, this benchmark: 8.4 ms on 2026-12-06) divided by 2.6.
 */
export const VSO_AT_1000 = { allSyncedMs: 17_800, allRotatedMs: 27_000, vaultRequestsPerSecret: 1.5, cpuMsPerSync: Number(process.env.BENCH_VSO_CPU_MS_PER_SYNC ?? 8.4 / 2.6) };

/** User + system CPU time of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(child: ChildProcess): number {
  const fields = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function memoryMiB(child: ChildProcess): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

export async function benchOperatorSync(count = Number(process.env.BENCH_OPERATOR_SECRETS ?? 1000), refreshAfter = process.env.BENCH_OPERATOR_REFRESH_AFTER ?? '30s'): Promise<OperatorBenchResult> {
  // BENCH_OPERATOR_BUNDLE: another build to compare with (e.g. an older commit's bundle).
  const bundle = process.env.BENCH_OPERATOR_BUNDLE ?? path.join(repoRoot, 'packages/operator/dist/bundle/cli.mjs');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run 'npx nx run @vaultbridge/operator:bundle' (npm run bench does)`);
  const stack = await startStack();
  let operator: ChildProcess | undefined;
  try {
    const ns = 'operator-bench';
    const { layout } = stack;
    await stack.createNamespace(ns);
    await stack.createServiceAccount(ns, 'app');
    await stack.writePolicy('operator-bench', `path "${layout.kvV2Mount}/data/operator-bench/*" { capabilities = ["read"] }`);
    await stack.writeKubernetesRole('operator-bench', { serviceAccounts: ['app'], namespaces: [ns], policies: ['operator-bench'], audience: 'vault' });
    const names = Array.from({ length: count }, (_, i) => `app-${i}`);
    await inBatches(names, (name) => stack.vaultAdmin.write(`${layout.kvV2Mount}/data/operator-bench/${name}`, { data: { password: `${name}-one` } }));

    const healthPort = await freeLoopbackPort();
    // VaultStaticSecret reconciles so far (each reads Vault once): requests per sync, whatever the refresh timing.
    const reconciles = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      return text.split('\n').filter((line) => line.startsWith('vaultbridge_operator_reconciles_total{')).reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    };
    operator = spawn(process.execPath, [...(process.env.BENCH_OPERATOR_NODE_FLAGS ?? '').split(' ').filter(Boolean), bundle, '--kubeconfig', stack.handle.kubeconfigPath, '--operator-namespace', ns, '--install-crds',
      '--health-probe-bind-address', `127.0.0.1:${healthPort}`, '--log-level', 'warn',
      ...(process.env.BENCH_OPERATOR_CONCURRENCY ? ['--max-concurrent-reconciles', process.env.BENCH_OPERATOR_CONCURRENCY] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
    const custom = stack.kube.config.makeApiClient(k8s.CustomObjectsApi);
    const group = 'secrets.vaultbridge.dev';
    const create = async (plural: string, body: object): Promise<void> => {
      // The operator installs its CRDs at start: retry until the API server serves them.
      for (let attempt = 0; ; attempt++) {
        try {
          await custom.createNamespacedCustomObject({ group, version: 'v1beta1', namespace: ns, plural, body });
          return;
        } catch (error) {
          if (attempt > 150) throw error;
          await sleep(100);
        }
      }
    };
    await create('vaultconnections', { apiVersion: `${group}/v1beta1`, kind: 'VaultConnection', metadata: { name: 'default' }, spec: { address: stack.vaultAddr } });
    await create('vaultauths', { apiVersion: `${group}/v1beta1`, kind: 'VaultAuth', metadata: { name: 'default' }, spec: { method: 'kubernetes', mount: layout.kubernetesAuthMount, kubernetes: { role: 'operator-bench', serviceAccount: 'app', audiences: ['vault'] } } });

    // What the Secrets hold now, by name, from one list call (the operator labels what it manages).
    const passwords = async (): Promise<Map<string, string>> => {
      const list = await stack.kube.core.listNamespacedSecret({ namespace: ns, labelSelector: 'app.kubernetes.io/managed-by=vaultbridge-operator' });
      return new Map(list.items.map((secret) => [secret.metadata?.name ?? '', Buffer.from(secret.data?.password ?? '', 'base64').toString()]));
    };
    const waitAll = async (expected: (name: string) => string, timeoutMs: number): Promise<number> => {
      const started = performance.now();
      for (;;) {
        const current = await passwords();
        if (names.every((name) => current.get(`${name}-secret`) === expected(name))) return performance.now() - started;
        if (performance.now() - started > timeoutMs) throw new Error(`not every Secret reached its value within ${timeoutMs} ms`);
        await sleep(100);
      }
    };

    // Settle: the operator has listed (its CRDs served, the VaultConnection checked) before the clock starts.
    await sleep(2000);
    await stack.resetRequestCounts();
    const cpuBefore = cpuMs(operator);
    const reconcilesBefore = await reconciles();
    const started = performance.now();
    await inBatches(names, (name) => create('vaultstaticsecrets', {
      apiVersion: `${group}/v1beta1`, kind: 'VaultStaticSecret', metadata: { name },
      spec: { mount: layout.kvV2Mount, path: `operator-bench/${name}`, type: 'kv-v2', refreshAfter, destination: { name: `${name}-secret`, create: true } },
    }));
    const allCreatedMs = performance.now() - started;
    await waitAll((name) => `${name}-one`, Math.max(300_000, count * 100));
    const allSyncedMs = performance.now() - started;
    const syncRequests = (await stack.requestCounts()).total;
    const syncCpuMs = cpuMs(operator) - cpuBefore;
    const syncReconciles = (await reconciles()) - reconcilesBefore;

    await stack.resetRequestCounts();
    const cpuBeforeRotation = cpuMs(operator);
    const reconcilesBeforeRotation = await reconciles();
    await inBatches(names, (name) => stack.vaultAdmin.write(`${layout.kvV2Mount}/data/operator-bench/${name}`, { data: { password: `${name}-two` } }));
    const allRotatedMs = await waitAll((name) => `${name}-two`, Math.max(300_000, count * 100));
    const rotationRequests = (await stack.requestCounts()).total;
    const rotationCpuMs = cpuMs(operator) - cpuBeforeRotation;
    const rotationReconciles = (await reconciles()) - reconcilesBeforeRotation;
    const memory = memoryMiB(operator);
    return {
      secrets: count,
      refreshAfter,
      concurrency: process.env.BENCH_OPERATOR_CONCURRENCY ?? 'default',
      // Per Secret: every request in the phase (refreshes of Secrets synced early included, with the login
      // and the status checks); per sync: the same over the reconciles that read Vault.
      firstSync: {
        allCreatedMs, allSyncedMs, perSecond: count / (allSyncedMs / 1000), vaultRequestsPerSecret: syncRequests / count,
        vaultRequestsPerSync: syncRequests / Math.max(1, syncReconciles), cpuMsPerSync: syncCpuMs / Math.max(1, syncReconciles),
      },
      rotation: {
        allRotatedMs, vaultRequestsPerSecret: rotationRequests / count,
        vaultRequestsPerSync: rotationRequests / Math.max(1, rotationReconciles), cpuMsPerSync: rotationCpuMs / Math.max(1, rotationReconciles),
      },
      rssMiB: memory.rss,
      peakRssMiB: memory.peak,
    };
  } finally {
    if (operator && operator.exitCode === null) {
      const running = operator;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
    await stack.stop();
  }
}

/** Up to 50 at once: the API server and Vault answer 1,000 concurrent requests worse than a steady stream. */
async function inBatches<T>(items: readonly T[], action: (item: T) => Promise<unknown>, width = 50): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await action(item);
  }));
}

export function printOperatorTable(r: OperatorBenchResult): void {
  const vso = r.secrets === 1000 && r.refreshAfter === '30s' ? VSO_AT_1000 : undefined;
  // ratio > 1: ours is better (faster, fewer requests, less CPU).
  const row = (measure: string, ours: number, unit: string, goal: number | undefined, digits = 0) => {
    const known = goal !== undefined && Number.isFinite(goal) ? goal : undefined;
    console.log(`| ${measure} | ${ours.toFixed(digits)} ${unit} | ${known !== undefined ? `${known.toFixed(digits)} ${unit}` : 'n/a'} | ${known !== undefined ? `${(known / ours).toFixed(2)}×` : 'n/a'} |`);
  };
  console.log(`\nOperator (bundle, real API server and Vault; ${r.secrets} VaultStaticSecrets created at once, one KV secret each, refreshAfter ${r.refreshAfter}, concurrency ${r.concurrency})`);
  console.log('| measure | ours | goal (VSO v1.4.1) | ratio (goal/ours; >1 is better) |');
  console.log('|---|---|---|---|');
  row(`all ${r.secrets} Secrets synced, from the first create`, r.firstSync.allSyncedMs, 'ms', vso?.allSyncedMs);
  row(`all ${r.secrets} Secrets rotated after a change in Vault`, r.rotation.allRotatedMs, 'ms', vso?.allRotatedMs);
  row('Vault requests per Secret (first sync; early refreshes included)', r.firstSync.vaultRequestsPerSecret, '', vso?.vaultRequestsPerSecret, 2);
  row('Vault requests per sync (first sync)', r.firstSync.vaultRequestsPerSync, '', vso?.vaultRequestsPerSecret, 2);
  row('Vault requests per Secret (rotation; refreshes before the change included)', r.rotation.vaultRequestsPerSecret, '', vso?.vaultRequestsPerSecret, 2);
  row('Vault requests per sync (rotation)', r.rotation.vaultRequestsPerSync, '', vso?.vaultRequestsPerSecret, 2);
  row('operator CPU per sync (first sync)', r.firstSync.cpuMsPerSync, 'ms', vso?.cpuMsPerSync, 2);
  row('operator CPU per sync (rotation)', r.rotation.cpuMsPerSync, 'ms', vso?.cpuMsPerSync, 2);
  console.log(`| Secrets synced per second | ${r.firstSync.perSecond.toFixed(0)} | ${vso ? (1000 / (vso.allSyncedMs / 1000)).toFixed(0) : 'n/a'} | |`);
  console.log(`| the benchmark's own creates of the ${r.secrets} objects returned after | ${r.firstSync.allCreatedMs.toFixed(0)} ms | | |`);
  console.log(`| operator RSS at ${r.secrets} objects (peak) | ${r.rssMiB.toFixed(0)} MiB (${r.peakRssMiB.toFixed(0)} MiB) | | |`);
}
