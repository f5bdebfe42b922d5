// Database credentials from the real Vault and PostgreSQL of the test stack: they log in, the
// LeaseManager renews and re-issues them, and revocation removes the role from PostgreSQL.
import pg from 'pg';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  LeaseManager,
  readDynamicSecret,
  renewLease,
  revokeLease,
  VaultClient,
  VaultError,
  type DynamicSecret,
  type LeaseManagerEvents,
} from '../src/vault/index.ts';

interface DbCreds {
  username: string;
  password: string;
}

let stack: TestStack;
let client: VaultClient;
let admin: pg.Client;

beforeAll(async () => {
  stack = sharedStack();
  client = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
  const { host, port, user, password, database } = stack.postgres;
  admin = new pg.Client({ host, port, user, password, database });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
});

async function roleExists(name: string): Promise<boolean> {
  return (await admin.query('select 1 from pg_roles where rolname = $1', [name])).rowCount === 1;
}

async function validUntil(name: string): Promise<Date> {
  const result = await admin.query<{ rolvaliduntil: Date }>('select rolvaliduntil from pg_roles where rolname = $1', [
    name,
  ]);
  return result.rows[0]!.rolvaliduntil;
}

async function currentUser(creds: DbCreds): Promise<string> {
  const { host, port, database } = stack.postgres;
  const session = new pg.Client({ host, port, database, user: creds.username, password: creds.password });
  await session.connect();
  try {
    return (await session.query<{ current_user: string }>('select current_user')).rows[0]!.current_user;
  } finally {
    await session.end();
  }
}

/** A database role of its own with short TTLs, so renewal and re-issue happen within seconds. */
async function shortRole(ttl: string, maxTtl: string): Promise<string> {
  const role = stack.uniqueName('short');
  await stack.writeDatabaseRole(role, { defaultTtl: ttl, maxTtl });
  return role;
}

function nextEvent<K extends keyof LeaseManagerEvents>(
  leases: LeaseManager,
  name: K,
): Promise<LeaseManagerEvents[K][0]> {
  return new Promise((resolve) => leases.once(name, ((event: LeaseManagerEvents[K][0]) => resolve(event)) as never));
}

test('database credentials come with a lease and really log in to PostgreSQL', async () => {
  const creds = await readDynamicSecret<DbCreds>(
    client,
    `${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}`,
  );
  expect(creds.leaseId).toMatch(new RegExp(`^${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}/`));
  expect(creds.leaseDurationSeconds).toBe(3600);
  expect(creds.renewable).toBe(true);
  expect(creds.expiresAt - creds.obtainedAt).toBe(3_600_000);
  expect(await currentUser(creds.data)).toBe(creds.data.username);
  await client.request('PUT', 'sys/leases/revoke', { body: { lease_id: creds.leaseId } });
});

test('LeaseManager renews the lease (PostgreSQL VALID UNTIL moves) and revoke drops the role', async () => {
  const role = await shortRole('4s', '1m');
  const path = `${stack.layout.databaseMount}/creds/${role}`;
  const leases = new LeaseManager({ client, minTtlSeconds: 1 });
  try {
    const creds = await readDynamicSecret<DbCreds>(client, path);
    const username = creds.data.username;
    const firstValidUntil = await validUntil(username);
    const tracked = leases.track(creds, { reissue: () => readDynamicSecret<DbCreds>(client, path) });

    const renewed = await nextEvent(leases, 'renewed');
    expect(renewed).toMatchObject({ id: creds.leaseId, leaseId: creds.leaseId, leaseDurationSeconds: 4 });
    expect(tracked.current.leaseId).toBe(creds.leaseId);
    expect((await validUntil(username)).getTime()).toBeGreaterThan(firstValidUntil.getTime());
    // Past the first TTL the credentials still work because the lease was renewed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, creds.expiresAt + 500 - Date.now())));
    expect(await currentUser(creds.data)).toBe(username);

    const revoked = nextEvent(leases, 'revoked');
    await leases.revoke(tracked.id);
    expect(await revoked).toEqual({ id: creds.leaseId, leaseId: creds.leaseId });
    expect(await roleExists(username)).toBe(false);
    expect(leases.size).toBe(0);
  } finally {
    await leases.stop({ revoke: true });
  }
});

test('LeaseManager re-issues when the max TTL truncates a renewal', async () => {
  const role = await shortRole('3s', '5s');
  const path = `${stack.layout.databaseMount}/creds/${role}`;
  const leases = new LeaseManager({ client, minTtlSeconds: 1, revokeOnReissue: true });
  try {
    const creds = await readDynamicSecret<DbCreds>(client, path);
    const tracked = leases.track(creds, { reissue: () => readDynamicSecret<DbCreds>(client, path), id: 'db' });
    const reissued = await nextEvent(leases, 'reissued');
    expect(reissued.id).toBe('db');
    expect(reissued.previousLeaseId).toBe(creds.leaseId);
    expect(reissued.leaseId).not.toBe(creds.leaseId);
    const fresh = tracked.current as DynamicSecret<DbCreds>;
    expect(fresh.leaseId).toBe(reissued.leaseId);
    expect(fresh.data.username).not.toBe(creds.data.username);
    expect(await currentUser(fresh.data)).toBe(fresh.data.username);
    // revokeOnReissue: the replaced credentials are gone from PostgreSQL.
    await nextEvent(leases, 'revoked');
    expect(await roleExists(creds.data.username)).toBe(false);
  } finally {
    await leases.stop({ revoke: true });
  }
});

test('stop({ revoke: true }) revokes every tracked lease', async () => {
  const path = `${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}`;
  const leases = new LeaseManager({ client });
  const a = await readDynamicSecret<DbCreds>(client, path);
  const b = await readDynamicSecret<DbCreds>(client, path);
  leases.track(a, { reissue: () => readDynamicSecret(client, path) });
  leases.track(b, { reissue: () => readDynamicSecret(client, path) });
  const revoked: string[] = [];
  leases.on('revoked', ({ leaseId }) => revoked.push(leaseId));
  await leases.stop({ revoke: true });
  expect(revoked.sort()).toEqual([a.leaseId, b.leaseId].sort());
  expect(await roleExists(a.data.username)).toBe(false);
  expect(await roleExists(b.data.username)).toBe(false);
});

test('renewLease extends the real lease (PostgreSQL VALID UNTIL moves), the max TTL caps it, and revokeLease drops the role', async () => {
  const role = await shortRole('1h', '90s');
  const creds = await readDynamicSecret<DbCreds>(client, `${stack.layout.databaseMount}/creds/${role}`);
  const before = await validUntil(creds.data.username);
  const renewed = await renewLease(client, creds.leaseId, { incrementSeconds: 30 });
  expect(renewed).toMatchObject({ leaseId: creds.leaseId, leaseDurationSeconds: 30, renewable: true });
  expect(renewed.requestId).toMatch(/^[0-9a-f-]{36}$/);
  // Vault set the role's VALID UNTIL to the renewed end, well before the hour the lease started with.
  expect((await validUntil(creds.data.username)).getTime()).toBeLessThan(before.getTime());
  // More than the max TTL left is asked: Vault grants only what is left, and says so.
  const capped = await renewLease(client, creds.leaseId, { incrementSeconds: 3600 });
  expect(capped.leaseDurationSeconds).toBeGreaterThan(0);
  expect(capped.leaseDurationSeconds).toBeLessThanOrEqual(90);

  await revokeLease(client, creds.leaseId);
  expect(await roleExists(creds.data.username)).toBe(false);
  const refused = await renewLease(client, creds.leaseId).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(VaultError);
  expect((refused as VaultError).path).toBe('sys/leases/renew');
});
