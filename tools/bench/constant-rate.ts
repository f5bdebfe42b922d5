// Open-loop load at a fixed offered rate: requests are sent on schedule whether or not earlier ones
// have answered, so queueing in the server shows up as latency (autocannon's rate limit sends each
// second's requests in a burst, which measures the burst rather than the server).
import https from 'node:https';

export interface ConstantRateResult {
  offeredPerSecond: number;
  completedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function constantRate(options: {
  port: number;
  path: string;
  body: string;
  ratePerSecond: number;
  durationSeconds: number;
  connections: number;
  warmupSeconds?: number;
}): Promise<ConstantRateResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.connections, rejectUnauthorized: false });
  // Warm-up at the same rate on the same agent: TLS handshakes of new connections and the server's
  // JIT are start-up costs, not the steady-state latency this measures.
  const warmupSeconds = options.warmupSeconds ?? 2;
  if (warmupSeconds > 0)
    await run(
      agent,
      { ...options, durationSeconds: warmupSeconds },
      () => {},
      () => {},
    );
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
      if (sent < total) setImmediate(tick);
      else resolve();
    };
    tick();
  });
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
}
