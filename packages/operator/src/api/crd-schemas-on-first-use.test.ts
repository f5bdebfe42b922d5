// The CRDs' OpenAPI schemas are generated (z.toJSONSchema over every kind) when first asked for, not when
// the operator starts: a running operator only parses specs, and generating them at import cost ~3 MiB
// RSS (README, Memory). Counted by wrapping zod/mini's toJSONSchema for every module that imports it.
import { jest } from '@jest/globals';

const real = await import('zod/mini');
let generated = 0;
jest.unstable_mockModule('zod/mini', () => ({
  ...real,
  toJSONSchema: (...args: Parameters<typeof real.toJSONSchema>) => {
    generated++;
    return real.toJSONSchema(...args);
  },
}));

test('importing the CLI and starting to parse generates no CRD schema; the CRDs do, once', async () => {
  const { createOperatorProgram } = await import('../cli.ts');
  const { parseVaultStaticSecretSpec } = await import('./vault-static-secret.ts');
  const { KIND_TABLE, servedKinds } = await import('./kind-table.ts');
  const { VSO_API } = await import('./common.ts');
  expect(typeof createOperatorProgram).toBe('function');
  // What the operator does at start: its kinds under the served group, and specs parsed.
  expect(servedKinds(VSO_API).map((kind) => kind.group)).toEqual(KIND_TABLE.map(() => 'secrets.hashicorp.com'));
  parseVaultStaticSecretSpec({ mount: 'kv', path: 'app', type: 'kv-v2', destination: { name: 'app' } });
  expect(generated).toBe(0);

  const { crds } = await import('./crds.ts');
  const first = crds();
  expect(generated).toBeGreaterThan(0);
  const afterFirst = generated;
  expect(crds()).toBe(first);
  // Served under another group, a kind's schema is the one already generated.
  expect(servedKinds(VSO_API)[2]!.schema()).toBe(KIND_TABLE[2].schema());
  expect(generated).toBe(afterFirst);
});
