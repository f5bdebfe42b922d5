import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AdmissionAnswer, AdmissionHandler } from './admission-adapter.ts';
import { FairQueue, QueueFullError, namespaceHint } from './fair-queue.ts';
import type { InjectorMetrics } from './metrics.ts';
import type { CertificateSource, ServingCertificate } from './tls/index.ts';

export interface WebhookServerOptions {
  handler: AdmissionHandler;
  certificates: CertificateSource;
  metrics: InjectorMetrics;
  logger: Logger;
  /** TLS minimum version, upstream's -tls-min-version (default TLS 1.2). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (upstream's -tls-cipher-suites, translated); empty: Node's defaults */
  ciphers?: string;
  /** another path the metrics are served at (upstream's -telemetry-path); /metrics always is */
  telemetryPath?: string;
  maxBodyBytes?: number;
  /** reviews computed at once (the worker threads, or 1 on the event loop); the rest wait per namespace */
  concurrency?: number;
  /** reviews one namespace may have waiting before it gets 429 */
  maxQueuedPerNamespace?: number;
  /** the whole request, body included, must arrive within this (Node's default is 300 s) */
  requestTimeoutMs?: number;
}

/** Accepts exactly JSON (upstream requires application/json; a charset parameter is allowed). */
function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/** The path of a request URL without its query string and one trailing slash, lower-cased. */
function normalizePath(url: string): string {
  const path = (url.split('?')[0] ?? '/').toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

type BodyFailure = 'too-large' | 'encoding';

/**
 * The request body, at most `limit` bytes. Over the limit (declared or sent) the rest is read and
 * dropped before answering, so a client still sending gets its 413 instead of a reset connection.
 * The API server sends reviews uncompressed; a Content-Encoding other than identity is refused.
 */
function readBody(req: IncomingMessage, limit: number, done: (failure: BodyFailure | null, body: Buffer) => void): void {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  let failure: BodyFailure | null = encoding === 'identity' ? null : 'encoding';
  if (failure === null && Number(req.headers['content-length'] ?? 0) > limit) failure = 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    if (failure !== null) return;
    size += chunk.length;
    if (size > limit) {
      failure = 'too-large';
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  // 'aborted' or a socket error: the client is gone, there is no one to answer.
  req.on('error', () => undefined);
  req.on('end', () => done(failure, failure === null ? Buffer.concat(chunks, size) : Buffer.alloc(0)));
}

/**
 * The webhook's HTTPS surface: POST /mutate, GET /health/ready, GET /health/live, GET /metrics, on node:http alone
 * (express with its body parser and iconv-lite cost ~11 MiB of idle RSS, issue 14). It stays thin: parsing
 * and mutation happen in the pure admission layer; the certificate is swapped in place when the
 * source rotates it, so rotation never drops the listener.
 */
export class WebhookServer {
  private readonly options: Required<WebhookServerOptions>;
  private server: https.Server | undefined;
  private draining = false;
  /** reviews wait here per namespace, served round-robin (fair-queue.ts) */
  readonly queue: FairQueue;

  constructor(options: WebhookServerOptions) {
    this.options = { minVersion: 'TLSv1.2', ciphers: '', telemetryPath: '/metrics', maxBodyBytes: 4 * 1024 * 1024, concurrency: 1, maxQueuedPerNamespace: 256, requestTimeoutMs: 10_000, ...options };
    this.queue = new FairQueue({ concurrency: this.options.concurrency, maxQueuedPerKey: this.options.maxQueuedPerNamespace });
  }

  /** Answers one request; never throws (a failure becomes a 500). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      this.route(req, res);
    } catch (error) {
      this.options.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) this.sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  };

  /**
   * Every response goes out here. Draining: the response closes its connection, so no keep-alive
   * connection outlives the drain. Reviews are answered once and never cached, so there is no ETag.
   */
  private send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
    if (this.draining) headers = { ...headers, Connection: 'close' };
    if (body === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(res, status, { ...headers, 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify(value));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    // As express routed before: the query string (the API server adds ?timeout=10s), case and one
    // trailing slash do not matter; HEAD is answered like GET.
    const path = normalizePath(req.url ?? '/');
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    // Ready: a certificate is served and the API server trusts it (the CA is in the webhook
    // configuration), so reviews sent here succeed. Live: the process answers; it never depends on the
    // API server, so a CA that cannot be published makes the pod unready, not restarted in a loop.
    if (method === 'GET' && path === '/health/ready') {
      const { certificates } = this.options;
      this.send(res, this.draining || !certificates.current() || !certificates.trusted() ? 503 : 204, {});
    } else if (method === 'GET' && path === '/health/live') {
      this.send(res, 204, {});
    } else if (method === 'GET' && (path === '/metrics' || path === normalizePath(this.options.telemetryPath))) {
      const { registry } = this.options.metrics;
      registry.metrics().then(
        (text) => this.send(res, 200, { 'Content-Type': registry.contentType }, text),
        (error: unknown) => {
          this.options.logger.error({ err: error }, 'metrics failed');
          this.sendJson(res, 500, { error: 'internal error' });
        },
      );
    } else if (method === 'POST' && path === '/mutate') {
      this.mutate(req, res);
    } else {
      this.sendJson(res, 404, { error: `no ${req.method ?? ''} ${path} here` });
    }
  }

  private mutate(req: IncomingMessage, res: ServerResponse): void {
    if (!isJson(req.headers['content-type'])) {
      req.resume();
      this.sendJson(res, 400, { error: `Invalid content-type ${JSON.stringify(req.headers['content-type'] ?? '')}: expected application/json` });
      return;
    }
    readBody(req, this.options.maxBodyBytes, (failure, body) => {
      if (failure) {
        if (failure === 'too-large') this.sendJson(res, 413, { error: `Request body is larger than ${this.options.maxBodyBytes} bytes` });
        else this.sendJson(res, 415, { error: `Unsupported Content-Encoding ${JSON.stringify(req.headers['content-encoding'])}: send the review uncompressed` });
      } else if (body.length === 0) {
        this.sendJson(res, 400, { error: 'Empty request body' });
      } else {
        this.review(body, res);
      }
    });
  }

  private review(body: Buffer, res: ServerResponse): void {
    const { handler, metrics, logger } = this.options;
    const started = performance.now();
    metrics.queueLength.inc();
    const finish = (): void => {
      metrics.queueLength.dec();
      metrics.processingDuration.observe(performance.now() - started);
    };
    const respond = (answer: AdmissionAnswer): void => {
      finish();
      if (answer.status === 400) {
        this.sendJson(res, 400, { error: answer.error });
        return;
      }
      if (answer.outcome === 'injected') {
        metrics.injections.inc({ namespace: metrics.namespaceLabel(answer.namespace), injection_type: answer.injectionType ?? 'init_and_sidecar' });
      } else if (answer.outcome === 'denied') {
        metrics.failedInjections.inc({ namespace: metrics.namespaceLabel(answer.namespace) });
      }
      logger.debug({ namespace: answer.namespace, outcome: answer.outcome }, 'admission review answered');
      this.send(res, 200, { 'Content-Type': 'application/json' }, answer.payload);
    };
    const fail = (error: unknown): void => {
      finish();
      logger.error({ err: error }, 'admission review failed');
      this.sendJson(res, 500, { error: 'internal error while processing the admission review' });
    };
    // The caller gave up (the API server's timeout closed the connection): drop the review unrun.
    let gone = false;
    res.on('close', () => (gone = !res.writableFinished));
    this.queue.run(namespaceHint(body), () => handler(body.toString('utf8')), () => gone).then(
      (answer) => {
        if (answer === undefined) finish();
        else respond(answer);
      },
      (error: unknown) => {
        if (error instanceof QueueFullError) {
          finish();
          this.sendJson(res, 429, { error: error.message }, { 'Retry-After': '1' });
          return;
        }
        fail(error);
      },
    );
  }

  /** Waits for a certificate, then listens. Resolves with the bound address. */
  async listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    const { certificates, logger, minVersion, ciphers } = this.options;
    const initial = await certificates.start();
    const tlsOptions = { minVersion, ...(ciphers === '' ? {} : { ciphers }) };
    const { requestTimeoutMs } = this.options;
    const server = https.createServer({
      cert: initial.certPem,
      key: initial.keyPem,
      ...tlsOptions,
      // The API server sends a review in one go; a body that trickles in only holds a connection. Node
      // checks these deadlines every connectionsCheckingInterval (30 s by default), so that is shortened.
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 5_000),
      connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
    }, this.handle);
    server.keepAliveTimeout = 65_000;
    certificates.on('changed', (next: ServingCertificate) => {
      server.setSecureContext({ cert: next.certPem, key: next.keyPem, ...tlsOptions });
      logger.info('serving certificate reloaded');
    });
    certificates.on('error', (error: Error) => logger.warn({ err: error }, 'certificate source error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  /** Graceful stop: readiness fails first, in-flight reviews finish, idle connections close. */
  async close(): Promise<void> {
    this.draining = true;
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() only closes the connections idle at this moment. A keep-alive connection whose
      // review finishes later goes idle and would stay open until the client drops it (the API server
      // keeps them ~90 s), holding the process up. Responses sent while draining say `Connection:
      // close`, and connections that went idle meanwhile are closed every 50 ms until none is left.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      try {
        await closed;
      } finally {
        clearInterval(sweep);
      }
    }
    await this.options.certificates.stop();
  }
}
