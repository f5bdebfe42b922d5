import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to forwarded requests, so tests can make Vault look down without stopping it. */
export type ProxyFault = 'none' | 'unavailable' | 'reset';

export interface RequestCounts {
  total: number;
  /** Keyed by `METHOD /v1/path` (query string dropped). */
  byRoute: Record<string, number>;
}

export const proxyAdminPrefix = '/_testenv/';

/**
 * An HTTP proxy in front of Vault that counts requests by method and path, so tests and benchmarks
 * can assert how many Vault requests a feature makes. Admin routes (not forwarded):
 *   GET    /_testenv/requests   → RequestCounts
 *   DELETE /_testenv/requests   → reset to zero
 *   PUT    /_testenv/fault      → body {"fault": "none" | "unavailable" | "reset", "pathPrefix"?: "kv/x/"}
 *                                  (only requests under /v1/<pathPrefix> are faulted; all when absent)
 */
export class CountingProxy {
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private counts: RequestCounts = { total: 0, byRoute: {} };
  private fault: ProxyFault = 'none';
  /** Only requests under this Vault path are faulted, so concurrent tests are not disturbed. */
  private faultPathPrefix = '';
  private readonly target: URL;
  url = '';

  constructor(targetAddr: string) {
    this.target = new URL(targetAddr);
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    if (url.startsWith(proxyAdminPrefix)) {
      this.handleAdmin(req, res, url.slice(proxyAdminPrefix.length));
      return;
    }
    const route = `${req.method ?? 'GET'} ${url.split('?')[0]}`;
    this.counts.total += 1;
    this.counts.byRoute[route] = (this.counts.byRoute[route] ?? 0) + 1;
    const faulted = this.fault !== 'none' && (url.split('?')[0] ?? '').startsWith(`/v1/${this.faultPathPrefix}`);
    if (faulted && this.fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (faulted && this.fault === 'unavailable') {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: ['testenv proxy: Vault made unavailable by the test'] }));
      return;
    }
    const upstream = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: url, headers: req.headers, agent: this.agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [`testenv proxy: ${error.message}`] }));
    });
    req.pipe(upstream);
  }

  private handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, route: string): void {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (route === 'requests' && req.method === 'GET') return reply(200, this.counts);
    if (route === 'requests' && req.method === 'DELETE') {
      this.counts = { total: 0, byRoute: {} };
      return reply(200, this.counts);
    }
    if (route === 'fault' && req.method === 'PUT') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        try {
          const { fault, pathPrefix } = JSON.parse(body) as { fault?: unknown; pathPrefix?: unknown };
          if (fault !== 'none' && fault !== 'unavailable' && fault !== 'reset') {
            reply(400, { error: 'fault must be "none", "unavailable" or "reset"' });
            return;
          }
          if (pathPrefix !== undefined && typeof pathPrefix !== 'string') {
            reply(400, { error: 'pathPrefix must be a Vault path such as "kv/my-test/"' });
            return;
          }
          this.fault = fault;
          this.faultPathPrefix = (pathPrefix ?? '').replace(/^\/+/, '');
          reply(200, { fault, pathPrefix: this.faultPathPrefix });
        } catch {
          reply(400, { error: 'body must be JSON {"fault": …}' });
        }
      });
      return;
    }
    reply(404, { error: `unknown admin route ${req.method} ${route}` });
  }
}
