// Every Vault request ends by its deadline whatever Vault or the network does: a Vault that answers one
// byte a second (the test stack's proxy in front of the real Vault, fault `drip`) is cut off at the
// per-attempt timeout, a retry loop stops at the request deadline, and an oversized answer is refused.
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { VaultClient, VaultProtocolError, VaultUnavailableError } from '../src/vault/index.ts';

let stack: TestStack;

beforeAll(() => {
  stack = sharedStack();
});

async function routeCount(route: string): Promise<number> {
  return (await stack.requestCounts()).byRoute[route] ?? 0;
}

/** A KV v1 secret whose answer is about `bytes` long, under its own path so a fault touches only it. */
async function writeSecret(bytes: number): Promise<string> {
  const path = `${stack.layout.kvV1Mount}/${stack.uniqueName('deadline')}`;
  await stack.vaultAdmin.write(path, { value: 'x'.repeat(bytes) });
  return path;
}

async function withDrip<T>(path: string, run: () => Promise<T>): Promise<T> {
  await stack.setVaultFault('drip', { pathPrefix: path });
  try {
    return await run();
  } finally {
    await stack.setVaultFault('none');
  }
}

test('a Vault dripping its answer one byte a second is cut off at the attempt timeout (a total, not an idle timeout)', async () => {
  // About 300 bytes at 1 byte/s: an idle timeout never fires and the read would take 5 minutes.
  const path = await writeSecret(100);
  const client = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken, timeoutMs: 2_000, maxRetries: 0 });
  const error = await withDrip(path, () => client.read(path).catch((e: unknown) => e));
  expect(error).toBeInstanceOf(VaultUnavailableError);
  expect((error as Error).message).toContain('no complete answer within the timeout of 2000 ms');
  expect((error as Error).message).toContain(`GET ${path}`);
  // Without the fault the same client reads it: the deadline is what cut it off.
  expect((await client.read<{ value: string }>(path)).data.value).toHaveLength(100);
});

test('retries stop at the request deadline, not after a count of attempts', async () => {
  const path = await writeSecret(100);
  const route = `GET /v1/${path}`;
  const before = await routeCount(route);
  // 10 retries allowed, but each attempt may take 1.5 s and the whole request 2.5 s: two attempts at most.
  const client = new VaultClient({
    address: stack.vaultAddr,
    token: stack.rootToken,
    timeoutMs: 1_500,
    requestDeadlineMs: 2_500,
    maxRetries: 10,
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 10,
  });
  const error = await withDrip(path, () => client.read(path).catch((e: unknown) => e));
  expect(error).toBeInstanceOf(VaultUnavailableError);
  expect((error as Error).message).toContain('no complete answer within the request deadline of 2500 ms');
  const attempts = (await routeCount(route)) - before;
  expect(attempts).toBe(2);
  expect((error as VaultUnavailableError).attempts).toBe(attempts);
});

test('an answer larger than maxResponseBytes is refused, not retried, and a smaller one is read', async () => {
  const path = await writeSecret(200_000);
  const route = `GET /v1/${path}`;
  const before = await routeCount(route);
  const capped = new VaultClient({
    address: stack.vaultAddr,
    token: stack.rootToken,
    maxResponseBytes: 64 * 1024,
    maxRetries: 3,
  });
  const error = await capped.read(path).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VaultProtocolError);
  expect((error as Error).message).toContain(`larger than ${64 * 1024} bytes (maxResponseBytes)`);
  expect((await routeCount(route)) - before).toBe(1);
  const roomy = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken, maxResponseBytes: 256 * 1024 });
  expect((await roomy.read<{ value: string }>(path)).data.value).toHaveLength(200_000);
});

test('bad limits are refused at construction naming the setting', () => {
  expect(() => new VaultClient({ address: stack.vaultAddr, maxResponseBytes: 0 })).toThrow(
    'maxResponseBytes must be a positive number',
  );
  expect(() => new VaultClient({ address: stack.vaultAddr, requestDeadlineMs: -1 })).toThrow(
    'requestDeadlineMs must be a positive number',
  );
});
