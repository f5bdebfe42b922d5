// Liveness, readiness and metrics over plain HTTP for the kubelet and Prometheus. Probe answers name the
// failing checks but never carry error text: a check's error could quote configuration or a response.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { MetricsRegistry } from './metrics.ts';

/**
 * A health check: healthy unless it returns false, throws or rejects, or does not settle within the
 * check timeout (then `signal` is aborted).
 */
export type HealthCheck = (signal: AbortSignal) => boolean | undefined | Promise<boolean | undefined>;

export interface HealthServerOptions {
  /** Served on `/metrics`; without it `/metrics` answers 404. */
  metrics?: MetricsRegistry;
  /** Told when a check starts or stops failing. */
  logger?: Logger;
  /** A check that takes longer fails. Default 5000 ms. */
  checkTimeoutMs?: number;
}

export interface HealthReport {
  ok: boolean;
  /** Names of the failing checks, sorted. */
  failing: string[];
}

export interface BoundAddress {
  host: string;
  port: number;
  /** `http://host:port`, with brackets around an IPv6 host. */
  url: string;
}

export class HealthServerError extends Error {
  readonly code: 'HEALTH_CHECK_EXISTS' | 'HEALTH_SERVER_LISTENING';

  constructor(code: HealthServerError['code'], message: string) {
    super(message);
    this.name = 'HealthServerError';
    this.code = code;
  }
}

type Kind = 'liveness' | 'readiness';

export class HealthServer {
  readonly #metrics: MetricsRegistry | undefined;
  readonly #logger: Logger | undefined;
  readonly #timeoutMs: number;
  readonly #checks: Record<Kind, Map<string, HealthCheck>> = { liveness: new Map(), readiness: new Map() };
  // Last known state per check, so the log tells when a check starts and stops failing, not every probe.
  readonly #failing = new Set<string>();
  #shuttingDown = false;
  #server: http.Server | undefined;

  constructor(options: HealthServerOptions = {}) {
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#timeoutMs = options.checkTimeoutMs ?? 5000;
  }

  /** `/healthz` fails while this check fails: the kubelet restarts the container. */
  addLivenessCheck(name: string, check: HealthCheck): () => void {
    return this.#add('liveness', name, check);
  }

  /** `/readyz` fails while this check fails: the pod gets no traffic, nothing restarts. */
  addReadinessCheck(name: string, check: HealthCheck): () => void {
    return this.#add('readiness', name, check);
  }

  /** From now on `/readyz` fails with `shutting-down`, so traffic drains before the server closes. */
  setShuttingDown(): void {
    this.#shuttingDown = true;
  }

  liveness(): Promise<HealthReport> {
    return this.#run('liveness');
  }

  async readiness(): Promise<HealthReport> {
    const report = await this.#run('readiness');
    if (!this.#shuttingDown) return report;
    return { ok: false, failing: [...report.failing, 'shutting-down'].sort() };
  }

  /**
   * Answers `/healthz`, `/readyz` and `/metrics`; returns false (and writes nothing) for other paths,
   * so a service can mount this on its own server.
   */
  handle(request: http.IncomingMessage, response: http.ServerResponse): boolean {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return true;
    }
    const head = request.method === 'HEAD';
    void this.#answer(path, response, head).catch((error: unknown) => {
      this.#logger?.error({ err: error, path }, 'health endpoint failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
    return true;
  }

  /** Start serving; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host = '0.0.0.0'): Promise<BoundAddress> {
    if (this.#server !== undefined) {
      return Promise.reject(
        new HealthServerError('HEALTH_SERVER_LISTENING', 'the health server is already listening; close it first'),
      );
    }
    const server = http.createServer((request, response) => {
      if (!this.handle(request, response)) send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.#server = undefined;
        reject(error);
      };
      server.once('error', onError);
      server.listen({ port, host }, () => {
        server.off('error', onError);
        const address = server.address() as AddressInfo;
        const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve({ host: address.address, port: address.port, url: `http://${urlHost}:${address.port}` });
      });
    });
  }

  /** Stop serving and drop open connections (probes are short; nothing worth waiting for). */
  close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      server.close((error) => (error === undefined ? resolve() : reject(error)));
      server.closeAllConnections();
    });
  }

  #add(kind: Kind, name: string, check: HealthCheck): () => void {
    const checks = this.#checks[kind];
    if (checks.has(name)) {
      throw new HealthServerError(
        'HEALTH_CHECK_EXISTS',
        `a ${kind} check named "${name}" is already registered; give each check its own name`,
      );
    }
    checks.set(name, check);
    return () => {
      if (checks.get(name) === check) checks.delete(name);
    };
  }

  async #answer(path: string, response: http.ServerResponse, head: boolean): Promise<void> {
    if (path === '/metrics') {
      if (this.#metrics === undefined) {
        send(response, 404, 'text/plain; charset=utf-8', 'no metrics\n');
        return;
      }
      const text = await this.#metrics.text();
      send(response, 200, this.#metrics.contentType, head ? '' : text);
      return;
    }
    const report = path === '/healthz' ? await this.liveness() : await this.readiness();
    const body = report.ok ? { status: 'ok' } : { status: 'failing', failing: report.failing };
    send(response, report.ok ? 200 : 503, 'application/json', head ? '' : `${JSON.stringify(body)}\n`);
  }

  async #run(kind: Kind): Promise<HealthReport> {
    const entries = [...this.#checks[kind]];
    const results = await Promise.all(entries.map(async ([name, check]) => ({ name, ...(await this.#runOne(check)) })));
    const failing: string[] = [];
    for (const { name, ok, error } of results) {
      const key = `${kind}/${name}`;
      if (!ok) {
        failing.push(name);
        if (!this.#failing.has(key)) this.#logger?.warn({ check: name, kind, err: error }, 'health check failing');
        this.#failing.add(key);
      } else if (this.#failing.delete(key)) {
        this.#logger?.info({ check: name, kind }, 'health check recovered');
      }
    }
    failing.sort();
    return { ok: failing.length === 0, failing };
  }

  async #runOne(check: HealthCheck): Promise<{ ok: boolean; error?: unknown }> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ ok: boolean; error: unknown }>((resolve) => {
      timer = setTimeout(() => {
        const error = new Error(`check did not finish within ${this.#timeoutMs} ms`);
        controller.abort(error);
        resolve({ ok: false, error });
      }, this.#timeoutMs);
    });
    const run = (async () => {
      try {
        return { ok: (await check(controller.signal)) !== false };
      } catch (error) {
        return { ok: false, error };
      }
    })();
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function send(
  response: http.ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  response.end(body);
}

/** A health server; call {@link HealthServer.listen} to serve. */
export function createHealthServer(options: HealthServerOptions = {}): HealthServer {
  return new HealthServer(options);
}
