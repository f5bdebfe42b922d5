import { createLogger, type CacheableRequest, type VaultResponse } from '@vaultbridge/core';
import { AUTO_AUTH_TOKEN, LeaseCache } from './lease-cache.ts';

const logger = createLogger({ name: 'test', level: 'silent' });

function answer(leaseId: string, leaseDuration: number): VaultResponse<unknown> {
  return {
    request_id: 'r',
    lease_id: leaseId,
    lease_duration: leaseDuration,
    renewable: true,
    data: { username: 'u' },
    auth: null,
    warnings: null,
    wrap_info: null,
  };
}

function request(path: string, token = AUTO_AUTH_TOKEN, method: CacheableRequest['method'] = 'GET'): CacheableRequest {
  return { method, path, query: {}, body: undefined, token };
}

describe('LeaseCache', () => {
  let now = 1_000_000;
  const cache = (): LeaseCache => new LeaseCache({ logger, now: () => now });

  test('keeps leased answers and hands them out with the lease time left', () => {
    const c = cache();
    c.store(request('database/creds/app'), answer('database/creds/app/1', 3600));
    now += 600_000;
    expect(c.lookup(request('database/creds/app'))).toMatchObject({
      lease_id: 'database/creds/app/1',
      lease_duration: 3000,
    });
    expect(c.hits).toBe(1);
  });

  test.each<[string, CacheableRequest, VaultResponse<unknown>]>([
    ['an answer without a lease (KV)', request('secret/data/app'), answer('', 0)],
    ['a lease renewal', request('sys/leases/renew', AUTO_AUTH_TOKEN, 'PUT'), answer('database/creds/app/1', 3600)],
    ['a login', request('auth/kubernetes/login', AUTO_AUTH_TOKEN, 'POST'), answer('', 3600)],
    [
      'a wrapped answer',
      request('database/creds/app'),
      { ...answer('x', 3600), wrap_info: { token: 't', accessor: 'a', ttl: 60, creation_time: '', creation_path: '' } },
    ],
  ])('never keeps %s', (_name, req, response) => {
    const c = cache();
    c.store(req, response);
    expect(c.size).toBe(0);
  });

  test("separates tokens: another token does not get the auto-auth token's lease, nor the other way round", () => {
    const c = cache();
    c.store(request('database/creds/app'), answer('lease-auto', 3600));
    expect(c.lookup(request('database/creds/app', 'hvs.app-token'))).toBeUndefined();
    c.store(request('database/creds/app', 'hvs.app-token'), answer('lease-app', 3600));
    expect(c.lookup(request('database/creds/app', 'hvs.app-token'))?.lease_id).toBe('lease-app');
    expect(c.lookup(request('database/creds/app'))?.lease_id).toBe('lease-auto');
  });

  test('drops an entry about to end instead of handing it out; exports and imports only live ones', () => {
    const c = cache();
    c.store(request('database/creds/a'), answer('a', 3));
    c.store(request('database/creds/b'), answer('b', 3600));
    expect(c.lookup(request('database/creds/a'))).toBeUndefined();
    const other = cache();
    expect(other.import(c.export())).toBe(1);
    expect(other.lookup(request('database/creds/b'))?.lease_id).toBe('b');
  });

  test('cache-clear by request path (with or without /v1/), by lease, or all', () => {
    const c = cache();
    c.store(request('database/creds/a'), answer('a', 3600));
    c.store(request('database/creds/b'), answer('b', 3600));
    c.store(request('aws/creds/x'), answer('x', 3600));
    expect(c.clear('request_path', '/v1/database/creds/a')).toBe(1);
    expect(c.clear('lease', 'x')).toBe(1);
    expect(c.clear('all')).toBe(1);
    expect(c.size).toBe(0);
  });
});
