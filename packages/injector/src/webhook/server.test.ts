// Graceful shutdown: a review in flight when close() is called is answered before the server stops,
// and readiness reports 503 meanwhile.
import https from 'node:https';
import pino from 'pino';
import { admissionHandler, type AdmissionHandler } from './admission-adapter.ts';
import { AdmissionWorkerPool } from './admission-pool.ts';
import { InjectorMetrics } from './metrics.ts';
import { WebhookServer } from './server.ts';
import { FileCertificateSource } from './tls/index.ts';
import { postReview, servingCertificateFiles } from '../../test/support/webhook.ts';

const defaults = () => ({ vaultAddress: 'https://vault:8200' });
const handlers: [string, () => { handler: AdmissionHandler; close(): Promise<void> }][] = [
  ['on the event loop', () => ({ handler: admissionHandler(defaults), close: async () => {} })],
  [
    'in a worker thread',
    () => {
      const pool = new AdmissionWorkerPool({ size: 1, logger: pino({ level: 'silent' }) });
      return { handler: pool.handler(defaults), close: () => pool.close() };
    },
  ],
];

it.each(handlers)('drains an in-flight review on close() (%s)', async (_name, makeHandler) => {
  const { handler, close } = makeHandler();
  const files = await servingCertificateFiles('drain', 'w');
  const server = new WebhookServer({
    handler,
    certificates: new FileCertificateSource({ certFile: files.certFile, keyFile: files.keyFile }),
    metrics: new InjectorMetrics(undefined, false),
    logger: pino({ level: 'silent' }),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'drain-1',
      namespace: 'apps',
      object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x' }] } },
    },
  });
  const half = Math.floor(body.length / 2);
  // The review is in flight once the server has parsed its headers: close() leaves that connection
  // open. A fixed wait for it raced the TLS handshake on a loaded machine, and close() then took the
  // not-yet-parsed connection for an idle one (ECONNRESET). The node server is private to WebhookServer.
  const nodeServer = (server as unknown as { server: https.Server }).server;
  const requestArrived = new Promise<void>((resolve) => nodeServer.once('request', () => resolve()));
  let sendRest = (): void => {};

  const answered = new Promise<{ status: number; uid: string }>((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/mutate',
        method: 'POST',
        ca: files.caPem,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            uid: (JSON.parse(text) as { response: { uid: string } }).response.uid,
          }),
        );
      },
    );
    request.on('error', reject);
    request.write(body.slice(0, half));
    // The rest of the body is sent only after close() has been called and has not finished.
    sendRest = () => request.end(body.slice(half));
  });
  await requestArrived;
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  expect(closed).toBe(false);
  sendRest();
  const result = await answered;
  await closing;
  expect(result).toEqual({ status: 200, uid: 'drain-1' });
  expect(closed).toBe(true);
  await close();
});

describe('upstream TLS and telemetry flags', () => {
  let server: WebhookServer;
  let port: number;
  let caPem: string;

  beforeAll(async () => {
    const files = await servingCertificateFiles('flags', 'w');
    caPem = files.caPem;
    server = new WebhookServer({
      handler: admissionHandler(defaults),
      certificates: new FileCertificateSource({ certFile: files.certFile, keyFile: files.keyFile }),
      metrics: new InjectorMetrics(undefined, false),
      logger: pino({ level: 'silent' }),
      // -tls-cipher-suites TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (see tls/ciphers.ts), -telemetry-path /stats
      ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256',
      telemetryPath: '/stats',
    });
    ({ port } = await server.listen(0, '127.0.0.1'));
  });

  afterAll(() => server.close());

  const get = (pathname: string, tls: https.RequestOptions = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = https.get(
        { host: '127.0.0.1', port, path: pathname, ca: caPem, agent: false, ...tls },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
    });

  it('serves the metrics at the telemetry path and at /metrics', async () => {
    for (const pathname of ['/stats', '/metrics']) {
      const { status, body } = await get(pathname);
      expect(status).toBe(200);
      expect(body).toContain('vault_agent_injector_request_queue_length');
    }
  });

  it('offers only the configured TLS 1.2 suites', async () => {
    expect(
      (
        await get('/health/ready', {
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384',
        })
      ).status,
    ).toBe(204);
    await expect(
      get('/health/ready', {
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
      }),
    ).rejects.toThrow(/handshake failure/i);
  });
});

describe('connections an attacker or a slow client holds', () => {
  let server: WebhookServer;
  let port: number;
  let caPem: string;

  beforeEach(async () => {
    const files = await servingCertificateFiles('conn', 'w');
    caPem = files.caPem;
    server = new WebhookServer({
      handler: admissionHandler(defaults),
      certificates: new FileCertificateSource({ certFile: files.certFile, keyFile: files.keyFile }),
      metrics: new InjectorMetrics(undefined, false),
      logger: pino({ level: 'silent' }),
      requestTimeoutMs: 1_000,
    });
    ({ port } = await server.listen(0, '127.0.0.1'));
  });

  afterEach(() => server.close());

  it('drops a request whose body never finishes (Node would keep it 300 s)', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const request = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/mutate',
          method: 'POST',
          ca: caPem,
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': 1000 },
        },
        (response) => {
          response.resume();
          resolve(`status ${response.statusCode}`);
        },
      );
      request.on('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code}`));
      request.write('{"apiVersion":');
      // ...and nothing more: the server's request timeout ends it, with 408 or a closed connection.
    });
    expect(outcome).toMatch(/status 408|error ECONNRESET/);
  });

  it('close() ends a keep-alive connection that goes idle after its review, instead of waiting for the client', async () => {
    const agent = new https.Agent({ keepAlive: true, keepAliveMsecs: 60_000, timeout: 120_000 });
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'ka',
        namespace: 'apps',
        object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } },
      },
    });
    let connected: () => void = () => undefined;
    const isConnected = new Promise<void>((resolve) => (connected = resolve));
    const socketClosed = new Promise<void>((resolve, reject) => {
      const request = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/mutate',
          method: 'POST',
          ca: caPem,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.on('end', () => undefined);
        },
      );
      request.on('socket', (socket) => {
        socket.on('secureConnect', () => connected());
        socket.on('close', () => resolve());
      });
      request.on('error', reject);
      request.write(body.slice(0, 10));
      // close() is called while this review is in flight; the rest of the body follows.
      void isConnected.then(() => setTimeout(() => request.end(body.slice(10)), 100));
    });
    // Only once the request is on the connection (on a loaded machine that may take a while).
    await isConnected;
    await new Promise((r) => setTimeout(r, 30));
    await server.close();
    // The client would have kept it open for two minutes: the server closed it.
    await socketClosed;
    agent.destroy();
  });
});

describe('fairness through the HTTP server', () => {
  it("a review from a quiet namespace is answered before a flooding namespace's backlog", async () => {
    const files = await servingCertificateFiles('fair', 'w');
    const server = new WebhookServer({
      handler: admissionHandler(defaults),
      certificates: new FileCertificateSource({ certFile: files.certFile, keyFile: files.keyFile }),
      metrics: new InjectorMetrics(undefined, false),
      logger: pino({ level: 'silent' }),
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: files.caPem });
    // As costly as a pod may be under the caps: 100 secrets with templates.
    const annotations = {
      'vault.hashicorp.com/agent-inject': 'true',
      'vault.hashicorp.com/role': 'app',
      ...Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [
          `vault.hashicorp.com/agent-inject-template-t${i}`,
          `{{ with secret "kv/data/t${i}" }}${'{{ .Data.data.v }}'.repeat(40)}{{ end }}`,
        ]),
      ),
    };
    const review = (namespace: string, uid: string) =>
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid,
          namespace,
          object: {
            metadata: { name: 'p', annotations },
            spec: {
              containers: [
                {
                  name: 'a',
                  image: 'x',
                  volumeMounts: [{ name: 't', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
                },
              ],
              volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
            },
          },
        },
      });
    const order: string[] = [];
    const post = async (namespace: string, uid: string): Promise<void> => {
      await postReview(port, review(namespace, uid), { agent });
      order.push(uid);
    };
    try {
      const flood = Array.from({ length: 100 }, (_, i) => post('attacker', `a-${i}`));
      let flooded = false;
      void Promise.all(flood).then(() => (flooded = true));
      // Only once part of the flood waits behind the running review does the victim arrive.
      while (server.queue.waiting < 10 && !flooded) await new Promise((resolve) => setTimeout(resolve, 5));
      if (flooded) throw new Error('the flood was answered before any of it queued; nothing to compare');
      const waitingWhenVictimArrived = server.queue.waiting;
      const victim = post('victim', 'victim');
      await Promise.all([...flood, victim]);
      // First come first served would answer it after every review waiting when it arrived;
      // round-robin answers it after the one running (and at most the one whose turn had come).
      const answeredAfterVictim = order.length - 1 - order.indexOf('victim');
      expect(answeredAfterVictim).toBeGreaterThanOrEqual(waitingWhenVictimArrived - 2);
      expect(order).toHaveLength(101);
    } finally {
      agent.destroy();
      await server.close();
    }
  }, 120_000);
});
