import { createHealthServer, HealthServerError, type HealthServer } from './health.ts';
import { createMetricsRegistry } from './metrics.ts';

describe('HealthServer', () => {
  let server: HealthServer;
  let url: string;
  let vaultReachable = true;

  beforeEach(async () => {
    vaultReachable = true;
    const metrics = createMetricsRegistry();
    metrics.counter({ name: 'vaultbridge_renders_total', help: 'Renders.' }).inc();
    server = createHealthServer({ metrics, checkTimeoutMs: 200 });
    server.addReadinessCheck('vault', () => vaultReachable);
    server.addReadinessCheck('informers', async () => undefined);
    ({ url } = await server.listen(0, '127.0.0.1'));
  });

  afterEach(() => server.close());

  test('/healthz answers 200 while alive', async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  test('/readyz answers 200 when every check passes', async () => {
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(200);
  });

  test('/readyz answers 503 with the names of the failing checks', async () => {
    vaultReachable = false;
    server.addReadinessCheck('throws', () => {
      throw new Error('token hvs.secret must not be served');
    });
    server.addReadinessCheck('hangs', () => new Promise<boolean>(() => undefined));
    const response = await fetch(`${url}/readyz?verbose`);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ status: 'failing', failing: ['hangs', 'throws', 'vault'] });
    expect(body).not.toContain('hvs');
  });

  test('a failing liveness check fails /healthz; removing it heals', async () => {
    const remove = server.addLivenessCheck('event-loop', () => false);
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    remove();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  test('/readyz fails once shutting down', async () => {
    server.setShuttingDown();
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'failing', failing: ['shutting-down'] });
  });

  test('/metrics serves the registry in the Prometheus text format', async () => {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toContain('vaultbridge_renders_total 1');
  });

  test('HEAD is answered without a body; other methods and paths are refused', async () => {
    const head = await fetch(`${url}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${url}/readyz`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });

  test('refuses two checks of the same name and a second listen', async () => {
    expect(() => server.addReadinessCheck('vault', () => true)).toThrow(HealthServerError);
    await expect(server.listen(0, '127.0.0.1')).rejects.toMatchObject({ code: 'HEALTH_SERVER_LISTENING' });
  });
});

test('/metrics is 404 without a registry, and close is idempotent', async () => {
  const server = createHealthServer();
  const { url, port } = await server.listen(0, '127.0.0.1');
  expect(port).toBeGreaterThan(0);
  expect((await fetch(`${url}/metrics`)).status).toBe(404);
  await server.close();
  await server.close();
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
});
