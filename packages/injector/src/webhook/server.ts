import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { InjectorMetrics } from './metrics.ts';
import type { CertificateSource, ServingCertificate } from './tls/index.ts';

export type InjectionType = 'init_only' | 'sidecar_only' | 'init_and_sidecar';

/** What the pure admission layer decided for one review. */
export interface AdmissionResult {
  /** The AdmissionReview to answer with (same apiVersion and uid as the request). */
  review: object;
  namespace: string;
  outcome: 'injected' | 'skipped' | 'denied';
  injectionType?: InjectionType;
}

/** Thrown by the admission layer for a review that is not a valid request (answered with 400). */
export interface BadReviewError extends Error {
  httpStatus: 400;
}

export type AdmissionHandler = (review: unknown) => AdmissionResult;

export interface WebhookServerOptions {
  handler: AdmissionHandler;
  certificates: CertificateSource;
  metrics: InjectorMetrics;
  logger: Logger;
  /** TLS minimum version, upstream's -tls-min-version (default TLS 1.2). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxBodyBytes?: number;
}

function isBadReview(error: unknown): error is BadReviewError {
  return error instanceof Error && (error as { httpStatus?: unknown }).httpStatus === 400;
}

/** Accepts exactly JSON (upstream requires application/json; a charset parameter is allowed). */
function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * The webhook's HTTPS surface: POST /mutate, GET /health/ready, GET /metrics. It stays thin: parsing
 * and mutation happen in the pure admission layer; the certificate is swapped in place when the
 * source rotates it, so rotation never drops the listener.
 */
export class WebhookServer {
  private readonly options: Required<WebhookServerOptions>;
  private server: https.Server | undefined;
  private draining = false;

  constructor(options: WebhookServerOptions) {
    this.options = { minVersion: 'TLSv1.2', maxBodyBytes: 4 * 1024 * 1024, ...options };
  }

  app(): express.Express {
    const { handler, metrics, logger, maxBodyBytes } = this.options;
    const app = express();
    app.disable('x-powered-by');
    // Reviews are answered once and never cached: hashing every response for an ETag is wasted CPU.
    app.set('etag', false);
    app.get('/health/ready', (_req, res) => {
      res.status(this.draining || !this.options.certificates.current() ? 503 : 204).end();
    });
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
    app.post('/mutate', (req: Request, res: Response, next: NextFunction) => {
      if (!isJson(req.headers['content-type'])) {
        res.status(400).json({ error: `Invalid content-type ${JSON.stringify(req.headers['content-type'] ?? '')}: expected application/json` });
        return;
      }
      next();
    }, express.raw({ type: () => true, limit: maxBodyBytes }), (req: Request, res: Response) => {
      const started = performance.now();
      metrics.queueLength.inc();
      try {
        const body = req.body as Buffer;
        if (!Buffer.isBuffer(body) || body.length === 0) {
          res.status(400).json({ error: 'Empty request body' });
          return;
        }
        let review: unknown;
        try {
          review = JSON.parse(body.toString('utf8'));
        } catch {
          res.status(400).json({ error: 'Request body is not valid JSON' });
          return;
        }
        let result: AdmissionResult;
        try {
          result = handler(review);
        } catch (error) {
          if (isBadReview(error)) {
            res.status(400).json({ error: error.message });
            return;
          }
          throw error;
        }
        if (result.outcome === 'injected') {
          metrics.injections.inc({ namespace: result.namespace, injection_type: result.injectionType ?? 'init_and_sidecar' });
        } else if (result.outcome === 'denied') {
          metrics.failedInjections.inc({ namespace: result.namespace });
        }
        logger.debug({ namespace: result.namespace, outcome: result.outcome }, 'admission review answered');
        const payload = JSON.stringify(result.review);
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
        res.end(payload);
      } catch (error) {
        logger.error({ err: error }, 'admission review failed');
        res.status(500).json({ error: 'internal error while processing the admission review' });
      } finally {
        metrics.queueLength.dec();
        metrics.processingDuration.observe(performance.now() - started);
      }
    });
    // Body-parser errors (413 for over 4 MiB) keep their status; nothing here may crash the process.
    app.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
      const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
      const message = error.type === 'entity.too.large' ? `Request body is larger than ${maxBodyBytes} bytes` : 'Bad request';
      if (status === 500) logger.error({ err: error }, 'request failed');
      res.status(status).json({ error: message });
    });
    return app;
  }

  /** Waits for a certificate, then listens. Resolves with the bound address. */
  async listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    const { certificates, logger, minVersion } = this.options;
    const initial = await certificates.start();
    const server = https.createServer({ cert: initial.certPem, key: initial.keyPem, minVersion }, this.app());
    server.keepAliveTimeout = 65_000;
    certificates.on('changed', (next: ServingCertificate) => {
      server.setSecureContext({ cert: next.certPem, key: next.keyPem, minVersion });
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
      server.closeIdleConnections();
      await closed;
    }
    await this.options.certificates.stop();
  }
}
