import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { isConflict, KubeApiError } from '@vaultbridge/core';
import { describeKubeError } from './kube-errors.ts';
import { KubeJson, MAX_SOCKETS } from './kube-json.ts';

describe('KubeJson keep-alive pool', () => {
  let server: http.Server;
  const connections = new Set<unknown>();
  let mostConnections = 0;
  let waiting: (() => void)[] = [];

  beforeAll(async () => {
    // A stand-in API server that holds each answer until the test releases it, so all writes are in flight.
    server = http.createServer((request, response) => {
      if (request.url?.endsWith('/conflict')) {
        // As the API server answers a stale resourceVersion; its message names the object we sent.
        response.writeHead(409, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({ kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' }),
        );
        return;
      }
      waiting.push(() => {
        response.setHeader('Content-Type', 'application/json');
        response.end(JSON.stringify({ path: request.url }));
      });
    });
    server.on('connection', (socket) => {
      connections.add(socket);
      mostConnections = Math.max(mostConnections, connections.size);
      socket.on('close', () => connections.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function kubeConfigFor(): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
      ],
      users: [{ name: 'u', token: 'not-a-real-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kubeConfig;
  }

  test("an API error is core's KubeApiError with the status and reason, not the sent object nor the server's message", async () => {
    const api = KubeJson.fromKubeConfig(kubeConfigFor());
    const error = await api.replaceSecret('ns', 'conflict', { data: { password: 'c2VjcmV0LXZhbHVl' } }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    api.close();
    expect(error).toBeInstanceOf(KubeApiError);
    expect([(error as KubeApiError).status, (error as KubeApiError).reason]).toEqual([409, 'Conflict']);
    expect(isConflict(error)).toBe(true);
    expect(describeKubeError(error)).toBe('Kubernetes API answered 409 (Conflict)');
    expect(String((error as Error).message)).not.toContain('c2VjcmV0LXZhbHVl');
    expect(String((error as Error).message)).not.toContain('has been modified');
  });

  test('requests beyond the socket bound wait for a socket and all get their own answer', async () => {
    const api = KubeJson.fromKubeConfig(kubeConfigFor());
    const count = MAX_SOCKETS + 20;
    let done = false;
    const all = Promise.all(
      Array.from({ length: count }, (_, i) => api.request<{ path: string }>('GET', `/api/v1/namespaces/n${i}`)),
    ).finally(() => (done = true));
    // Hold every answer until the pool is full, so the bound is reached whatever the machine's load; then a
    // request beyond it must wait for a freed socket.
    while (waiting.length < MAX_SOCKETS) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(waiting).toHaveLength(MAX_SOCKETS);
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const release = waiting;
      waiting = [];
      for (const answer of release) answer();
    }
    const answers = await all;
    expect(answers.map((answer) => answer.path)).toEqual(
      Array.from({ length: count }, (_, i) => `/api/v1/namespaces/n${i}`),
    );
    expect(mostConnections).toBe(MAX_SOCKETS);
    api.close();
  });
});
