// Open-loop load at a fixed offered rate: requests are sent on schedule whether or not earlier ones
// have answered, so queueing in the server shows up as latency (autocannon's rate limit sends each
// second's requests in a burst, which measures the burst rather than the server).
import { spawn } from 'node:child_process';
import https from 'node:https';

export interface ConstantRateResult {
  offeredPerSecond: number;
  completedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** The warm-up's own p99 and maximum: what a server shows while its JIT settles on this client. */
  warmup: { seconds: number; answered: number; p99Ms: number; maxMs: number };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface ConstantRateOptions {
  port: number;
  path: string;
  body: string;
  ratePerSecond: number;
  durationSeconds: number;
  connections: number;
  warmupSeconds?: number;
}

/**
 * constantRate in a node process of its own, as an API server calls a webhook from its own process. In
 * the benchmark's process the client shared a heap with the harness (the stack's handles, the kube client,
 * autocannon's runs) and its collections paused it for ~8 ms at a time while the server waited idle for
 * requests; those pauses were measured as the server's latency (packages/injector/README.md).
 */
export function constantRateInChild(options: ConstantRateOptions): Promise<ConstantRateResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) return reject(new Error(`the constant-rate client exited with ${signal ?? code}`));
      try {
        resolve(JSON.parse(output, (_key, value: unknown) => (value === 'NaN' ? NaN : value)) as ConstantRateResult);
      } catch (error) {
        reject(new Error(`the constant-rate client printed no result: ${String(error)}`));
      }
    });
  });
}

export async function constantRate(options: ConstantRateOptions): Promise<ConstantRateResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.connections, rejectUnauthorized: false });
  // Warm-up at the same rate on the same agent: TLS handshakes of new connections and the server's
  // JIT are start-up costs, not the steady-state latency this measures. 6 s, not 2: after a switch from
  // another client (the saturation runs' autocannon sends other headers), ~50 of Node's stream and http
  // functions in the webhook deoptimise and TurboFan starts ~55 compiles about 3 s later, which took the
  // 1,000/s run's p99 from 3-4 ms to 5-70 ms when that burst fell into the measured 10 s
  // (packages/injector/README.md, memory footprint). The warm-up's own tail is returned beside it.
  const warmupSeconds = options.warmupSeconds ?? 6;
  const warmupLatencies: number[] = [];
  if (warmupSeconds > 0)
    await run(
      agent,
      { ...options, durationSeconds: warmupSeconds },
      (ms) => warmupLatencies.push(ms),
      () => {},
    );
  warmupLatencies.sort((a, b) => a - b);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await run(
    agent,
    options,
    (ms) => latencies.push(ms),
    () => (errors += 1),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    offeredPerSecond: options.ratePerSecond,
    completedPerSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    errors,
    warmup: {
      seconds: warmupSeconds,
      answered: warmupLatencies.length,
      p99Ms: percentile(warmupLatencies, 99),
      maxMs: warmupLatencies.at(-1) ?? NaN,
    },
  };
}

async function run(
  agent: https.Agent,
  options: { port: number; path: string; body: string; ratePerSecond: number; durationSeconds: number },
  onLatency: (ms: number) => void,
  onError: () => void,
): Promise<void> {
  let inFlight = 0;
  const total = options.ratePerSecond * options.durationSeconds;
  const started = performance.now();
  const send = (): void => {
    const sentAt = performance.now();
    inFlight += 1;
    const request = https.request(
      {
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          inFlight -= 1;
          if (response.statusCode === 200) onLatency(performance.now() - sentAt);
          else onError();
        });
      },
    );
    request.on('error', () => {
      inFlight -= 1;
      onError();
    });
    request.end(options.body);
  };
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.ratePerSecond));
      while (sent < due) {
        send();
        sent += 1;
      }
      if (sent >= total) return resolve();
      // Sleep until the next request is due. Polling with setImmediate kept this process on a whole core,
      // and on a 2-core machine the server under test then shared the other one with its own GC and
      // compiler threads (its main thread waited ~0.8 s in the run queue in a 12 s run).
      const nextDueMs = ((sent + 1) / options.ratePerSecond) * 1000 - (performance.now() - started);
      setTimeout(tick, Math.max(0, nextDueMs));
    };
    tick();
  });
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2] ?? '') as ConstantRateOptions;
  // A run with no answered request has NaN percentiles, which JSON would turn into null.
  const result = await constantRate(options);
  process.stdout.write(JSON.stringify(result, (_key, value: unknown) => (Number.isNaN(value) ? 'NaN' : value)));
}
