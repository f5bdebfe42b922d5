// Kubernetes auth and the TokenManager against the real kube-apiserver and Vault of the test stack.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { KubernetesAuth, TokenManager, TokenManagerCache, VaultAuthError, type TokenInfo } from '../src/auth/index.ts';
import { FileTokenSource, TokenRequestSource } from '../src/kube/index.ts';
import { VaultClient, VaultPermissionError } from '../src/vault/index.ts';

let stack: TestStack;
// A mount of this file's own: other test files log in concurrently, and these tests count logins.
let mount: string;
let loginRoute: string;

beforeAll(async () => {
  stack = sharedStack();
  mount = stack.uniqueName('k8s-auth-test');
  loginRoute = `POST /v1/auth/${mount}/login`;
  await stack.enableKubernetesAuth(mount);
});

async function routeCount(route: string): Promise<number> {
  return (await stack.requestCounts()).byRoute[route] ?? 0;
}

interface Identity {
  namespace: string;
  serviceAccount: string;
  role: string;
  /** A KV v2 folder the role may read. */
  folder: string;
}

/** A namespace, service account, policy and Kubernetes auth role of its own for one test. */
async function identity(roleOptions: { ttl?: string; maxTtl?: string } = {}): Promise<Identity> {
  const namespace = stack.uniqueName('ns');
  const serviceAccount = 'app';
  const role = stack.uniqueName('role');
  const folder = stack.uniqueName('app');
  await stack.createServiceAccount(namespace, serviceAccount);
  await stack.writePolicy(
    role,
    `path "${stack.layout.kvV2Mount}/data/${folder}/*" { capabilities = ["read"] }\npath "${stack.layout.kvV2Mount}/metadata/${folder}/*" { capabilities = ["read"] }`,
  );
  await stack.writeKubernetesRole(role, {
    serviceAccounts: [serviceAccount],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
    mount,
    ...roleOptions,
  });
  await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/${folder}/config`, { data: { greeting: 'hello' } });
  return { namespace, serviceAccount, role, folder };
}

function kubernetesAuth(id: Identity): KubernetesAuth {
  const tokenSource = new TokenRequestSource({
    kubeConfig: stack.kube.config,
    namespace: id.namespace,
    serviceAccount: id.serviceAccount,
    audiences: ['vault'],
  });
  return new KubernetesAuth({ role: id.role, mount, tokenSource });
}

function manager(id: Identity, options: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
  return new TokenManager({
    client: new VaultClient({ address: stack.vaultAddr }),
    auth: kubernetesAuth(id),
    ...options,
  });
}

async function lookupAccessor(accessor: string): Promise<boolean> {
  return stack.vaultAdmin.write('auth/token/lookup-accessor', { accessor }).then(
    () => true,
    () => false,
  );
}

test('logs in with a TokenRequest token and reads what the role allows', async () => {
  const id = await identity();
  const tokens = manager(id);
  try {
    const before = await routeCount(loginRoute);
    const info = await tokens.authenticate();
    expect((await routeCount(loginRoute)) - before).toBe(1);
    expect(info.policies).toContain(id.role);
    expect(info.renewable).toBe(true);
    expect(info.leaseDurationSeconds).toBe(3600);

    const secret = await tokens.client.read<{ data: { greeting: string } }>(
      `${stack.layout.kvV2Mount}/data/${id.folder}/config`,
    );
    expect(secret.data.data.greeting).toBe('hello');
    const self = await tokens.client.read<{ meta: Record<string, string> }>('auth/token/lookup-self');
    expect(self.data.meta).toMatchObject({
      service_account_name: id.serviceAccount,
      service_account_namespace: id.namespace,
      role: id.role,
    });
  } finally {
    await tokens.stop({ revoke: true });
  }
});

test('100 concurrent callers make exactly one login', async () => {
  const id = await identity();
  const tokens = manager(id);
  try {
    let logins = 0;
    tokens.on('login', () => (logins += 1));
    const before = await routeCount(loginRoute);
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.token()));
    expect(new Set(results).size).toBe(1);
    expect(logins).toBe(1);
    expect((await routeCount(loginRoute)) - before).toBe(1);
    // And 100 concurrent reads through the managed client add no login either.
    await Promise.all(
      Array.from({ length: 100 }, () => tokens.client.read(`${stack.layout.kvV2Mount}/data/${id.folder}/config`)),
    );
    expect((await routeCount(loginRoute)) - before).toBe(1);
  } finally {
    await tokens.stop({ revoke: true });
  }
});

test('a 403 is a VaultPermissionError naming the path, and a policy denial causes no new login', async () => {
  const id = await identity();
  const tokens = manager(id);
  try {
    await tokens.authenticate();
    const before = await routeCount(loginRoute);
    const error = await tokens.client
      .read(`${stack.layout.kvV2Mount}/data/not-${id.folder}/x`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultPermissionError);
    expect((error as VaultPermissionError).status).toBe(403);
    expect((error as VaultPermissionError).path).toBe(`secret/data/not-${id.folder}/x`);
    expect((error as Error).message).toContain(`GET secret/data/not-${id.folder}/x`);
    expect((error as Error).message).not.toContain(await tokens.token());
    expect((await routeCount(loginRoute)) - before).toBe(0);
  } finally {
    await tokens.stop({ revoke: true });
  }
});

test('logs in again, once, when Vault revoked the token', async () => {
  const id = await identity();
  const tokens = manager(id);
  try {
    const first = await tokens.authenticate();
    await stack.vaultAdmin.write('auth/token/revoke-accessor', { accessor: first.accessor });
    expect(await lookupAccessor(first.accessor)).toBe(false);

    const before = await routeCount(loginRoute);
    const reads = await Promise.all(
      Array.from({ length: 5 }, () =>
        tokens.client.read<{ data: { greeting: string } }>(`${stack.layout.kvV2Mount}/data/${id.folder}/config`),
      ),
    );
    expect(reads.every((r) => r.data.data.greeting === 'hello')).toBe(true);
    expect((await routeCount(loginRoute)) - before).toBe(1);
    expect(tokens.info?.accessor).not.toBe(first.accessor);
  } finally {
    await tokens.stop({ revoke: true });
  }
});

test('renews the token at a fraction of its TTL', async () => {
  const id = await identity({ ttl: '3s', maxTtl: '1m' });
  const tokens = manager(id, { minTtlSeconds: 1 });
  try {
    const first = await tokens.authenticate();
    expect(first.leaseDurationSeconds).toBe(3);
    const [renewed] = (await once(tokens, 'renewed')) as [TokenInfo];
    expect(renewed.accessor).toBe(first.accessor);
    expect(renewed.leaseDurationSeconds).toBe(3);
    expect(renewed.expiresAt).toBeGreaterThan(first.expiresAt);
    // Past the first TTL the same token still works, because it was renewed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, first.expiresAt + 500 - Date.now())));
    expect(await lookupAccessor(first.accessor)).toBe(true);
    await tokens.client.read(`${stack.layout.kvV2Mount}/data/${id.folder}/config`);
    expect(tokens.info?.accessor).toBe(first.accessor);
  } finally {
    await tokens.stop({ revoke: true });
  }
});

test('logs in again when the max TTL truncates a renewal', async () => {
  const id = await identity({ ttl: '3s', maxTtl: '5s' });
  const tokens = manager(id, { minTtlSeconds: 1 });
  const events: string[] = [];
  tokens.on('login', (info) => events.push(`login ${info.accessor}`));
  tokens.on('renewed', (info) => events.push(`renewed ${info.accessor}`));
  try {
    const first = await tokens.authenticate();
    const second = await new Promise<TokenInfo>((resolve) => tokens.once('login', resolve));
    expect(second.accessor).not.toBe(first.accessor);
    // Whether a renewal fits before the truncation depends on how late the first timer fires on a loaded
    // machine; what must hold is that the first token is only ever renewed and then replaced by a login.
    expect(events[0]).toBe(`login ${first.accessor}`);
    expect(events.at(-1)).toBe(`login ${second.accessor}`);
    expect(new Set(events.slice(1, -1))).toEqual(new Set(events.length > 2 ? [`renewed ${first.accessor}`] : []));
  } finally {
    await tokens.stop({ revoke: true });
  }
});

test('revokes the token on stop when asked', async () => {
  const id = await identity();
  const tokens = manager(id, { revokeOnStop: true });
  const info = await tokens.authenticate();
  expect(await lookupAccessor(info.accessor)).toBe(true);
  await tokens.stop();
  expect(await lookupAccessor(info.accessor)).toBe(false);
  await expect(tokens.token()).rejects.toMatchObject({ code: 'VAULT_TOKEN_MANAGER_STOPPED' });
});

test('a role that does not bind the service account is a VaultAuthError without the JWT', async () => {
  const id = await identity();
  const other = await identity();
  const tokenSource = new TokenRequestSource({
    kubeConfig: stack.kube.config,
    namespace: other.namespace,
    serviceAccount: other.serviceAccount,
    audiences: ['vault'],
  });
  const auth = new KubernetesAuth({ role: id.role, mount, tokenSource });
  const error = await auth.login(new VaultClient({ address: stack.vaultAddr })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VaultAuthError);
  expect((error as VaultAuthError).message).toContain(`role "${id.role}"`);
  expect((error as VaultAuthError).message).not.toContain(await tokenSource.token());
});

test('logs in with a projected token file, and picks up the rotated file', async () => {
  const id = await identity();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vb-sa-'));
  try {
    // The kubelet's layout: token -> ..data/token, with ..data a symlink swapped on rotation.
    const writeGeneration = async (name: string): Promise<string> => {
      const { token } = await stack.requestToken(id.namespace, id.serviceAccount, {
        audiences: ['vault'],
        expirationSeconds: 600,
      });
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, 'token'), token);
      fs.symlinkSync(name, path.join(dir, '..data_tmp'));
      fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      return token;
    };
    const firstJwt = await writeGeneration('gen1');
    fs.symlinkSync('..data/token', path.join(dir, 'token'));
    const source = new FileTokenSource({ path: path.join(dir, 'token') });
    expect(await source.token()).toBe(firstJwt);

    const auth = new KubernetesAuth({ role: id.role, mount, tokenSource: source });
    const login = await auth.login(new VaultClient({ address: stack.vaultAddr }));
    expect(login.policies).toContain(id.role);

    const secondJwt = await writeGeneration('gen2');
    expect(secondJwt).not.toBe(firstJwt);
    expect(await source.token()).toBe(secondJwt);
    expect((await auth.login(new VaultClient({ address: stack.vaultAddr }))).policies).toContain(id.role);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('TokenManagerCache shares one manager, and one login, per identity', async () => {
  const id = await identity();
  const other = await identity();
  const cache = new TokenManagerCache();
  const client = new VaultClient({ address: stack.vaultAddr });
  try {
    const a = cache.get({ client, auth: kubernetesAuth(id) });
    const b = cache.get({ client, auth: kubernetesAuth(id) });
    const c = cache.get({ client, auth: kubernetesAuth(other) });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(cache.size).toBe(2);
    const before = await routeCount(loginRoute);
    await Promise.all([a.token(), b.token(), a.token(), c.token()]);
    expect((await routeCount(loginRoute)) - before).toBe(2);
  } finally {
    await cache.stopAll({ revoke: true });
  }
});

describe('a token kept by an earlier process (restoreToken / persistToken)', () => {
  test('the kept token is adopted when Vault still accepts it: no login, same accessor, renewed', async () => {
    const id = await identity({ ttl: '1h' });
    let kept: string | undefined;
    const first = manager(id, {
      persistToken: async (token) => {
        kept = token;
      },
    });
    const firstInfo = await first.authenticate();
    // A crash: the first manager's token is neither revoked nor renewed again.
    await first.stop({ revoke: false });
    expect(kept).toBeDefined();

    const loginsBefore = await routeCount(loginRoute);
    const restoredEvents: TokenInfo[] = [];
    const second = manager(id, { restoreToken: async () => kept });
    second.on('restored', (info) => restoredEvents.push(info));
    try {
      const info = await second.authenticate();
      expect(info.accessor).toBe(firstInfo.accessor);
      expect(restoredEvents).toHaveLength(1);
      expect(info.leaseDurationSeconds).toBeGreaterThan(3000);
      expect(await routeCount(loginRoute)).toBe(loginsBefore);
      // The token works for reads.
      const secret = await second.client.read<{ data: { greeting: string } }>(
        `${stack.layout.kvV2Mount}/data/${id.folder}/config`,
      );
      expect(secret.data.data.greeting).toBe('hello');
    } finally {
      await second.stop({ revoke: true });
    }
  });

  test('a revoked kept token is not adopted: a new login takes over, and it is the one persisted', async () => {
    const id = await identity({ ttl: '1h' });
    const first = manager(id);
    await first.authenticate();
    const revoked = await first.token();
    await first.stop({ revoke: true });

    const persisted: string[] = [];
    const errors: string[] = [];
    const second = manager(id, {
      restoreToken: async () => revoked,
      persistToken: async (token) => {
        persisted.push(token);
      },
    });
    second.on('error', ({ operation }) => errors.push(operation));
    try {
      const loginsBefore = await routeCount(loginRoute);
      const token = await second.token();
      expect(token).not.toBe(revoked);
      expect(await routeCount(loginRoute)).toBe(loginsBefore + 1);
      expect(errors).toEqual(['restore']);
      expect(persisted).toEqual([token]);
    } finally {
      await second.stop({ revoke: true });
    }
  });
});
