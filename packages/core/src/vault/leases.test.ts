// LeaseManager paths that need Vault to misbehave on purpose, against a small local stand-in for
// Vault's lease endpoints. The happy paths run against the real Vault in test/dynamic.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VaultClient } from './client.ts';
import type { DynamicSecret } from './dynamic.ts';
import { LeaseManager, LeaseTrackingError, type LeaseManagerEvents } from './leases.ts';

interface StandIn {
  client: VaultClient;
  routes: string[];
  close: () => Promise<void>;
}

async function standInVault(status: (route: string) => number): Promise<StandIn> {
  const routes: string[] = [];
  const server = http.createServer((req, res) => {
    const route = `${req.method} ${req.url}`;
    routes.push(route);
    req.resume();
    req.on('end', () => {
      const code = status(route);
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify(
          code === 200
            ? { lease_id: 'x', lease_duration: 1, renewable: true, data: null }
            : { errors: ['stand-in says no'] },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new VaultClient({
    address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 't',
    maxRetries: 0,
  });
  return {
    client,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function secret(leaseId: string, seconds: number, renewable: boolean): DynamicSecret<{ n: string }> {
  const now = Date.now();
  return {
    path: 'database/creds/app',
    leaseId,
    leaseDurationSeconds: seconds,
    renewable,
    data: { n: leaseId },
    warnings: [],
    requestId: '',
    obtainedAt: now,
    expiresAt: now + seconds * 1000,
  };
}

function record(leases: LeaseManager): string[] {
  const events: string[] = [];
  const names: Array<keyof LeaseManagerEvents> = ['renewed', 'reissued', 'expired', 'revoked', 'error'];
  for (const name of names) {
    leases.on(name, ((event: { leaseId: string; operation?: string }) =>
      events.push(`${name} ${event.leaseId}${event.operation ? ` ${event.operation}` : ''}`)) as never);
  }
  return events;
}

test('Vault down: renewal retries until the lease ends, then expired, then a re-issue once possible', async () => {
  const vault = await standInVault(() => 503);
  const leases = new LeaseManager({
    client: vault.client,
    minTtlSeconds: 0,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 100,
  });
  const events = record(leases);
  let reissueCalls = 0;
  try {
    const reissued = new Promise((resolve) => leases.once('reissued', resolve));
    // 4 s, not 1: on a loaded CI machine a 1 s lease could end before the first renewal was due.
    leases.track(secret('lease-1', 4, true), {
      reissue: async () => {
        reissueCalls += 1;
        if (reissueCalls === 1) throw new Error('still down');
        return secret('lease-2', 60, true);
      },
    });
    await reissued;
    const renewAttempts = vault.routes.filter((r) => r === 'PUT /v1/sys/leases/renew').length;
    expect(renewAttempts).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e === 'error lease-1 renew')).toHaveLength(renewAttempts);
    // The first re-issue fails: the lease is reported expired (once), and the re-issue retried.
    expect(events.filter((e) => e === 'expired lease-1')).toHaveLength(1);
    expect(events.filter((e) => e === 'error lease-1 reissue')).toHaveLength(1);
    expect(events.at(-1)).toBe('reissued lease-2');
    expect(reissueCalls).toBe(2);
    expect(leases.get('lease-1')?.leaseId).toBe('lease-2');
  } finally {
    await leases.stop();
    await vault.close();
  }
});

test('a lease that is not renewable is re-issued at the renewal point, without a renew call', async () => {
  const vault = await standInVault(() => 200);
  const leases = new LeaseManager({ client: vault.client, renewFraction: 0.5, jitterFraction: 0 });
  const events = record(leases);
  try {
    const started = Date.now();
    const reissued = new Promise((resolve) => leases.once('reissued', resolve));
    const tracked = leases.track(secret('static-1', 1, false), {
      reissue: async () => secret('static-2', 60, false),
      id: 'cert',
    });
    await reissued;
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(tracked.current.data.n).toBe('static-2');
    expect(events).toEqual(['reissued static-2']);
    expect(vault.routes).toEqual([]);
  } finally {
    await leases.stop();
    await vault.close();
  }
});

test('a refused renewal (lease revoked elsewhere) goes straight to a re-issue', async () => {
  const vault = await standInVault((route) => (route === 'PUT /v1/sys/leases/renew' ? 400 : 200));
  const leases = new LeaseManager({ client: vault.client, minTtlSeconds: 0, jitterFraction: 0, renewFraction: 0.1 });
  const events = record(leases);
  try {
    const reissued = new Promise((resolve) => leases.once('reissued', resolve));
    leases.track(secret('gone-1', 2, true), { reissue: async () => secret('gone-2', 60, true) });
    await reissued;
    expect(events).toEqual(['error gone-1 renew', 'reissued gone-2']);
    expect(vault.routes).toEqual(['PUT /v1/sys/leases/renew']);
  } finally {
    await leases.stop();
    await vault.close();
  }
});

test('track() refuses a secret without a lease id unless given an id, and after stop()', async () => {
  const vault = await standInVault(() => 200);
  const leases = new LeaseManager({ client: vault.client });
  try {
    expect(() => leases.track(secret('', 10, false), { reissue: async () => secret('', 10, false) })).toThrow(
      LeaseTrackingError,
    );
    expect(leases.track(secret('', 0, false), { reissue: async () => secret('', 0, false), id: 'static' }).id).toBe(
      'static',
    );
    await leases.stop();
    expect(() => leases.track(secret('l', 10, true), { reissue: async () => secret('l', 10, true) })).toThrow(
      /after stop/,
    );
  } finally {
    await vault.close();
  }
});
