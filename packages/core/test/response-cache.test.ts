// VaultClient's response-cache hook and raw(), against the real Vault of the test stack: a cache sees
// each request with its token and answers instead of Vault; raw() relays Vault's status and body.
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { VaultClient, type CacheableRequest, type VaultResponse, type VaultResponseCache } from '../src/vault/index.ts';

let stack: TestStack;
let client: VaultClient;
let path: string;

beforeAll(async () => {
  stack = sharedStack();
  client = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
  path = `${stack.layout.kvV2Mount}/data/${stack.uniqueName('response-cache')}`;
  await client.write(path, { data: { value: 'from-vault' } });
});

/** Keeps every answer by path: the simplest cache a test can reason about. */
class RecordingCache implements VaultResponseCache {
  readonly stored: CacheableRequest[] = [];
  readonly kept = new Map<string, VaultResponse<unknown>>();
  lookup(request: CacheableRequest): VaultResponse<unknown> | undefined {
    return this.kept.get(request.path);
  }
  store(request: CacheableRequest, response: VaultResponse<unknown>): void {
    this.stored.push(request);
    this.kept.set(request.path, response);
  }
}

const reads = async (): Promise<number> => (await stack.requestCounts()).byRoute[`GET /v1/${path}`] ?? 0;

test('a client with a response cache offers each answer with its token and is answered from it', async () => {
  const cache = new RecordingCache();
  const cached = client.withResponseCache(cache);
  const before = await reads();
  const first = await cached.read<{ data: { value: string } }>(path);
  const second = await cached.read<{ data: { value: string } }>(path);
  expect([first.data.data.value, second.data.data.value]).toEqual(['from-vault', 'from-vault']);
  expect(await reads()).toBe(before + 1);
  expect(cache.stored).toEqual([{ method: 'GET', path, query: {}, body: undefined, token: stack.rootToken }]);
  // The cache is the one client's: the client it came from and those derived from it ask Vault.
  await client.read(path);
  await cached.withToken(stack.rootToken).read(path);
  expect(await reads()).toBe(before + 3);
});

test("raw() relays Vault's status and body instead of throwing", async () => {
  const denied = await client.withToken('not-a-token').raw('GET', path);
  expect(denied.status).toBe(403);
  expect(denied.body).toEqual({ errors: expect.arrayContaining([expect.stringContaining('permission denied')]) });
  const ok = await client.raw('GET', path);
  expect(ok.status).toBe(200);
  expect((ok.body as { data: { data: unknown } }).data.data).toEqual({ value: 'from-vault' });
});
