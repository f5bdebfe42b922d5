import { jest } from '@jest/globals';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfigError } from './errors.ts';
import {
  CA_REREAD_MS,
  inClusterCredentials,
  KubeApiError,
  KubeHttp,
  KubeWatchIdleError,
  serviceAccountDir,
} from './kube-http.ts';

function serviceAccountRoot(token: string, ca = 'ca-pem'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-http-'));
  fs.mkdirSync(path.join(root, serviceAccountDir), { recursive: true });
  fs.writeFileSync(path.join(root, serviceAccountDir, 'token'), token);
  fs.writeFileSync(path.join(root, serviceAccountDir, 'ca.crt'), ca);
  return root;
}

describe('inClusterCredentials (as client-node loadFromCluster)', () => {
  test('builds the server URL from the service env: https, http for 80/8080/8001, IPv6 in brackets', async () => {
    const root = serviceAccountRoot('t');
    const server = async (host: string, port: string) =>
      (await inClusterCredentials({ root, env: { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } })())
        .server;
    expect(await server('10.0.0.1', '443')).toBe('https://10.0.0.1:443');
    expect(await server('10.0.0.1', '8080')).toBe('http://10.0.0.1:8080');
    expect(await server('fd00::1', '443')).toBe('https://[fd00::1]:443');
  });

  test('sends the token file as a bearer token and re-reads it once it is more than 60 s old', async () => {
    const root = serviceAccountRoot('first\n');
    let now = 1_000_000;
    const credentials = inClusterCredentials({
      root,
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      now: () => now,
    });
    expect((await credentials()).headers.Authorization).toBe('Bearer first');
    fs.writeFileSync(path.join(root, serviceAccountDir, 'token'), 'second');
    now += 60_000;
    expect((await credentials()).headers.Authorization).toBe('Bearer first');
    now += 1;
    expect((await credentials()).headers.Authorization).toBe('Bearer second');
  });

  test('re-reads the CA once it is more than CA_REREAD_MS old; the same token and CA give the same answer', async () => {
    const root = serviceAccountRoot('token', 'first-ca');
    let now = 1_000_000;
    const credentials = inClusterCredentials({
      root,
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      now: () => now,
    });
    const caFile = path.join(root, serviceAccountDir, 'ca.crt');
    const first = await credentials();
    expect(String(first.ca)).toBe('first-ca');
    // Unchanged: one object, so KubeHttp finds its agent by identity.
    expect(await credentials()).toBe(first);
    // Rewritten with the same bytes (kubelet rewrites projected volumes): still the same Buffer and answer.
    fs.writeFileSync(caFile, 'first-ca');
    now += CA_REREAD_MS + 1;
    expect(await credentials()).toBe(first);
    // Rotated: used from the first call CA_REREAD_MS after the last read, not before.
    fs.writeFileSync(caFile, 'rotated-ca');
    now += CA_REREAD_MS;
    expect(String((await credentials()).ca)).toBe('first-ca');
    now += 1;
    const rotated = await credentials();
    expect(String(rotated.ca)).toBe('rotated-ca');
    expect(rotated.headers.Authorization).toBe('Bearer token');
    // A CA file that went away fails the call (never the stale copy), and is read again once it is back.
    fs.rmSync(caFile);
    now += CA_REREAD_MS + 1;
    await expect(credentials()).rejects.toThrow(`cannot read the service account CA ${caFile}: ENOENT`);
    fs.writeFileSync(caFile, 'third-ca');
    expect(String((await credentials()).ca)).toBe('third-ca');
  });

  test('calls made while a file is being read wait for that one read', async () => {
    const root = serviceAccountRoot('token', 'ca');
    let now = 1_000_000;
    const credentials = inClusterCredentials({
      root,
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      now: () => now,
    });
    const reads = jest.spyOn(fs.promises, 'readFile');
    try {
      // A hundred calls at once (a sync's reconciles in flight): one read of each file.
      const answers = await Promise.all(Array.from({ length: 100 }, () => credentials()));
      expect(reads).toHaveBeenCalledTimes(2);
      expect(new Set(answers).size).toBe(1);
      // Both copies gone stale: again one read each, however many calls wait.
      now += 60_001;
      await Promise.all(Array.from({ length: 100 }, () => credentials()));
      expect(reads).toHaveBeenCalledTimes(4);
    } finally {
      reads.mockRestore();
    }
  });

  test('outside a pod, or without the token file, the error names what is missing', async () => {
    expect(() => inClusterCredentials({ env: {} })).toThrow(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-http-'));
    const credentials = inClusterCredentials({
      root,
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
    });
    await expect(credentials()).rejects.toThrow(KubeConfigError);
    await expect(credentials()).rejects.toThrow(`${root}${serviceAccountDir}/token: ENOENT`);
  });
});

describe('KubeHttp requests', () => {
  let server: http.Server;
  let port: number;
  const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ method: request.method, url: request.url, headers: request.headers, body });
        if (request.url === '/hang') return; // never answers
        if (request.url === '/missing') {
          response.writeHead(404, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'secrets "x" not found' }));
          return;
        }
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = (deadlineMs = 30_000) =>
    new KubeHttp(async () => ({ server: `http://127.0.0.1:${port}`, headers: { Authorization: 'Bearer tok' } }), {
      deadlineMs,
    });

  test('sends JSON with the credentials and the patch content type', async () => {
    const kube = client();
    const answer = await kube.request<{ ok: boolean }>('PATCH', '/apis/x', {
      body: [{ op: 'add', path: '/a', value: 1 }],
      contentType: 'application/json-patch+json',
    });
    kube.close();
    expect(answer).toEqual({ ok: true });
    const last = seen.at(-1)!;
    expect([last.method, last.url, last.headers.authorization, last.headers['content-type'], last.body]).toEqual([
      'PATCH',
      '/apis/x',
      'Bearer tok',
      'application/json-patch+json',
      '[{"op":"add","path":"/a","value":1}]',
    ]);
  });

  test('a non-2xx answer is a KubeApiError with the status and reason, without the token', async () => {
    const kube = client();
    const error = await kube.get('/missing').catch((e: unknown) => e);
    kube.close();
    expect(error).toBeInstanceOf(KubeApiError);
    expect([(error as KubeApiError).status, (error as KubeApiError).reason]).toEqual([404, 'NotFound']);
    expect(String((error as Error).message)).not.toContain('tok');
  });

  test('a call the API server never answers fails at the deadline, naming it', async () => {
    const kube = client(300);
    await expect(kube.get('/hang')).rejects.toThrow('GET /hang: no answer from the API server within 300 ms');
    kube.close();
  });
});

// The transport of a watch; the informer's behaviour on the real API server is in the operator's tests.
describe('KubeHttp watches', () => {
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      if (request.url?.startsWith('/gone')) {
        response.writeHead(410, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }));
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      response.flushHeaders();
      if (request.url?.startsWith('/silent')) return; // headers, then nothing
      const events = `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n${JSON.stringify({
        type: 'BOOKMARK',
        object: { metadata: { resourceVersion: '7' } },
      })}\n`;
      // Cut mid-line, the rest 50 ms later: the client must join them.
      response.write(events.slice(0, 30));
      setTimeout(() => response.end(events.slice(30)), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = () => new KubeHttp(async () => ({ server: `http://127.0.0.1:${port}`, headers: {} }));

  test('delivers each event as its line completes and resolves when the server ends the body', async () => {
    const kube = client();
    const types: string[] = [];
    await kube.watch('/events?watch=1', (event) => types.push(event.type), { idleTimeoutMs: 5000 });
    kube.close();
    expect(types).toEqual(['ADDED', 'BOOKMARK']);
  });

  test('a refused watch (410) is a KubeApiError with its status and reason', async () => {
    const kube = client();
    const error = await kube.watch('/gone?watch=1', () => undefined, { idleTimeoutMs: 5000 }).catch((e: unknown) => e);
    kube.close();
    expect(error).toBeInstanceOf(KubeApiError);
    expect([(error as KubeApiError).status, (error as KubeApiError).reason]).toEqual([410, 'Expired']);
  });

  test('no byte for the idle timeout ends the watch with KubeWatchIdleError; an abort ends it at once', async () => {
    const kube = client();
    await expect(kube.watch('/silent?watch=1', () => undefined, { idleTimeoutMs: 300 })).rejects.toBeInstanceOf(
      KubeWatchIdleError,
    );
    const controller = new AbortController();
    const watching = kube.watch('/silent?watch=1', () => undefined, {
      idleTimeoutMs: 60_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stopped')), 100);
    await expect(watching).rejects.toThrow('stopped');
    kube.close();
  });

  test('what the event handler throws ends the watch with that error', async () => {
    const kube = client();
    const failing = kube.watch(
      '/events?watch=1',
      () => {
        throw new Error('handler says no');
      },
      { idleTimeoutMs: 5000 },
    );
    await expect(failing).rejects.toThrow('handler says no');
    kube.close();
  });
});
