// KV v1 and v2 against the real Vault of the test stack: version detection, pinned, deleted and
// destroyed versions, metadata, and the number of detection requests.
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  KvSecrets,
  VaultClient,
  VaultConfigError,
  VaultNotFoundError,
  VaultSecretVersionError,
} from '../src/vault/index.ts';

let stack: TestStack;
let client: VaultClient;

beforeAll(() => {
  stack = sharedStack();
  client = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
});

async function routeCount(route: string): Promise<number> {
  return (await stack.requestCounts()).byRoute[route] ?? 0;
}

describe('KV v2', () => {
  test('detects the mount and version once, then reads current and pinned versions with metadata', async () => {
    const kv = new KvSecrets(new VaultClient({ address: stack.vaultAddr, token: stack.rootToken }));
    const name = stack.uniqueName('kv2');
    const path = `${stack.layout.kvV2Mount}/${name}/config`;
    const detectRoute = `GET /v1/sys/internal/ui/mounts/${path}`;
    const before = await routeCount(detectRoute);

    const v1 = await kv.write(path, { user: 'app', password: 'first' });
    const v2 = await kv.write(path, { user: 'app', password: 'second' });
    expect(v1?.version).toBe(1);
    expect(v2?.version).toBe(2);

    const current = await kv.read<{ password: string }>(path);
    expect(current).toMatchObject({ path, mount: 'secret/', kvVersion: 2, data: { user: 'app', password: 'second' } });
    expect(current.metadata).toMatchObject({ version: 2, deletionTime: '', destroyed: false });
    expect(Date.parse(current.metadata?.createdTime ?? '')).not.toBeNaN();

    const pinned = await kv.read<{ password: string }>(path, { version: 1 });
    expect(pinned.data.password).toBe('first');
    expect(pinned.metadata?.version).toBe(1);

    // Same mount, other secret: the mount is known, so no further detection request.
    await kv.write(`${stack.layout.kvV2Mount}/${name}/other`, { a: '1' });
    expect((await kv.read(`${stack.layout.kvV2Mount}/${name}/other`)).data).toEqual({ a: '1' });
    expect((await routeCount(detectRoute)) - before).toBe(1);
    expect(await kv.detectMount(path)).toEqual({ path: 'secret/', kvVersion: 2 });

    const metadata = await kv.readMetadata(path);
    expect(metadata.currentVersion).toBe(2);
    expect(Object.keys(metadata.versions).sort()).toEqual(['1', '2']);
    expect(await kv.list(`${stack.layout.kvV2Mount}/${name}`)).toEqual(['config', 'other']);
  });

  test('concurrent first reads on a fresh client ask for the mount once', async () => {
    const name = stack.uniqueName('kv2-concurrent');
    const path = `${stack.layout.kvV2Mount}/${name}`;
    await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/${name}`, { data: { n: '1' } });
    const detectRoute = `GET /v1/sys/internal/ui/mounts/${path}`;
    const before = await routeCount(detectRoute);
    const kv = new KvSecrets(new VaultClient({ address: stack.vaultAddr, token: stack.rootToken }));
    const reads = await Promise.all(Array.from({ length: 10 }, () => kv.read(path)));
    expect(reads.every((r) => r.data.n === '1')).toBe(true);
    expect((await routeCount(detectRoute)) - before).toBe(1);
  });

  test('a soft-deleted version is reported as deleted, with its deletion time', async () => {
    const kv = new KvSecrets(client);
    const name = stack.uniqueName('kv2-deleted');
    const path = `${stack.layout.kvV2Mount}/${name}`;
    await kv.write(path, { v: '1' });
    await kv.write(path, { v: '2' });
    await client.delete(`${stack.layout.kvV2Mount}/data/${name}`);

    const error = await kv.read(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultSecretVersionError);
    const versionError = error as VaultSecretVersionError;
    expect(versionError.code).toBe('VAULT_SECRET_VERSION');
    expect(versionError.state).toBe('deleted');
    expect(versionError.version).toBe(2);
    expect(Date.parse(versionError.deletionTime ?? '')).not.toBeNaN();
    expect(versionError.message).toContain(`version 2 of ${path} was deleted`);
    expect(versionError.message).toContain('undelete');
    // The older version is still there.
    expect((await kv.read(path, { version: 1 })).data).toEqual({ v: '1' });
  });

  test('a destroyed version is reported as destroyed', async () => {
    const kv = new KvSecrets(client);
    const name = stack.uniqueName('kv2-destroyed');
    const path = `${stack.layout.kvV2Mount}/${name}`;
    await kv.write(path, { v: '1' });
    await kv.write(path, { v: '2' });
    await client.write(`${stack.layout.kvV2Mount}/destroy/${name}`, { versions: [1] });

    const error = await kv.read(path, { version: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultSecretVersionError);
    expect((error as VaultSecretVersionError).state).toBe('destroyed');
    expect((error as VaultSecretVersionError).message).toContain(`version 1 of ${path} was destroyed`);
    expect((await kv.read(path)).data).toEqual({ v: '2' });
  });

  test('a missing secret or version is VaultNotFoundError', async () => {
    const kv = new KvSecrets(client);
    const name = stack.uniqueName('kv2-missing');
    const missing = await kv.read(`${stack.layout.kvV2Mount}/${name}`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(VaultNotFoundError);
    expect((missing as VaultNotFoundError).message).toContain(`no secret at secret/${name}`);
    await kv.write(`${stack.layout.kvV2Mount}/${name}`, { v: '1' });
    const noVersion = await kv.read(`${stack.layout.kvV2Mount}/${name}`, { version: 7 }).catch((e: unknown) => e);
    expect(noVersion).toBeInstanceOf(VaultNotFoundError);
    expect((noVersion as Error).message).toContain('version 7');
  });

  test('delete and destroy through KvSecrets, and check-and-set', async () => {
    const kv = new KvSecrets(client);
    const path = `${stack.layout.kvV2Mount}/${stack.uniqueName('kv2-ops')}`;
    await kv.write(path, { v: '1' }, { cas: 0 });
    await expect(kv.write(path, { v: 'x' }, { cas: 0 })).rejects.toThrow(/check-and-set/);
    await kv.write(path, { v: '2' }, { cas: 1 });
    await kv.delete(path, { versions: [1] });
    await expect(kv.read(path, { version: 1 })).rejects.toMatchObject({ state: 'deleted' });
    await kv.destroy(path, [2]);
    await expect(kv.read(path)).rejects.toMatchObject({ state: 'destroyed', version: 2 });
  });

  test('an explicit mount and version skip detection', async () => {
    const name = stack.uniqueName('kv2-explicit');
    await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/${name}`, { data: { k: 'v' } });
    const before = (await stack.requestCounts()).byRoute;
    const kv = new KvSecrets(new VaultClient({ address: stack.vaultAddr, token: stack.rootToken }));
    const secret = await kv.read(name, { mount: stack.layout.kvV2Mount, kvVersion: 2 });
    expect(secret).toMatchObject({ path: `secret/${name}`, data: { k: 'v' } });
    const after = (await stack.requestCounts()).byRoute;
    const detections = Object.keys(after).filter(
      (route) => route.includes('sys/internal/ui/mounts') && route.includes(name),
    );
    expect(detections.filter((route) => (after[route] ?? 0) !== (before[route] ?? 0))).toEqual([]);
  });
});

describe('KV v1', () => {
  test('is detected as v1 and read and written without data/', async () => {
    const kv = new KvSecrets(client);
    const path = `${stack.layout.kvV1Mount}/${stack.uniqueName('kv1')}`;
    expect(await kv.write(path, { token: 'abc' })).toBeUndefined();
    const secret = await kv.read(path);
    expect(secret).toMatchObject({ path, mount: 'kv/', kvVersion: 1, data: { token: 'abc' }, metadata: undefined });
    expect(await kv.detectMount(path)).toEqual({ path: 'kv/', kvVersion: 1 });
    await kv.delete(path);
    await expect(kv.read(path)).rejects.toBeInstanceOf(VaultNotFoundError);
  });

  test('a pinned version on KV v1 is a configuration error', async () => {
    const kv = new KvSecrets(client);
    const path = `${stack.layout.kvV1Mount}/${stack.uniqueName('kv1')}`;
    await kv.write(path, { a: '1' });
    await expect(kv.read(path, { version: 1 })).rejects.toThrow(/KV v1 .* has no versions/);
  });
});

describe('detection errors', () => {
  test('an unknown mount names the path and how to fix it', async () => {
    const kv = new KvSecrets(client);
    const error = await kv.read('no-such-mount/app').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultConfigError);
    expect((error as Error).message).toContain('cannot find the secrets engine for "no-such-mount/app"');
    expect((error as Error).message).toContain('{ mount, kvVersion }');
  });

  test('a mount that is not KV is refused', async () => {
    const kv = new KvSecrets(client);
    await expect(kv.read(`${stack.layout.transitMount}/keys/${stack.layout.transitKey}`)).rejects.toThrow(
      /a "transit" engine, not KV/,
    );
  });
});
