// Agent benchmark: start-to-first-render of `vaultbridge-agent init` (the bundle, one process per run)
// against the real stack, its peak memory, and the Vault requests one init makes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decide } from '@vaultbridge/injector';
import { repoRoot, startStack } from '@vaultbridge/testenv';

export interface AgentBenchResult {
  runs: number;
  medianMs: number;
  maxMs: number;
  peakRssMiB: number;
  vaultRequestsPerInit: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

export async function benchAgentInit(runs = 7): Promise<AgentBenchResult> {
  const bundle = path.join(repoRoot, 'packages/agent/dist/bundle/agent.mjs');
  if (!fs.existsSync(bundle))
    throw new Error(`${bundle} is missing: run 'npx nx run @vaultbridge/agent:bundle' (npm run bench does)`);
  const stack = await startStack();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-agent-bench-'));
  try {
    const ns = 'bench';
    await stack.createServiceAccount(ns, 'app');
    await stack.writePolicy('bench-app', 'path "secret/data/bench/*" { capabilities = ["read"] }');
    await stack.writeKubernetesRole('bench-app', {
      serviceAccounts: ['app'],
      namespaces: [ns],
      policies: ['bench-app'],
      audience: 'vault',
    });
    for (const name of ['db', 'api', 'tls'])
      await stack.vaultAdmin.write(`secret/data/bench/${name}`, { data: { user: name, password: `${name}-password` } });
    const decision = decide(
      {
        metadata: {
          name: 'app',
          annotations: {
            'vault.hashicorp.com/agent-inject': 'true',
            'vault.hashicorp.com/role': 'bench-app',
            'vault.hashicorp.com/agent-inject-secret-db': 'secret/data/bench/db',
            'vault.hashicorp.com/agent-inject-secret-api': 'secret/data/bench/api',
            'vault.hashicorp.com/agent-inject-template-api': 'key={{ password }}',
            'vault.hashicorp.com/agent-inject-secret-tls': 'secret/data/bench/tls',
          },
        },
        spec: {
          serviceAccountName: 'app',
          containers: [
            {
              name: 'app',
              image: 'app',
              volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
            },
          ],
          volumes: [
            { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault' } }] } },
          ],
        },
      },
      ns,
      { vaultAddress: stack.vaultAddr },
    );
    if (decision.kind !== 'inject') throw new Error(`the benchmark pod was not injected: ${decision.kind}`);
    const config =
      decision.pod.spec?.initContainers?.[0]?.env?.find((e) => e.name === 'VAULTBRIDGE_AGENT_CONFIG')?.value ?? '';
    const times: number[] = [];
    let peakKiB = 0;
    let requests = 0;
    for (let run = 0; run < runs; run++) {
      const root = path.join(work, `run-${run}`);
      const tokenFile = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount/token');
      fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
      fs.writeFileSync(tokenFile, (await stack.requestToken(ns, 'app', { audiences: ['vault'] })).token);
      const stats = path.join(work, `time-${run}`);
      const before = (await stack.requestCounts()).total;
      const started = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn('/usr/bin/time', ['-f', '%M', '-o', stats, process.execPath, bundle, 'init'], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            VAULTBRIDGE_AGENT_ROOT: root,
            VAULTBRIDGE_AGENT_CONFIG: config,
          },
          stdio: 'ignore',
        });
        child.once('exit', resolve);
      });
      times.push(performance.now() - started);
      if (code !== 0 || !fs.existsSync(path.join(root, 'vault/secrets/api')))
        throw new Error(`agent init run ${run} failed (exit ${code})`);
      requests = (await stack.requestCounts()).total - before;
      peakKiB = Math.max(peakKiB, Number(fs.readFileSync(stats, 'utf8').trim().split('\n').pop()));
    }
    return {
      runs,
      medianMs: median(times),
      maxMs: Math.max(...times),
      peakRssMiB: peakKiB / 1024,
      vaultRequestsPerInit: requests,
    };
  } finally {
    await stack.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function printAgentTable(r: AgentBenchResult): void {
  console.log('\nAgent init (bundle, 3 KV secrets, real Vault; process start to exit 0)');
  console.log('| runs | median ms | max ms | peak RSS MiB | Vault requests / init |');
  console.log('|------|-----------|--------|--------------|-----------------------|');
  console.log(
    `| ${String(r.runs).padStart(4)} | ${r.medianMs.toFixed(0).padStart(9)} | ${r.maxMs.toFixed(0).padStart(6)} | ${r.peakRssMiB.toFixed(0).padStart(12)} | ${String(r.vaultRequestsPerInit).padStart(21)} |`,
  );
}
