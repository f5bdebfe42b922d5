// The sidecar's localhost listeners, as Vault Agent has them:
// - `POST /agent/v1/quit` (agent-enable-quit): the app, or a Job's last step, tells the sidecar to stop,
//   so a Job with a classic sidecar completes;
// - `GET /agent/v1/metrics` (agent-metrics-listener-port): Prometheus text of what the agent did.
// - the cache listener (agent-cache-enable): `/v1/…` proxied to Vault through the lease cache, and
//   `/agent/v1/cache-clear` (cache/proxy.ts).
// All bind to 127.0.0.1 only: nothing outside the pod reaches them. Those that name one address (quit
// is on the cache listener's port, as in Vault Agent) share one server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetricsRegistry, type Logger, type MetricsRegistry } from '@vaultbridge/core';
import type { AgentConfig } from './contract/index.ts';

/** What the agent counts; names are ours (`vaultbridge_agent_*`), labels carry secret names, never values. */
export class AgentMetrics {
  readonly registry: MetricsRegistry;
  readonly renders;
  readonly leaseEvents;
  readonly tokenLogins;
  readonly ready;

  constructor() {
    this.registry = createMetricsRegistry({ defaultMetrics: { prefix: 'vaultbridge_agent_' } });
    this.renders = this.registry.counter({ name: 'vaultbridge_agent_renders_total', help: 'Secret renders by secret name and result (created, changed, unchanged, error).', labelNames: ['secret', 'result'] as const });
    this.leaseEvents = this.registry.counter({ name: 'vaultbridge_agent_lease_events_total', help: 'Lease renewals, re-issues, expiries and errors.', labelNames: ['event'] as const });
    this.tokenLogins = this.registry.counter({ name: 'vaultbridge_agent_token_logins_total', help: 'Vault logins (the first, and new tokens after a refused renewal or the max TTL).' });
    this.ready = this.registry.gauge({ name: 'vaultbridge_agent_ready', help: '1 once every secret has been rendered once.' });
  }
}

export interface AgentListenersOptions {
  logger: Logger;
  metrics: AgentMetrics;
  /** Called once for the first quit request; the agent then shuts down as on SIGTERM. */
  onQuit: () => void;
  /** Serves the cache listener's requests (config.cache); absent: no cache listener. */
  cache?: (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>;
}

export interface AgentListeners {
  /** Bound addresses by purpose, e.g. for tests and the start-up log. */
  readonly addresses: { quit?: AddressInfo; metrics?: AddressInfo; cache?: AddressInfo };
  close(): Promise<void>;
}

function parseAddress(address: string, field: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(address);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 0 || port > 65_535) throw new Error(`${field}: "${address}" is not host:port`);
  return { host: match[1]!, port };
}

export async function startAgentListeners(config: AgentConfig, options: AgentListenersOptions): Promise<AgentListeners> {
  const routes = new Map<string, { quit: boolean; metrics: boolean; cache: boolean }>();
  const add = (address: string, serves: 'quit' | 'metrics' | 'cache'): void => {
    const existing = routes.get(address) ?? { quit: false, metrics: false, cache: false };
    routes.set(address, { ...existing, [serves]: true });
  };
  if (config.quit) add(config.quit.listenerAddress, 'quit');
  if (config.metrics) add(config.metrics.listenerAddress, 'metrics');
  if (config.cache && options.cache) add(config.cache.listenerAddress, 'cache');
  let quitting = false;
  const servers: http.Server[] = [];
  const addresses: { quit?: AddressInfo; metrics?: AddressInfo; cache?: AddressInfo } = {};
  for (const [address, serves] of routes) {
    const field = serves.cache ? 'cache.listenerAddress' : serves.quit ? 'quit.listenerAddress' : 'metrics.listenerAddress';
    const { host, port } = parseAddress(address, field);
    const server = http.createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (serves.quit && url.pathname === '/agent/v1/quit') {
        if (request.method !== 'POST') {
          response.writeHead(405, { Allow: 'POST' }).end();
          return;
        }
        response.writeHead(200).end();
        if (!quitting) {
          quitting = true;
          options.logger.info('quit requested on /agent/v1/quit; shutting down');
          options.onQuit();
        }
        return;
      }
      if (serves.metrics && (url.pathname === '/agent/v1/metrics' || url.pathname === '/metrics') && request.method === 'GET') {
        options.metrics.registry.text().then(
          (text) => response.writeHead(200, { 'Content-Type': options.metrics.registry.contentType }).end(text),
          (error: unknown) => {
            options.logger.warn({ err: error }, 'cannot render metrics');
            response.writeHead(500).end();
          },
        );
        return;
      }
      if (serves.cache && options.cache && (url.pathname.startsWith('/v1/') || url.pathname === '/agent/v1/cache-clear')) {
        options.cache(request, response).catch((error: unknown) => {
          options.logger.warn({ err: error }, 'cache listener: request failed');
          if (!response.headersSent) response.writeHead(500).end();
        });
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    servers.push(server);
    const bound = server.address() as AddressInfo;
    if (serves.quit) addresses.quit = bound;
    if (serves.metrics) addresses.metrics = bound;
    if (serves.cache) addresses.cache = bound;
    options.logger.info({ address: `${bound.address}:${bound.port}`, quit: serves.quit, metrics: serves.metrics, cache: serves.cache }, 'agent listener started');
  }
  return {
    addresses,
    async close() {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })));
    },
  };
}
