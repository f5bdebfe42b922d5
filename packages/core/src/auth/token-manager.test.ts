// TokenManager paths that need Vault to misbehave on purpose, against a small local stand-in for the
// token endpoints. Logins, renewals and re-logins against the real Vault are in test/auth.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VaultClient } from '../vault/client.ts';
import type { VaultAuthMethod, VaultLogin } from './login.ts';
import { TokenManager } from './token-manager.ts';

async function standInVault(
  answer: (route: string, token: string | undefined) => number,
): Promise<{ client: VaultClient; routes: string[]; close: () => Promise<void> }> {
  const routes: string[] = [];
  const server = http.createServer((req, res) => {
    const route = `${req.method} ${req.url}`;
    routes.push(route);
    req.resume();
    req.on('end', () => {
      const status = answer(route, req.headers['x-vault-token'] as string | undefined);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { data: {} } : { errors: ['permission denied'] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    client: new VaultClient({ address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxRetries: 0 }),
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Hands out tokens t1, t2… with the given TTL; a fake of the one method TokenManager calls. */
function fakeAuth(ttlSeconds: number): VaultAuthMethod & { logins: number } {
  return {
    identity: 'fake:role',
    logins: 0,
    async login(): Promise<VaultLogin> {
      this.logins += 1;
      return {
        clientToken: `t${this.logins}`,
        accessor: `a${this.logins}`,
        policies: ['p'],
        leaseDurationSeconds: ttlSeconds,
        renewable: true,
        metadata: {},
        entityId: '',
        tokenType: 'service',
      };
    },
  };
}

test('while Vault is down the token is kept and renewal retried; once it expired, a new login replaces it', async () => {
  const vault = await standInVault(() => 503);
  const auth = fakeAuth(1);
  const tokens = new TokenManager({
    client: vault.client,
    auth,
    minTtlSeconds: 0,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 100,
  });
  const errors: string[] = [];
  tokens.on('error', ({ operation }) => errors.push(operation));
  try {
    expect(await tokens.token()).toBe('t1');
    await new Promise((resolve) => setTimeout(resolve, 800));
    // Renewal failed (Vault down) but the token has not expired yet: still handed out, no new login.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(new Set(errors)).toEqual(new Set(['renew']));
    expect(auth.logins).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await tokens.token()).toBe('t2');
    expect(auth.logins).toBe(2);
  } finally {
    await tokens.stop();
    await vault.close();
  }
});

test('a 403 for a token that still passes lookup-self is a policy denial: no re-login', async () => {
  // lookup-self succeeds, everything else is denied.
  const vault = await standInVault((route) => (route === 'GET /v1/auth/token/lookup-self' ? 200 : 403));
  const auth = fakeAuth(3600);
  const tokens = new TokenManager({ client: vault.client, auth });
  try {
    await expect(tokens.client.read('secret/data/x')).rejects.toMatchObject({ code: 'VAULT_PERMISSION_DENIED' });
    await expect(tokens.client.read('secret/data/y')).rejects.toMatchObject({ code: 'VAULT_PERMISSION_DENIED' });
    expect(auth.logins).toBe(1);
    // The second denial came within the trust window of the first check: one lookup-self in all.
    expect(vault.routes.filter((r) => r === 'GET /v1/auth/token/lookup-self')).toHaveLength(1);
  } finally {
    await tokens.stop();
    await vault.close();
  }
});

test('a 403 for a dead token logs in once and retries the request once', async () => {
  // t1 is dead (denied everywhere); t2 works.
  const vault = await standInVault((_route, token) => (token === 't1' ? 403 : 200));
  const auth = fakeAuth(3600);
  const tokens = new TokenManager({ client: vault.client, auth });
  try {
    await Promise.all(Array.from({ length: 10 }, () => tokens.client.read('secret/data/x')));
    expect(auth.logins).toBe(2);
    expect(vault.routes.filter((r) => r === 'GET /v1/auth/token/lookup-self')).toHaveLength(1);
    expect(vault.routes.filter((r) => r === 'GET /v1/secret/data/x')).toHaveLength(20);
  } finally {
    await tokens.stop();
    await vault.close();
  }
});
