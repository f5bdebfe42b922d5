// The sidecar's localhost listeners, as Vault Agent has them:
// - `POST /agent/v1/quit` (agent-enable-quit): the app, or a Job's last step, tells the sidecar to stop,
//   so a Job with a classic sidecar completes;
// - `GET /agent/v1/metrics` (agent-metrics-listener-port): Prometheus text of what the agent did.
// - the cache listener (agent-cache-enable): `/v1/…` proxied to Vault through the lease cache, and
//   `/agent/v1/cache-clear` (cache/proxy.ts).
// All bind to 127.0.0.1 only: nothing outside the pod reaches them. Those that name one address (quit
// is on the cache listener's port, as in Vault Agent) share one server. The cache listener serves HTTPS
// when its config has `tls` (agent-configmap's `listener "tcp"` with tls_cert_file/tls_key_file).
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureVersion } from 'node:tls';
import type { Logger, MetricsRegistry } from '@vaultbridge/core';
import type { AgentConfig, TlsMinVersion } from './contract/index.ts';

/** What the metrics route serves: AgentMetrics's registry (agent-metrics.ts), built only when a listener serves it. */
export interface MetricsSource {
  readonly registry: Pick<MetricsRegistry, 'text' | 'contentType'>;
}

export interface AgentListenersOptions {
  logger: Logger;
  /** Required when the configuration has a metrics listener. */
  metrics?: MetricsSource;
  /** Called once for the first quit request; the agent then shuts down as on SIGTERM. */
  onQuit: () => void;
  /** Serves the cache listener's requests (config.cache); absent: no cache listener. */
  cache?: (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>;
  /** The file the agent opens for a configured absolute path (AgentPaths.hostPath); default the path. */
  hostPath?: (absolute: string) => string;
}

const NODE_TLS_VERSION: Readonly<Record<TlsMinVersion, SecureVersion>> = {
  tls10: 'TLSv1',
  tls11: 'TLSv1.1',
  tls12: 'TLSv1.2',
  tls13: 'TLSv1.3',
};

/** The cache listener's certificate and key, read once at start; an unreadable file is named. */
async function listenerTls(
  tls: NonNullable<NonNullable<AgentConfig['cache']>['tls']>,
  hostPath: (absolute: string) => string,
): Promise<https.ServerOptions> {
  const read = async (file: string, field: string): Promise<Buffer> => {
    try {
      return await fs.readFile(hostPath(file));
    } catch (error) {
      throw new Error(
        `cache listener: cannot read ${field} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        { cause: error },
      );
    }
  };
  return {
    cert: await read(tls.certFile, 'tls_cert_file'),
    key: await read(tls.keyFile, 'tls_key_file'),
    minVersion: NODE_TLS_VERSION[tls.minVersion ?? 'tls12'],
  };
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

export async function startAgentListeners(
  config: AgentConfig,
  options: AgentListenersOptions,
): Promise<AgentListeners> {
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
    const field = serves.cache
      ? 'cache.listenerAddress'
      : serves.quit
        ? 'quit.listenerAddress'
        : 'metrics.listenerAddress';
    const { host, port } = parseAddress(address, field);
    const tls = serves.cache && config.cache?.tls !== undefined ? config.cache.tls : undefined;
    const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
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
      const metrics = options.metrics;
      if (
        serves.metrics &&
        metrics &&
        (url.pathname === '/agent/v1/metrics' || url.pathname === '/metrics') &&
        request.method === 'GET'
      ) {
        metrics.registry.text().then(
          (text) => response.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
          (error: unknown) => {
            options.logger.warn({ err: error }, 'cannot render metrics');
            response.writeHead(500).end();
          },
        );
        return;
      }
      if (
        serves.cache &&
        options.cache &&
        (url.pathname.startsWith('/v1/') || url.pathname === '/agent/v1/cache-clear')
      ) {
        options.cache(request, response).catch((error: unknown) => {
          options.logger.warn({ err: error }, 'cache listener: request failed');
          if (!response.headersSent) response.writeHead(500).end();
        });
        return;
      }
      response.writeHead(404).end();
    };
    let server: http.Server;
    try {
      if (tls === undefined) server = http.createServer(handler);
      else {
        const material = await listenerTls(tls, options.hostPath ?? ((p) => p));
        try {
          server = https.createServer(material, handler);
        } catch (error) {
          throw new Error(
            `cache listener: tls_cert_file ${tls.certFile} and tls_key_file ${tls.keyFile} are not a usable PEM certificate and key (${(error as Error).message})`,
            { cause: error },
          );
        }
      }
    } catch (error) {
      await Promise.all(servers.map(async (started) => new Promise<void>((resolve) => started.close(() => resolve()))));
      throw error;
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    servers.push(server);
    const bound = server.address() as AddressInfo;
    if (serves.quit) addresses.quit = bound;
    if (serves.metrics) addresses.metrics = bound;
    if (serves.cache) addresses.cache = bound;
    options.logger.info(
      {
        address: `${bound.address}:${bound.port}`,
        quit: serves.quit,
        metrics: serves.metrics,
        cache: serves.cache,
        tls: tls !== undefined,
      },
      'agent listener started',
    );
  }
  return {
    addresses,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
