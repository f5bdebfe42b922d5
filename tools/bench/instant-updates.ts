// Instant updates benchmark (issue 13): the operator bundle as a process against the real stack (Vault
// 1.13 with events.alpha1). N VaultStaticSecrets (default 1,000; BENCH_INSTANT_SECRETS) with
// spec.syncConfig.instantUpdates and refreshAfter 1h, so nothing but Vault's KV events can move them
// during the run. Once all are synced, M of their KV secrets (default 200; BENCH_INSTANT_WRITES) are
// written one after another; a watch on the Secrets timestamps each new value. Reported: p50/p99/max
// from the start of the KV write to the Secret holding it (goal p99 <= 1 s), Vault reads of the secrets
// that did not change (goal 0) and of those that did (goal 1 each).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { freeLoopbackPort, repoRoot, startStack } from '@vaultbridge/testenv';
import { BENCH_GROUP, createCustomObject, inBatches } from './operator-support.ts';

export interface InstantBenchResult {
  secrets: number;
  writes: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** GETs of KV secrets that were not written during the measured phase. */
  unchangedReads: number;
  /** GETs of the written KV secrets, per write. */
  readsPerChange: number;
  /** All Vault requests of the measured phase (status checks included), per write. */
  requestsPerChange: number;
}

export const INSTANT_GOALS = { p99Ms: 1000, unchangedReads: 0, readsPerChange: 1 };

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

export async function benchInstantUpdates(
  count = Number(process.env.BENCH_INSTANT_SECRETS ?? 1000),
  writes = Number(process.env.BENCH_INSTANT_WRITES ?? 200),
): Promise<InstantBenchResult> {
  const bundle = process.env.BENCH_OPERATOR_BUNDLE ?? path.join(repoRoot, 'packages/operator/dist/bundle/cli.mjs');
  if (!fs.existsSync(bundle))
    throw new Error(`${bundle} is missing: run 'npx nx run @vaultbridge/operator:bundle' (npm run bench does)`);
  if (!(writes >= 1 && writes <= count))
    throw new Error(`BENCH_INSTANT_WRITES must be between 1 and BENCH_INSTANT_SECRETS (${count}); got ${writes}`);
  const stack = await startStack();
  let operator: ChildProcess | undefined;
  let watchRequest: { abort: () => void } | undefined;
  try {
    const ns = 'instant-bench';
    const { layout } = stack;
    const kvPath = (name: string) => `${layout.kvV2Mount}/data/instant-bench/${name}`;
    await stack.createNamespace(ns);
    await stack.createServiceAccount(ns, 'app');
    await stack.writePolicy(
      ns,
      `path "${layout.kvV2Mount}/data/instant-bench/*" { capabilities = ["read"] }\npath "sys/events/subscribe/kv*" { capabilities = ["read"] }`,
    );
    await stack.writeKubernetesRole(ns, {
      serviceAccounts: ['app'],
      namespaces: [ns],
      policies: [ns],
      audience: 'vault',
    });
    const names = Array.from({ length: count }, (_, i) => `app-${i}`);
    await inBatches(names, (name) => stack.vaultAdmin.write(kvPath(name), { data: { password: `${name}-one` } }));

    const healthPort = await freeLoopbackPort();
    operator = spawn(
      process.execPath,
      [
        bundle,
        '--kubeconfig',
        stack.handle.kubeconfigPath,
        '--operator-namespace',
        ns,
        '--install-crds',
        '--health-probe-bind-address',
        `127.0.0.1:${healthPort}`,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const custom = stack.kube.config.makeApiClient(k8s.CustomObjectsApi);
    const group = BENCH_GROUP;
    const create = (plural: string, body: object) => createCustomObject(custom, ns, plural, body);
    await create('vaultconnections', {
      apiVersion: `${group}/v1beta1`,
      kind: 'VaultConnection',
      metadata: { name: 'default' },
      spec: { address: stack.vaultAddr },
    });
    await create('vaultauths', {
      apiVersion: `${group}/v1beta1`,
      kind: 'VaultAuth',
      metadata: { name: 'default' },
      spec: {
        method: 'kubernetes',
        mount: layout.kubernetesAuthMount,
        kubernetes: { role: ns, serviceAccount: 'app', audiences: ['vault'] },
      },
    });
    await inBatches(names, (name) =>
      create('vaultstaticsecrets', {
        apiVersion: `${group}/v1beta1`,
        kind: 'VaultStaticSecret',
        metadata: { name },
        spec: {
          mount: layout.kvV2Mount,
          path: `instant-bench/${name}`,
          type: 'kv-v2',
          refreshAfter: '1h',
          syncConfig: { instantUpdates: true },
          destination: { name: `${name}-secret`, create: true },
        },
      }),
    );

    // Every Secret's password as the watch delivers it, and when a wanted value arrived.
    const current = new Map<string, string>();
    const wanted = new Map<string, { value: string; sentAt: number; arrivedAt?: number }>();
    const watch = new k8s.Watch(stack.kube.config);
    watchRequest = await watch.watch(
      `/api/v1/namespaces/${ns}/secrets`,
      { labelSelector: 'app.kubernetes.io/managed-by=vaultbridge-operator' },
      (_type, secret: k8s.V1Secret) => {
        const name = (secret.metadata?.name ?? '').replace(/-secret$/, '');
        const password = Buffer.from(secret.data?.password ?? '', 'base64').toString();
        current.set(name, password);
        const want = wanted.get(name);
        if (want && want.arrivedAt === undefined && want.value === password) want.arrivedAt = performance.now();
      },
      () => undefined,
    );
    const until = async (what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> => {
      const deadline = performance.now() + timeoutMs;
      while (!(await done())) {
        if (performance.now() > deadline)
          throw new Error(`instant-updates bench: ${what} did not happen within ${timeoutMs} ms`);
        await sleep(100);
      }
    };
    await until(
      `all ${count} Secrets synced`,
      () => names.every((name) => current.get(name) === `${name}-one`),
      Math.max(300_000, count * 200),
    );
    await until(
      'the VaultConnection to say InstantUpdates=True',
      async () => {
        const connection = (await custom.getNamespacedCustomObject({
          group,
          version: 'v1beta1',
          namespace: ns,
          plural: 'vaultconnections',
          name: 'default',
        })) as { status?: { conditions?: { type: string; status: string }[] } };
        return (
          connection.status?.conditions?.some(
            (condition) => condition.type === 'InstantUpdates' && condition.status === 'True',
          ) === true
        );
      },
      60_000,
    );
    // Settle: the last first syncs' status writes are done before counting starts.
    await sleep(2000);
    await stack.resetRequestCounts();

    // Spread over the whole set; one write at a time, as applications change secrets.
    const changed = Array.from({ length: writes }, (_, i) => names[Math.floor((i * count) / writes)] as string);
    for (const name of changed) {
      const value = `${name}-two`;
      wanted.set(name, { value, sentAt: performance.now() });
      await stack.vaultAdmin.write(kvPath(name), { data: { password: value } });
      await sleep(20);
    }
    await until(
      `all ${writes} changes in their Secrets`,
      () => [...wanted.values()].every((want) => want.arrivedAt !== undefined),
      120_000,
    );
    await sleep(1000);
    const counts = (await stack.requestCounts()).byRoute;
    const changedSet = new Set(changed);
    let unchangedReads = 0;
    let changedReads = 0;
    for (const name of names) {
      const reads = counts[`GET /v1/${kvPath(name)}`] ?? 0;
      if (changedSet.has(name)) changedReads += reads;
      else unchangedReads += reads;
    }
    const total = Object.entries(counts)
      .filter(([route]) => !route.startsWith('POST /v1/secret/data/instant-bench/'))
      .reduce((sum, [, n]) => sum + n, 0);
    const latencies = [...wanted.values()]
      .map((want) => (want.arrivedAt ?? Number.NaN) - want.sentAt)
      .sort((a, b) => a - b);
    return {
      secrets: count,
      writes,
      latencyMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? Number.NaN,
      },
      unchangedReads,
      readsPerChange: changedReads / writes,
      requestsPerChange: total / writes,
    };
  } finally {
    watchRequest?.abort();
    if (operator && operator.exitCode === null) {
      const running = operator;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
    await stack.stop();
  }
}

export function printInstantTable(r: InstantBenchResult): void {
  const ratio = (goal: number, ours: number): string =>
    ours === 0 && goal === 0 ? '1.00× (both 0)' : ours === 0 ? '∞' : `${(goal / ours).toFixed(2)}×`;
  console.log(
    `\nInstant updates (operator bundle, Vault 1.13 events.alpha1; ${r.secrets} VaultStaticSecrets with instantUpdates and refreshAfter 1h, ${r.writes} KV writes one after another)`,
  );
  console.log('| measure | ours | goal | ratio (goal/ours; >1 is better) |');
  console.log('|---|---|---|---|');
  console.log(
    `| KV write → Secret, p99 | ${r.latencyMs.p99.toFixed(0)} ms | ≤ ${INSTANT_GOALS.p99Ms} ms | ${ratio(INSTANT_GOALS.p99Ms, r.latencyMs.p99)} |`,
  );
  console.log(
    `| KV write → Secret, p50 / max | ${r.latencyMs.p50.toFixed(0)} ms / ${r.latencyMs.max.toFixed(0)} ms | | |`,
  );
  console.log(
    `| Vault reads of the ${r.secrets - r.writes} unchanged secrets | ${r.unchangedReads} | ${INSTANT_GOALS.unchangedReads} | ${ratio(INSTANT_GOALS.unchangedReads, r.unchangedReads)} |`,
  );
  console.log(
    `| Vault reads per changed secret | ${r.readsPerChange.toFixed(2)} | ${INSTANT_GOALS.readsPerChange} | ${ratio(INSTANT_GOALS.readsPerChange, r.readsPerChange)} |`,
  );
  console.log(
    `| all Vault requests per change (status checks included, the writes excluded) | ${r.requestsPerChange.toFixed(2)} | | |`,
  );
  console.log(
    `| without instant updates (refreshAfter polling, ours and VSO without Enterprise) | one read per object per refreshAfter; a change waits up to 0.9 × refreshAfter | | |`,
  );
}
