import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
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

/**
 * The webhook's HTTPS surface: POST /mutate, GET /health/ready, GET /health/live, GET /metrics. It stays thin: parsing
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
    this.options = {
      minVersion: 'TLSv1.2',
      ciphers: '',
      telemetryPath: '/metrics',
      maxBodyBytes: 4 * 1024 * 1024,
      concurrency: 1,
      maxQueuedPerNamespace: 256,
      requestTimeoutMs: 10_000,
      ...options,
    };
    this.queue = new FairQueue({
      concurrency: this.options.concurrency,
      maxQueuedPerKey: this.options.maxQueuedPerNamespace,
    });
  }

  app(): express.Express {
    const { handler, metrics, logger, maxBodyBytes } = this.options;
    const app = express();
    app.disable('x-powered-by');
    app.use((_req: Request, res: Response, next: NextFunction) => {
      // Draining: the response closes its connection, so no keep-alive connection outlives the drain.
      const writeHead = res.writeHead;
      res.writeHead = ((...args: Parameters<typeof writeHead>) => {
        if (this.draining) res.setHeader('Connection', 'close');
        return writeHead.apply(res, args);
      }) as typeof writeHead;
      next();
    });
    // Reviews are answered once and never cached: hashing every response for an ETag is wasted CPU.
    app.set('etag', false);
    // Ready: a certificate is served and the API server trusts it (the CA is in the webhook
    // configuration), so reviews sent here succeed. Live: the process answers; it never depends on the
    // API server, so a CA that cannot be published makes the pod unready, not restarted in a loop.
    app.get('/health/ready', (_req, res) => {
      const { certificates } = this.options;
      res.status(this.draining || !certificates.current() || !certificates.trusted() ? 503 : 204).end();
    });
    app.get('/health/live', (_req, res) => {
      res.status(204).end();
    });
    const serveMetrics = async (_req: Request, res: Response): Promise<void> => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    };
    app.get('/metrics', serveMetrics);
    if (this.options.telemetryPath !== '/metrics') app.get(this.options.telemetryPath, serveMetrics);
    app.post(
      '/mutate',
      (req: Request, res: Response, next: NextFunction) => {
        if (!isJson(req.headers['content-type'])) {
          res.status(400).json({
            error: `Invalid content-type ${JSON.stringify(req.headers['content-type'] ?? '')}: expected application/json`,
          });
          return;
        }
        next();
      },
      express.raw({ type: () => true, limit: maxBodyBytes }),
      (req: Request, res: Response) => {
        const body = req.body as Buffer;
        if (!Buffer.isBuffer(body) || body.length === 0) {
          res.status(400).json({ error: 'Empty request body' });
          return;
        }
        const started = performance.now();
        metrics.queueLength.inc();
        const finish = (): void => {
          metrics.queueLength.dec();
          metrics.processingDuration.observe(performance.now() - started);
        };
        const respond = (answer: AdmissionAnswer): void => {
          finish();
          if (answer.status === 400) {
            res.status(400).json({ error: answer.error });
            return;
          }
          if (answer.outcome === 'injected') {
            metrics.injections.inc({
              namespace: metrics.namespaceLabel(answer.namespace),
              injection_type: answer.injectionType ?? 'init_and_sidecar',
            });
          } else if (answer.outcome === 'denied') {
            metrics.failedInjections.inc({ namespace: metrics.namespaceLabel(answer.namespace) });
          }
          logger.debug({ namespace: answer.namespace, outcome: answer.outcome }, 'admission review answered');
          res.writeHead(200, {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(answer.payload),
          });
          res.end(answer.payload);
        };
        const fail = (error: unknown): void => {
          finish();
          logger.error({ err: error }, 'admission review failed');
          res.status(500).json({ error: 'internal error while processing the admission review' });
        };
        // The caller gave up (the API server's timeout closed the connection): drop the review unrun.
        let gone = false;
        res.on('close', () => (gone = !res.writableFinished));
        this.queue
          .run(
            namespaceHint(body),
            () => handler(body.toString('utf8')),
            () => gone,
          )
          .then(
            (answer) => {
              if (answer === undefined) finish();
              else respond(answer);
            },
            (error: unknown) => {
              if (error instanceof QueueFullError) {
                finish();
                res.status(429).set('Retry-After', '1').json({ error: error.message });
                return;
              }
              fail(error);
            },
          );
      },
    );
    // Body-parser errors (413 for over 4 MiB) keep their status; nothing here may crash the process.
    app.use(
      (
        error: { status?: number; type?: string; message?: string },
        _req: Request,
        res: Response,
        _next: NextFunction,
      ) => {
        const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
        const message =
          error.type === 'entity.too.large' ? `Request body is larger than ${maxBodyBytes} bytes` : 'Bad request';
        if (status === 500) logger.error({ err: error }, 'request failed');
        res.status(status).json({ error: message });
      },
    );
    return app;
  }

  /** Waits for a certificate, then listens. Resolves with the bound address. */
  async listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    const { certificates, logger, minVersion, ciphers } = this.options;
    const initial = await certificates.start();
    const tlsOptions = { minVersion, ...(ciphers === '' ? {} : { ciphers }) };
    const { requestTimeoutMs } = this.options;
    const server = https.createServer(
      {
        cert: initial.certPem,
        key: initial.keyPem,
        ...tlsOptions,
        // The API server sends a review in one go; a body that trickles in only holds a connection. Node
        // checks these deadlines every connectionsCheckingInterval (30 s by default), so that is shortened.
        requestTimeout: requestTimeoutMs,
        headersTimeout: Math.min(requestTimeoutMs, 5_000),
        connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
      },
      this.app(),
    );
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
