// Webhook admission benchmark: our injector (the esbuild bundle, one process) against a bare express
// HTTPS handler, same machine, same run. Saturation throughput at 50 connections (autocannon), and latency at an
// offered 1,000 reviews per second (open-loop, constant-rate.ts). Prints a table and returns the numbers.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { createCertificateAuthority, freeLoopbackPort, issueCertificate, repoRoot } from '@vaultbridge/testenv';
import { constantRateInChild, type ConstantRateResult } from './constant-rate.ts';
import { handleAdmissionReview } from '@vaultbridge/injector';

const connections = 50;
const durationSeconds = Number(process.env.BENCH_DURATION ?? 10);

/** A pod with three secrets, as a typical annotated workload. */
export function sampleReview(): object {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '00000000-0000-0000-0000-000000000001',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'apps',
      operation: 'CREATE',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'web',
          namespace: 'apps',
          annotations: {
            'vault.hashicorp.com/agent-inject': 'true',
            'vault.hashicorp.com/role': 'web',
            'vault.hashicorp.com/agent-inject-secret-db': 'database/creds/web',
            'vault.hashicorp.com/agent-inject-secret-api': 'secret/data/web/api',
            'vault.hashicorp.com/agent-inject-template-api':
              '{{ with secret "secret/data/web/api" }}{{ .Data.data.key }}{{ end }}',
            'vault.hashicorp.com/agent-inject-secret-tls': 'pki/issue/web',
          },
        },
        spec: {
          serviceAccountName: 'web',
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              volumeMounts: [
                { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
              ],
            },
          ],
          volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
        },
      },
    },
  };
}

export async function waitReady(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      const result = await autocannon({ url: `https://127.0.0.1:${port}/health/ready`, amount: 1, connections: 1 });
      if (result['2xx'] === 1) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${name} did not become ready on port ${port}`);
}

export interface LoadResult {
  requestsPerSecond: number;
  /** the server process's CPU time (user + system) per answered request, from /proc */
  cpuMicrosPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** At a fixed rate: the warm-up's p99 and maximum (constant-rate.ts says why it is kept apart). */
  warmup?: ConstantRateResult['warmup'];
}

/** CPU seconds (user + system) a process has used so far. Linux /proc; clock ticks are 1/100 s. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Closed-loop load on the webhook at `port`: each connection sends a review as soon as the last is answered. */
export function saturate(
  port: number,
  body: string,
  options: { connections?: number; durationSeconds?: number } = {},
): Promise<autocannon.Result> {
  return autocannon({
    url: `https://127.0.0.1:${port}/mutate`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: options.connections ?? connections,
    duration: options.durationSeconds ?? durationSeconds,
  });
}

export async function load(
  server: ChildProcess,
  port: number,
  body: string,
  overallRate?: number,
  seconds = durationSeconds,
): Promise<LoadResult> {
  const cpuBefore = cpuSeconds(server.pid!);
  if (overallRate) {
    const r = await constantRateInChild({
      port,
      path: '/mutate',
      body,
      ratePerSecond: overallRate,
      durationSeconds: seconds,
      connections,
    });
    // The server's CPU was read before the warm-up, so its reviews count too.
    const answered = r.completedPerSecond * seconds + r.warmup.answered;
    return {
      requestsPerSecond: r.completedPerSecond,
      cpuMicrosPerRequest: ((cpuSeconds(server.pid!) - cpuBefore) * 1e6) / answered,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      non2xx: 0,
      errors: r.errors,
      warmup: r.warmup,
    };
  }
  const result = await saturate(port, body, { durationSeconds: seconds });
  return {
    requestsPerSecond: result.requests.average,
    cpuMicrosPerRequest: ((cpuSeconds(server.pid!) - cpuBefore) * 1e6) / result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** The two measurements the table shows for one server: saturation, then an offered 1,000 reviews/s. */
async function measure(
  server: ChildProcess,
  port: number,
  body: string,
): Promise<{ saturation: LoadResult; at1000: LoadResult }> {
  return { saturation: await load(server, port, body), at1000: await load(server, port, body, 1000) };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export interface WebhookBenchResult {
  /** `serve` as shipped: `--workers auto` (one admission worker thread per CPU beyond the first). */
  ours: { saturation: LoadResult; at1000: LoadResult; workers: string };
  /** `serve --workers 0`: every review on the event loop, one thread in all. */
  oursInline: { saturation: LoadResult; at1000: LoadResult };
  /** Bare express answering a 150-byte fixed patch. */
  baseline: { saturation: LoadResult; at1000: LoadResult };
  /** Bare express answering our own patch for this pod (computed once): the same bytes on the wire. */
  baselineSamePatch: { saturation: LoadResult; at1000: LoadResult };
  throughputRatio: number;
  throughputRatioSamePatch: number;
}

export async function benchWebhook(): Promise<WebhookBenchResult> {
  const bundle = path.join(repoRoot, 'packages/injector/dist/bundle/injector.mjs');
  if (!fs.existsSync(bundle))
    throw new Error(`${bundle} is missing: run 'npx nx run injector:bundle' (npm run bench does)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-bench-'));
  const ca = await createCertificateAuthority('bench-ca');
  const serving = await issueCertificate(ca, { commonName: 'bench', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  fs.writeFileSync(certFile, serving.certPem);
  fs.writeFileSync(keyFile, serving.keyPem);
  const body = JSON.stringify(sampleReview());

  const node = process.execPath;
  const oursPort = await freeLoopbackPort();
  const serve = (port: number, extra: string[]) =>
    spawn(
      node,
      [
        ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        bundle,
        'serve',
        '--listen',
        `127.0.0.1:${port}`,
        '--tls-cert-file',
        certFile,
        '--tls-key-file',
        keyFile,
        '--vault-address',
        'https://vault.vault.svc:8200',
        '--log-level',
        'warn',
        ...extra,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  const ours = serve(oursPort, []);
  const inlinePort = await freeLoopbackPort();
  const oursInline = serve(inlinePort, ['--workers', '0']);
  const basePort = await freeLoopbackPort();
  // The bare express handler; with a patch file it answers those bytes instead of its 150-byte patch.
  const bare = (port: number, extra: string[]) =>
    spawn(node, [path.join(repoRoot, 'tools/bench/baseline-webhook.ts'), String(port), certFile, keyFile, ...extra], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const baseline = bare(basePort, []);
  const ourPatch =
    handleAdmissionReview(sampleReview(), { vaultAddress: 'https://vault.vault.svc:8200' }).response.response.patch ??
    '';
  const patchFile = path.join(dir, 'patch.b64');
  fs.writeFileSync(patchFile, ourPatch);
  const samePort = await freeLoopbackPort();
  const baselineSame = bare(samePort, [patchFile]);
  try {
    await waitReady(oursPort, ours, 'injector');
    await waitReady(inlinePort, oursInline, 'injector --workers 0');
    await waitReady(basePort, baseline, 'baseline');
    await waitReady(samePort, baselineSame, 'baseline with our patch');
    // Warm up each (JIT, TLS session setup) before measuring.
    for (const port of [oursPort, inlinePort, basePort, samePort]) await saturate(port, body, { durationSeconds: 2 });
    const result: WebhookBenchResult = {
      ours: {
        ...(await measure(ours, oursPort, body)),
        workers: `auto (${Math.min(4, Math.max(0, os.availableParallelism() - 1))} on ${os.availableParallelism()} CPUs)`,
      },
      oursInline: await measure(oursInline, inlinePort, body),
      baseline: await measure(baseline, basePort, body),
      baselineSamePatch: await measure(baselineSame, samePort, body),
      throughputRatio: 0,
      throughputRatioSamePatch: 0,
    };
    result.throughputRatio = result.ours.saturation.requestsPerSecond / result.baseline.saturation.requestsPerSecond;
    result.throughputRatioSamePatch =
      result.ours.saturation.requestsPerSecond / result.baselineSamePatch.saturation.requestsPerSecond;
    return result;
  } finally {
    await Promise.all([stop(ours), stop(oursInline), stop(baseline), stop(baselineSame)]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function printWebhookTable(r: WebhookBenchResult): void {
  const row = (name: string, s: LoadResult, f: LoadResult) =>
    `| ${name.padEnd(24)} | ${s.requestsPerSecond.toFixed(0).padStart(10)} | ${s.p99Ms.toFixed(1).padStart(8)} | ${s.cpuMicrosPerRequest.toFixed(0).padStart(11)} | ${f.requestsPerSecond.toFixed(0).padStart(9)} | ${f.p50Ms.toFixed(1).padStart(7)} | ${f.p99Ms.toFixed(1).padStart(7)} | ${String(s.non2xx + f.non2xx + s.errors + f.errors).padStart(6)} |`;
  console.log(
    '\nWebhook admission (pod with 3 secrets, 50 connections, one process each; CPU = server user+system time per answered review at saturation)',
  );
  console.log(
    '| server                   | sat. req/s | sat. p99 | CPU µs/req  | @1000 r/s | p50 ms  | p99 ms  | errors |',
  );
  console.log(
    '|--------------------------|------------|----------|-------------|-----------|---------|---------|--------|',
  );
  console.log(row('vaultbridge-injector', r.ours.saturation, r.ours.at1000));
  console.log(row('  … --workers 0', r.oursInline.saturation, r.oursInline.at1000));
  console.log(row('bare express, tiny patch', r.baseline.saturation, r.baseline.at1000));
  console.log(row('bare express, our patch', r.baselineSamePatch.saturation, r.baselineSamePatch.at1000));
  console.log(`vaultbridge-injector workers: ${r.ours.workers}; CPU µs/req counts every thread of the server process`);
  console.log(
    `throughput ratio ours / bare express with a 150-byte patch: ${r.throughputRatio.toFixed(2)}; with the same answer bytes: ${r.throughputRatioSamePatch.toFixed(2)}   goals: ≥2000 req/s, p99 ≤20 ms at 1000/s, ratio ≥0.6`,
  );
  const warmup = (f: LoadResult) =>
    f.warmup ? `p99 ${f.warmup.p99Ms.toFixed(1)} ms, max ${f.warmup.maxMs.toFixed(1)} ms` : 'none';
  console.log(
    `@1000 r/s warm-up (the first ${r.ours.at1000.warmup?.seconds ?? 0} s on the fixed-rate client, JIT settling; not in the columns): vaultbridge-injector ${warmup(r.ours.at1000)}; --workers 0 ${warmup(r.oursInline.at1000)}`,
  );
  console.log(
    `the same ratios with --workers 0 (one thread): ${(r.oursInline.saturation.requestsPerSecond / r.baseline.saturation.requestsPerSecond).toFixed(2)} (150-byte patch), ${(r.oursInline.saturation.requestsPerSecond / r.baselineSamePatch.saturation.requestsPerSecond).toFixed(2)} (same bytes)`,
  );
}
