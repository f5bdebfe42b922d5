import net, { type AddressInfo } from 'node:net';
import { copyBody, framing, header, Http1Error, readHead, SocketReader, type MessageHead } from './http1.ts';

/** What the proxy does to forwarded requests, so tests can make Vault look down without stopping it. */
export type ProxyFault = 'none' | 'unavailable' | 'reset' | 'drip';

/** Pace of the `drip` fault: one byte of Vault's answer each this many milliseconds. */
export const DRIP_INTERVAL_MS = 1_000;

export interface RequestCounts {
  total: number;
  /** Keyed by `METHOD /v1/path` (method as sent, query string dropped). */
  byRoute: Record<string, number>;
  /**
   * Requests that named a Vault namespace (X-Vault-Namespace), keyed by `<namespace> METHOD /v1/path`:
   * Vault 1.13 community ignores the header, so this is where a test sees which namespace was asked for.
   */
  byNamespace: Record<string, number>;
}

export const proxyAdminPrefix = '/_testenv/';

/** One forwarded request as `recordHeaders` keeps it: every header's name, the chosen headers' values. */
export interface RecordedRequest {
  method: string;
  /** `/v1/...` without the query string. */
  path: string;
  /** Every header name the client sent, lower-cased, in order (values only for the chosen ones). */
  headerNames: string[];
  /** The chosen headers the request carried, by lower-cased name. */
  headers: Record<string, string>;
}

export interface CountingProxyOptions {
  /**
   * Record each forwarded request's header names, and the values of these headers (any case). Headers
   * that carry credentials cannot be chosen: a token must not end up in a test's output.
   */
  recordHeaders?: readonly string[];
}

// Headers whose values are credentials; recordHeaders refuses them.
const CREDENTIAL_HEADERS = new Set(['x-vault-token', 'authorization', 'proxy-authorization', 'cookie']);

/**
 * An HTTP proxy in front of Vault that counts requests by method and path, so tests and benchmarks
 * can assert how many Vault requests a feature makes. It forwards each request byte for byte, with
 * whatever method the client sent (LIST, lower-case, unknown: Vault decides, not the proxy), and one
 * upstream connection per client connection. An upgrade Vault accepts (101, the WebSocket of
 * sys/events/subscribe) is counted once and then relayed both ways until either side closes. With
 * `recordHeaders` it also keeps, per request, every header name and the chosen headers' values
 * (`requests()`), so a test can check what a client sends; credential headers cannot be chosen.
 * Admin routes (not forwarded):
 *   GET    /_testenv/requests   → RequestCounts
 *   DELETE /_testenv/requests   → reset to zero (and forget the recorded requests)
 *   PUT    /_testenv/fault      → body {"fault": "none" | "unavailable" | "reset" | "drip", "pathPrefix"?: "kv/x/"}
 *                                  (drip: Vault's real answer, its status line and headers at once, then
 *                                  its body one byte a second, as a slow or hostile network would)
 *                                  (only requests under /v1/<pathPrefix> are faulted; all when absent;
 *                                  faults of different prefixes coexist, the longest matching one applies;
 *                                  "none" clears that prefix's fault, or all faults without a prefix)
 */
export class CountingProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private counts: RequestCounts = { total: 0, byRoute: {}, byNamespace: {} };
  /**
   * Faults by Vault path prefix ('' = every path). Several at once, so test files running in parallel
   * each fault their own paths without replacing or clearing another file's fault.
   */
  private readonly faults = new Map<string, Exclude<ProxyFault, 'none'>>();
  private readonly target: URL;
  private readonly recordHeaders: ReadonlySet<string> | undefined;
  private recorded: RecordedRequest[] = [];
  url = '';

  constructor(targetAddr: string, options: CountingProxyOptions = {}) {
    this.target = new URL(targetAddr);
    if (options.recordHeaders) {
      const names = options.recordHeaders.map((name) => name.toLowerCase());
      const refused = names.filter((name) => CREDENTIAL_HEADERS.has(name));
      if (refused.length > 0)
        throw new Error(`recordHeaders: ${refused.join(', ')} carry credentials and are never recorded; choose others`);
      this.recordHeaders = new Set(names);
    }
    this.server = net.createServer((socket) => {
      this.track(socket);
      void this.serve(socket)
        .catch(() => socket.destroy())
        .finally(() => socket.destroy());
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** What `recordHeaders` recorded since the start or the last reset, oldest first (empty without it). */
  requests(): readonly RecordedRequest[] {
    return [...this.recorded];
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  /** One client connection: its requests one after another, each answered before the next is read. */
  private async serve(client: net.Socket): Promise<void> {
    const upstream: { current?: { socket: net.Socket; reader: SocketReader } } = {};
    try {
      await this.serveRequests(client, upstream);
    } finally {
      upstream.current?.socket.destroy();
    }
  }

  private async serveRequests(
    client: net.Socket,
    upstream: { current?: { socket: net.Socket; reader: SocketReader } },
  ): Promise<void> {
    const reader = new SocketReader(client);
    for (;;) {
      let request: MessageHead | null;
      try {
        request = await readHead(reader);
      } catch (error) {
        if (error instanceof Http1Error)
          client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (request === null) return;
      const [method = '', target = ''] = request.startLine.split(' ');
      const path = target.split('?')[0] ?? '';
      const body = framing(request, true);
      if (path.startsWith(proxyAdminPrefix)) {
        const chunks: Buffer[] = [];
        await copyBody(reader, body, (chunk) => chunks.push(chunk));
        const [status, answer] = this.admin(
          method,
          path.slice(proxyAdminPrefix.length),
          Buffer.concat(chunks).toString('utf8'),
        );
        reply(client, status, answer);
        continue;
      }
      const route = `${method} ${path}`;
      this.counts.total += 1;
      this.counts.byRoute[route] = (this.counts.byRoute[route] ?? 0) + 1;
      if (this.recordHeaders) this.record(method, path, request, this.recordHeaders);
      const vaultNamespace = header(request, 'x-vault-namespace')?.trim();
      if (vaultNamespace)
        this.counts.byNamespace[`${vaultNamespace} ${route}`] =
          (this.counts.byNamespace[`${vaultNamespace} ${route}`] ?? 0) + 1;
      const fault = this.faultFor(path);
      if (fault === 'reset') return;
      if (fault === 'unavailable') {
        await copyBody(reader, body, () => undefined);
        reply(client, 503, { errors: ['testenv proxy: Vault made unavailable by the test'] });
        continue;
      }
      // A connection Vault closed while idle (its http_idle_timeout) is replaced, not written to.
      if (!upstream.current || upstream.current.socket.destroyed || upstream.current.reader.isEnded) {
        upstream.current?.socket.destroy();
        const socket = net.connect({ host: this.target.hostname, port: Number(this.target.port) });
        this.track(socket);
        upstream.current = { socket, reader: new SocketReader(socket) };
      }
      const { socket: vault, reader: vaultReader } = upstream.current;
      vault.write(request.raw);
      await copyBody(reader, body, (chunk) => vault.write(chunk));
      let response: MessageHead | null;
      // 1xx answers come before the final one, except 101: Vault switched the connection to another
      // protocol (the WebSocket of sys/events/subscribe), whose bytes are then relayed both ways.
      do {
        response = await readHead(vaultReader).catch(() => null);
        if (response === null) {
          reply(client, 502, { errors: ['testenv proxy: Vault closed the connection without answering'] });
          return;
        }
        client.write(response.raw);
        if (/^HTTP\/1\.\d 101/.test(response.startLine)) {
          await relayUpgraded(reader, client, vaultReader, vault);
          return;
        }
      } while (/^HTTP\/1\.\d 1\d\d/.test(response.startLine));
      const status = Number(response.startLine.split(' ')[1]);
      const responseBody =
        method.toUpperCase() === 'HEAD' || status === 204 || status === 304
          ? { kind: 'none' as const }
          : framing(response, false);
      if (fault === 'drip') {
        const chunks: Buffer[] = [];
        await copyBody(vaultReader, responseBody, (chunk) => chunks.push(chunk));
        if (!(await drip(client, Buffer.concat(chunks)))) return;
      } else {
        await copyBody(vaultReader, responseBody, (chunk) => client.write(chunk));
      }
      const closing =
        responseBody.kind === 'close' ||
        /close/i.test(header(response, 'connection') ?? '') ||
        /close/i.test(header(request, 'connection') ?? '');
      if (closing) {
        vault.destroy();
        client.end();
        return;
      }
    }
  }

  private record(method: string, path: string, request: MessageHead, chosen: ReadonlySet<string>): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of request.headers) if (chosen.has(name) && !(name in headers)) headers[name] = value;
    this.recorded.push({ method, path, headerNames: request.headers.map(([name]) => name), headers });
  }

  /** The fault of the longest prefix `path` (`/v1/...`) falls under, if any. */
  private faultFor(path: string): Exclude<ProxyFault, 'none'> | undefined {
    let match: { length: number; fault: Exclude<ProxyFault, 'none'> } | undefined;
    for (const [prefix, fault] of this.faults) {
      if (path.startsWith(`/v1/${prefix}`) && (match === undefined || prefix.length > match.length))
        match = { length: prefix.length, fault };
    }
    return match?.fault;
  }

  private admin(method: string, route: string, body: string): [number, unknown] {
    if (route === 'requests' && method === 'GET') return [200, this.counts];
    if (route === 'requests' && method === 'DELETE') {
      this.counts = { total: 0, byRoute: {}, byNamespace: {} };
      this.recorded = [];
      return [200, this.counts];
    }
    if (route === 'fault' && method === 'PUT') {
      try {
        const { fault, pathPrefix } = JSON.parse(body) as { fault?: unknown; pathPrefix?: unknown };
        if (fault !== 'none' && fault !== 'unavailable' && fault !== 'reset' && fault !== 'drip')
          return [400, { error: 'fault must be "none", "unavailable", "reset" or "drip"' }];
        if (pathPrefix !== undefined && typeof pathPrefix !== 'string')
          return [400, { error: 'pathPrefix must be a Vault path such as "kv/my-test/"' }];
        const prefix = (pathPrefix ?? '').replace(/^\/+/, '');
        // "none" clears the fault of that prefix, or every fault when no prefix is given.
        if (fault !== 'none') this.faults.set(prefix, fault);
        else if (pathPrefix === undefined) this.faults.clear();
        else this.faults.delete(prefix);
        return [200, { fault, pathPrefix: prefix }];
      } catch {
        return [400, { error: 'body must be JSON {"fault": …}' }];
      }
    }
    return [404, { error: `unknown admin route ${method} ${route}` }];
  }
}

/**
 * Relays an upgraded connection (WebSocket) byte for byte until either side ends, then closes both.
 * It counts as the one request that asked for the upgrade, whatever flows over it afterwards.
 */
async function relayUpgraded(
  clientReader: SocketReader,
  client: net.Socket,
  vaultReader: SocketReader,
  vault: net.Socket,
): Promise<void> {
  await Promise.race([
    clientReader.copyToEnd((chunk) => vault.write(chunk)),
    vaultReader.copyToEnd((chunk) => client.write(chunk)),
  ]);
  vault.destroy();
  client.destroy();
}

/** Writes `body` one byte each DRIP_INTERVAL_MS; false when the client hung up first. */
async function drip(client: net.Socket, body: Buffer): Promise<boolean> {
  for (let sent = 0; sent < body.length; sent++) {
    if (client.destroyed) return false;
    client.write(body.subarray(sent, sent + 1));
    await new Promise((resolve) => setTimeout(resolve, DRIP_INTERVAL_MS));
  }
  return !client.destroyed;
}

function reply(socket: net.Socket, status: number, body: unknown): void {
  const text = Buffer.from(JSON.stringify(body), 'utf8');
  const reason =
    { 200: 'OK', 400: 'Bad Request', 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable' }[status] ??
    'Status';
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${text.length}\r\n\r\n`,
  );
  socket.write(text);
}
