// Vault's own calls (sys/health, the token's lookup-self and revoke-self) against the real Vault of the
// test stack, as the operator, the CSI provider and the TokenManager make them.
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  lookupSelfToken,
  revokeSelfToken,
  vaultHealth,
  VaultClient,
  VaultPermissionError,
} from '../src/vault/index.ts';

let stack: TestStack;
let root: VaultClient;

beforeAll(() => {
  stack = sharedStack();
  root = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
});

test('vaultHealth: an initialised, unsealed Vault 1.13 answers without a token', async () => {
  const health = await vaultHealth(new VaultClient({ address: stack.vaultAddr }));
  expect(health).toMatchObject({ initialized: true, sealed: false, standby: false });
  expect(health.version).toMatch(/^1\.13\./);
});

test('lookupSelfToken reads a child token, and revokeSelfToken ends it: the next lookup is refused', async () => {
  const created = await root.write<never>('auth/token/create', { policies: ['default'], ttl: '10m' });
  const token = created?.auth?.client_token;
  expect(token).toMatch(/^hvs\./);
  const child = root.withToken(token);
  const lookup = await lookupSelfToken(child);
  expect(lookup.policies).toEqual(['default']);
  expect(lookup.ttl).toBeGreaterThan(500);
  expect(lookup.ttl).toBeLessThanOrEqual(600);
  await revokeSelfToken(child);
  await expect(lookupSelfToken(child)).rejects.toBeInstanceOf(VaultPermissionError);
});
