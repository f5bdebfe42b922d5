import {
  createLogger,
  type CacheableRequest,
  type VaultAuthInfo,
  type VaultClient,
  type VaultResponse,
} from '@vaultbridge/core';
import { AUTO_AUTH_TOKEN } from './lease-cache.ts';
import { issuesToken, TokenCache, tokenOwner } from './token-cache.ts';

const logger = createLogger({ name: 'test', level: 'silent' });

function issued(token: string, ttl: number, auth: Partial<VaultAuthInfo> = {}): VaultResponse<unknown> {
  return {
    request_id: 'r',
    lease_id: '',
    lease_duration: 0,
    renewable: false,
    data: null,
    warnings: null,
    wrap_info: null,
    auth: {
      client_token: token,
      accessor: `acc-${token}`,
      policies: ['default'],
      token_policies: ['default'],
      metadata: null,
      lease_duration: ttl,
      renewable: true,
      entity_id: '',
      token_type: 'service',
      orphan: false,
      ...auth,
    },
  };
}

function request(path: string, token: string = AUTO_AUTH_TOKEN, body: unknown = { password: 'p' }): CacheableRequest {
  return { method: 'POST', path, query: {}, body, token };
}

/** A stand-in for the one call renewal makes (`auth/token/renew-self` with the kept token). */
function renewer(answer: (token: string | undefined) => Promise<VaultResponse<unknown>>): {
  client: VaultClient;
  renewed: Array<string | undefined>;
} {
  const renewed: Array<string | undefined> = [];
  const client = {
    withToken: (token: string | undefined) => ({
      write: (path: string) => {
        expect(path).toBe('auth/token/renew-self');
        renewed.push(token);
        return answer(token);
      },
    }),
  } as unknown as VaultClient;
  return { client, renewed };
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('issuesToken', () => {
  test.each([
    ['POST', 'auth/userpass/login/app', true],
    ['PUT', 'auth/approle/login', true],
    ['POST', 'auth/token/create', true],
    ['POST', 'auth/token/create-orphan', true],
    ['POST', 'auth/token/create/app-role', true],
    ['GET', 'auth/userpass/login/app', false],
    ['POST', 'auth/token/renew-self', false],
    ['POST', 'database/creds/app', false],
  ])('%s %s: %s', (method, path, expected) => expect(issuesToken(method, path)).toBe(expected));
});

describe('TokenCache', () => {
  let now = 1_000_000;
  const cache = (onEvict?: (owner: string) => void): TokenCache =>
    new TokenCache({ logger, now: () => now, ...(onEvict ? { onEvict } : {}) });

  test('a login is handed back with the TTL left, whoever asks; another body is another login', () => {
    const c = cache();
    expect(c.store(request('auth/userpass/login/app', 'hvs.app-a'), issued('hvs.login', 3600, { orphan: true }))).toBe(
      true,
    );
    now += 600_000;
    expect(c.lookup(request('auth/userpass/login/app', 'hvs.app-b'))?.auth).toMatchObject({
      client_token: 'hvs.login',
      lease_duration: 3000,
    });
    expect(c.lookup(request('auth/userpass/login/app', AUTO_AUTH_TOKEN, { password: 'other' }))).toBeUndefined();
    expect(c.hits).toBe(1);
  });

  test('a created token is kept when its parent is managed here or it is an orphan, and keyed by its parent', () => {
    const c = cache();
    expect(c.store(request('auth/token/create'), issued('hvs.child', 3600))).toBe(true);
    expect(c.store(request('auth/token/create', 'hvs.child'), issued('hvs.grandchild', 3600))).toBe(true);
    expect(c.store(request('auth/token/create', 'hvs.unmanaged'), issued('hvs.x', 3600))).toBe(false);
    expect(
      c.store(request('auth/token/create-orphan', 'hvs.unmanaged'), issued('hvs.orphan', 3600, { orphan: true })),
    ).toBe(true);
    expect(c.lookup(request('auth/token/create', 'hvs.other'))).toBeUndefined();
    expect(c.lookup(request('auth/token/create'))?.auth?.client_token).toBe('hvs.child');
  });

  test.each<[string, VaultResponse<unknown>]>([
    ['a batch token', issued('hvs.b', 3600, { token_type: 'batch' })],
    ['a token with a use limit', issued('hvs.u', 3600, { num_uses: 3 })],
    ['a token without a TTL (root-like)', issued('hvs.r', 0)],
    ['an answer without auth', { ...issued('hvs.n', 3600), auth: null }],
  ])('%s is not kept', (_what, response) => {
    expect(cache().store(request('auth/token/create'), response)).toBe(false);
  });

  test('clear by token or accessor evicts the token, the tokens it created, and (onEvict) their leases', () => {
    const owners: string[] = [];
    const c = cache((owner) => owners.push(owner));
    c.store(request('auth/token/create'), issued('hvs.parent', 3600));
    c.store(request('auth/token/create', 'hvs.parent'), issued('hvs.child', 3600));
    c.store(request('auth/userpass/login/app'), issued('hvs.login', 3600, { orphan: true }));
    expect(c.clear('token_accessor', 'acc-hvs.parent')).toBe(2);
    expect(owners).toEqual([tokenOwner('hvs.parent'), tokenOwner('hvs.child')]);
    expect(c.size).toBe(1);
    expect(c.clear('token', 'hvs.login')).toBe(1);
    // A token never kept here may still own leases (the app's own token): its owner is still evicted.
    expect(c.clear('token', 'hvs.app-own')).toBe(0);
    expect(owners).toContain(tokenOwner('hvs.app-own'));
    expect(owners.join()).not.toContain('hvs.');
  });

  test('clear without children (revoke-orphan) keeps the tokens it created', () => {
    const owners: string[] = [];
    const c = cache((owner) => owners.push(owner));
    c.store(request('auth/token/create'), issued('hvs.parent', 3600));
    c.store(request('auth/token/create', 'hvs.parent'), issued('hvs.child', 3600));
    expect(c.clear('token', 'hvs.parent', { children: false })).toBe(1);
    expect(owners).toEqual([tokenOwner('hvs.parent')]);
    expect(c.lookup(request('auth/token/create', 'hvs.parent'))?.auth?.client_token).toBe('hvs.child');
  });

  test('a token too close to its end is not handed out', () => {
    const c = cache();
    c.store(request('auth/userpass/login/app'), issued('hvs.login', 10, { orphan: true }));
    now += 6_000;
    expect(c.lookup(request('auth/userpass/login/app'))).toBeUndefined();
    expect(c.size).toBe(0);
  });
});

describe('TokenCache renewal', () => {
  test('renews a kept token with that token while Vault extends it', async () => {
    const { client, renewed } = renewer(async () => issued('', 3600));
    const c = new TokenCache({ logger, renewWith: client });
    try {
      c.store(request('auth/userpass/login/app'), issued('hvs.login', 0.03, { orphan: true }));
      await until(() => renewed.length === 1);
      expect(renewed).toEqual(['hvs.login']);
      await until(() => (c.lookup(request('auth/userpass/login/app'))?.auth?.lease_duration ?? 0) > 3000);
    } finally {
      await c.stop();
    }
  });

  test('evicts at expiry once Vault stops extending it (max TTL), and when renewal fails', async () => {
    const evicted: string[] = [];
    const { client } = renewer(async (token) => {
      if (token === 'hvs.revoked') throw new Error('permission denied');
      return issued('', 0.02);
    });
    const c = new TokenCache({ logger, renewWith: client, onEvict: (owner) => evicted.push(owner) });
    try {
      c.store(request('auth/userpass/login/a'), issued('hvs.capped', 0.03, { orphan: true }));
      c.store(request('auth/userpass/login/b'), issued('hvs.revoked', 0.03, { orphan: true }));
      await until(() => evicted.length === 2);
      expect(evicted.sort()).toEqual([tokenOwner('hvs.capped'), tokenOwner('hvs.revoked')].sort());
      expect(c.size).toBe(0);
    } finally {
      await c.stop();
    }
  });
});
