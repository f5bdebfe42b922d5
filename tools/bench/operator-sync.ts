// Operator benchmark: the operator bundle as a process against the real stack. N VaultStaticSecrets
// (one KV secret each) are created at once: time until every Secret exists (sync throughput), then every
// KV secret changes in Vault: time until every Secret holds the new value (rotation latency, bounded by
// refreshAfter), Vault requests per sync, and the operator's memory at N objects.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { freeLoopbackPort, repoRoot, startStack } from '@vaultbridge/testenv';

export interface OperatorBenchResult {
  secrets: number;
  refreshAfter: string;
  firstSync: { allSyncedMs: number; perSecond: number; vaultRequestsPerSecret: number };
  rotation: { allRotatedMs: number };
  rssMiB: number;
  peakRssMiB: number;
}

function memoryMiB(child: ChildProcess): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

export async function benchOperatorSync(count = 200, refreshAfter = '5s'): Promise<OperatorBenchResult> {
  const bundle = path.join(repoRoot, 'packages/operator/dist/bundle/cli.mjs');
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
    await Promise.all(names.map((name) => stack.vaultAdmin.write(`${layout.kvV2Mount}/data/operator-bench/${name}`, { data: { password: `${name}-one` } })));

    operator = spawn(process.execPath, [...(process.env.BENCH_OPERATOR_NODE_FLAGS ?? '').split(' ').filter(Boolean), bundle, '--kubeconfig', stack.handle.kubeconfigPath, '--operator-namespace', ns, '--install-crds',
      '--health-probe-bind-address', `127.0.0.1:${await freeLoopbackPort()}`, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
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

    await stack.resetRequestCounts();
    const started = performance.now();
    await Promise.all(names.map((name) => create('vaultstaticsecrets', {
      apiVersion: `${group}/v1beta1`, kind: 'VaultStaticSecret', metadata: { name },
      spec: { mount: layout.kvV2Mount, path: `operator-bench/${name}`, type: 'kv-v2', refreshAfter, destination: { name: `${name}-secret`, create: true } },
    })));
    await waitAll((name) => `${name}-one`, 120_000);
    const allSyncedMs = performance.now() - started;
    const syncRequests = (await stack.requestCounts()).total;

    await Promise.all(names.map((name) => stack.vaultAdmin.write(`${layout.kvV2Mount}/data/operator-bench/${name}`, { data: { password: `${name}-two` } })));
    const allRotatedMs = await waitAll((name) => `${name}-two`, 120_000);
    const memory = memoryMiB(operator);
    return {
      secrets: count,
      refreshAfter,
      firstSync: { allSyncedMs, perSecond: count / (allSyncedMs / 1000), vaultRequestsPerSecret: syncRequests / count },
      rotation: { allRotatedMs },
      rssMiB: memory.rss,
      peakRssMiB: memory.peak,
    };
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator!.once('exit', resolve));
      operator.kill('SIGTERM');
      await exited;
    }
    await stack.stop();
  }
}

export function printOperatorTable(r: OperatorBenchResult): void {
  console.log(`\nOperator (bundle, real API server and Vault; ${r.secrets} VaultStaticSecrets created at once, one KV secret each, refreshAfter ${r.refreshAfter})`);
  console.log('| measure | result |');
  console.log('|---|---|');
  console.log(`| all ${r.secrets} Secrets synced (from the first create) | ${r.firstSync.allSyncedMs.toFixed(0)} ms, ${r.firstSync.perSecond.toFixed(0)} Secrets/s |`);
  console.log(`| Vault requests per synced Secret (login shared) | ${r.firstSync.vaultRequestsPerSecret.toFixed(2)} |`);
  console.log(`| all ${r.secrets} Secrets rotated after a change in Vault | ${r.rotation.allRotatedMs.toFixed(0)} ms (refresh at 80–90% of ${r.refreshAfter}) |`);
  console.log(`| operator RSS at ${r.secrets} objects (peak) | ${r.rssMiB.toFixed(0)} MiB (${r.peakRssMiB.toFixed(0)} MiB) |`);
}
