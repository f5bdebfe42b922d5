// The agent's footprint with 10 secrets (5 templated): peak RSS of `init`, steady RSS of `sidecar`, both
// run as the image runs them (the node flags of the Dockerfile's vaultbridge-agent wrapper), and the
// sidecar's re-render load inside a cgroup with the agent's default memory limit (agent-limits-mem).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decide } from '@vaultbridge/injector';
import { repoRoot, startStack, wrapperNodeFlags } from '@vaultbridge/testenv';
import {
  MemoryCgroup,
  printFootprintTable,
  quantityBytes,
  shippedEnv,
  type CgroupCheck,
  type FootprintRow,
} from './footprint.ts';

const goals = { initPeakMiB: 64, sidecarSteadyMiB: 48 };
/** The injector's default agent memory limit (annotation agent-limits-mem, as vault-k8s). */
const agentMemoryLimit = '128Mi';

/** The node flags of the image's `vaultbridge-agent` wrapper (`exec node <flags> /app/agent.mjs`). */
export function agentNodeFlags(): string[] {
  if (process.env.BENCH_AGENT_NODE_FLAGS !== undefined)
    return process.env.BENCH_AGENT_NODE_FLAGS.split(' ').filter(Boolean);
  const dockerfile = path.join(repoRoot, 'packages/agent/Dockerfile');
  return wrapperNodeFlags(fs.readFileSync(dockerfile, 'utf8'), '/app/agent.mjs');
}

export interface AgentFootprint {
  templates: number;
  /** init: process start to exit 0, and its CPU (user + system), medians of the three runs. */
  initMedianMs: number;
  initCpuMs: number;
  /** sidecar: CPU per second over its steady window (it re-reads KV and re-renders every 2 s). */
  sidecarCpuMsPerSecond: number;
  initPeakRssMiB: number;
  sidecarSteadyRssMiB: number;
  /** a sidecar with the default 5-minute interval, 20 s after its first render (the idle trim has run) */
  sidecarQuietRssMiB: number;
  sidecarPeakRssMiB: number;
  rows: FootprintRow[];
  cgroup: CgroupCheck;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** user + system CPU of a process so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function status(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN) / 1024;
}

export async function benchAgentFootprint(cgroupSeconds: number, secrets = 10): Promise<AgentFootprint> {
  const bundle = path.join(repoRoot, 'packages/agent/dist/bundle/agent.mjs');
  if (!fs.existsSync(bundle))
    throw new Error(`${bundle} is missing: run 'npx nx run @vaultbridge/agent:bundle' (npm run bench does)`);
  const flags = agentNodeFlags();
  const stack = await startStack();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-agent-footprint-'));
  const children: ChildProcess[] = [];
  let cgroup: MemoryCgroup | undefined;
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
    // Two pods' worth of secrets under their own prefixes, so Vault's request counts tell the two
    // sidecars of the cgroup run apart.
    // renderInterval undefined: the default 5-minute static-secret interval, a sidecar that is quiet between.
    const configsFor = async (prefix: string, renderInterval?: string): Promise<{ init: string; sidecar: string }> => {
      const annotations: Record<string, string> = {
        'vault.hashicorp.com/agent-inject': 'true',
        'vault.hashicorp.com/role': 'bench-app',
        ...(renderInterval === undefined
          ? {}
          : { 'vault.hashicorp.com/template-static-secret-render-interval': renderInterval }),
      };
      for (let i = 0; i < secrets; i++) {
        const secretPath = `secret/data/bench/${prefix}-s${i}`;
        await stack.vaultAdmin.write(secretPath, {
          data: { user: `user-${i}`, password: `password-${i}`, url: `postgres://db-${i}:5432/app` },
        });
        annotations[`vault.hashicorp.com/agent-inject-secret-s${i}`] = secretPath;
        if (i % 2 === 0) {
          annotations[`vault.hashicorp.com/agent-inject-template-s${i}`] =
            `{{- with secret "${secretPath}" -}}\nuser={{ .Data.data.user }}\npassword={{ .Data.data.password | base64Encode }}\nurl={{ .Data.data.url | toUpper }}\n{{- end }}`;
        }
      }
      const decision = decide(
        {
          metadata: { name: 'app', annotations },
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
              {
                name: 'token',
                projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault' } }] },
              },
            ],
          },
        },
        ns,
        { vaultAddress: stack.vaultAddr },
      );
      if (decision.kind !== 'inject')
        throw new Error(`the benchmark pod was not injected: ${JSON.stringify(decision).slice(0, 500)}`);
      const configOf = (container: { env?: Array<{ name: string; value?: string }> } | undefined) =>
        container?.env?.find((e) => e.name === 'VAULTBRIDGE_AGENT_CONFIG')?.value ?? '';
      const init = configOf(decision.pod.spec?.initContainers?.[0]);
      const sidecar = configOf(decision.pod.spec?.containers?.find((c) => c.name === 'vault-agent'));
      if (init === '' || sidecar === '')
        throw new Error('the injected pod has no vault-agent-init or vault-agent config');
      return { init, sidecar };
    };
    // Re-read KV every few seconds, so the steady and cgroup runs render all the time.
    const a = await configsFor('a', '2s');
    const b = await configsFor('b', '2s');
    const quietPod = await configsFor('q');
    const initConfig = a.init;

    const rootFor = async (name: string) => {
      const root = path.join(work, name);
      const tokenFile = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount/token');
      fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
      fs.writeFileSync(tokenFile, (await stack.requestToken(ns, 'app', { audiences: ['vault'] })).token);
      return root;
    };
    const imageEnv = shippedEnv(path.join(repoRoot, 'packages/agent/Dockerfile'));
    const env = (root: string, config: string) => ({
      ...imageEnv,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      VAULTBRIDGE_AGENT_ROOT: root,
      VAULTBRIDGE_AGENT_CONFIG: config,
    });

    // init: the peak (VmHWM, via time -f %M) over three runs, its wall time and CPU.
    let initPeakKiB = 0;
    const initMs: number[] = [];
    const initCpu: number[] = [];
    for (let run = 0; run < 3; run++) {
      const root = await rootFor(`init-${run}`);
      const stats = path.join(work, `time-${run}`);
      let output = '';
      const started = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(
          '/usr/bin/time',
          ['-f', '%U %S %M', '-o', stats, process.execPath, ...flags, bundle, 'init'],
          {
            env: env(root, initConfig),
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', resolve);
      });
      if (code !== 0 || !fs.existsSync(path.join(root, 'vault/secrets/s0')))
        throw new Error(`agent init run ${run} failed (exit ${code}): ${output.slice(-2000)}`);
      initMs.push(performance.now() - started);
      const [user, system, maxKiB] = (fs.readFileSync(stats, 'utf8').trim().split('\n').pop() ?? '')
        .split(' ')
        .map(Number);
      initCpu.push(((user ?? NaN) + (system ?? NaN)) * 1000);
      initPeakKiB = Math.max(initPeakKiB, maxKiB ?? NaN);
    }

    // sidecar: steady RSS after its first render and a few re-reads; then the same load in and out of the limit.
    const startSidecar = async (
      name: string,
      sidecarConfig: string,
      inGroup?: MemoryCgroup,
    ): Promise<{ child: ChildProcess; root: string }> => {
      const root = await rootFor(name);
      const args = [...flags, bundle, 'sidecar'];
      const child = inGroup
        ? spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', inGroup.dir, process.execPath, ...args], {
            env: env(root, sidecarConfig),
            stdio: 'ignore',
          })
        : spawn(process.execPath, args, { env: env(root, sidecarConfig), stdio: 'ignore' });
      children.push(child);
      for (let i = 0; i < 300 && !fs.existsSync(path.join(root, `vault/secrets/s${secrets - 1}`)); i++)
        await sleep(100);
      return { child, root };
    };
    const steady = await startSidecar('sidecar', a.sidecar);
    const cpuBefore = cpuMs(steady.child.pid);
    await sleep(20_000);
    const sidecarCpuMsPerSecond = (cpuMs(steady.child.pid) - cpuBefore) / 20;
    const sidecarSteadyRssMiB = status(steady.child.pid, 'VmRSS');
    const sidecarPeakRssMiB = status(steady.child.pid, 'VmHWM');
    steady.child.kill('SIGTERM');
    // The sidecar most pods run: the default interval, so after its first render it is quiet, and the idle
    // memory trim (V8's collection, then malloc_trim) gives back what start-up and the first render grew.
    const quiet = await startSidecar('quiet', quietPod.sidecar);
    await sleep(20_000);
    const sidecarQuietRssMiB = status(quiet.child.pid, 'VmRSS');
    quiet.child.kill('SIGTERM');

    // Throughput: KV reads the sidecar made (Vault's request count by route) while in the limit and without.
    cgroup = new MemoryCgroup('agent', quantityBytes(agentMemoryLimit));
    const limited = await startSidecar('limited', a.sidecar, cgroup);
    let killedBy: string | null = null;
    limited.child.once('exit', (_code, signal) => (killedBy = signal));
    await startSidecar('free', b.sidecar);
    const readsOf = (counts: Record<string, number>, prefix: string) =>
      Object.entries(counts)
        .filter(([route]) => route.startsWith(`GET /v1/secret/data/bench/${prefix}-`))
        .reduce((sum, [, n]) => sum + n, 0);
    await stack.resetRequestCounts();
    const started = Date.now();
    await sleep(cgroupSeconds * 1000);
    const { byRoute } = await stack.requestCounts();
    const elapsed = (Date.now() - started) / 1000;
    const stats = cgroup.stats();
    const rows: FootprintRow[] = [
      {
        service: 'agent',
        measure: `init, ${secrets} secrets (${Math.ceil(secrets / 2)} templated): peak`,
        oursMiB: initPeakKiB / 1024,
        goalMiB: goals.initPeakMiB,
      },
      {
        service: 'agent',
        measure: 'sidecar steady (20 s after the first render)',
        oursMiB: sidecarSteadyRssMiB,
        goalMiB: goals.sidecarSteadyMiB,
      },
      {
        service: 'agent',
        measure: 'sidecar quiet (default 5-minute interval, 20 s after the first render: idle-trimmed)',
        oursMiB: sidecarQuietRssMiB,
        goalMiB: goals.sidecarSteadyMiB,
      },
    ];
    return {
      templates: secrets,
      initMedianMs: median(initMs),
      initCpuMs: median(initCpu),
      sidecarCpuMsPerSecond,
      initPeakRssMiB: initPeakKiB / 1024,
      sidecarSteadyRssMiB,
      sidecarQuietRssMiB,
      sidecarPeakRssMiB,
      rows,
      cgroup: {
        service: 'agent sidecar',
        limitMiB: quantityBytes(agentMemoryLimit) / 1024 ** 2,
        seconds: cgroupSeconds,
        oomKilled: killedBy === 'SIGKILL' || stats.oomKills > 0,
        maxUsageMiB: stats.maxUsageMiB,
        failcnt: stats.failcnt,
        limitedPerSecond: readsOf(byRoute, 'a') / elapsed,
        unlimitedPerSecond: readsOf(byRoute, 'b') / elapsed,
        unit: 'KV reads/s',
      },
    };
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    cgroup?.remove();
    await stack.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function printAgentFootprint(result: AgentFootprint): void {
  console.log(
    `\nagent (node flags [${agentNodeFlags().join(' ')}]): init ${result.initMedianMs.toFixed(0)} ms start to exit, ${result.initCpuMs.toFixed(0)} ms CPU (medians of 3); sidecar ${result.sidecarCpuMsPerSecond.toFixed(1)} ms CPU per second while re-rendering every 2 s`,
  );
  printFootprintTable(`Agent footprint (sidecar peak ${result.sidecarPeakRssMiB.toFixed(0)} MiB)`, result.rows, [
    result.cgroup,
  ]);
}
