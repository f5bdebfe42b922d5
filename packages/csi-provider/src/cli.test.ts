// The provider's variables get the same checks as its flags, and a refusal names what the user wrote.
// Each case is refused before anything starts (no socket, no Kubernetes, no port).
import { runCsiProviderCli } from './cli.ts';

async function run(argv: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCsiProviderCli(argv, {
    stdout: { write: () => true },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stderr };
}

test('LOG_LEVEL=loud is refused naming the variable and the fix', async () => {
  const { code, stderr } = await run([], { LOG_LEVEL: 'loud' });
  expect(code).toBe(1);
  expect(stderr).toContain(
    'LOG_LEVEL: expected one of trace, debug, info, warn, error, off, got "loud"; fix or unset the variable',
  );
});

test('--log-level loud is refused naming the flag; the flag wins over a good variable', async () => {
  const { code, stderr } = await run(['--log-level', 'loud'], { LOG_LEVEL: 'info' });
  expect(code).toBe(1);
  expect(stderr).toContain(
    '--log-level: expected one of trace, debug, info, warn, error, off, got "loud"; fix the flag',
  );
});

test('VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES with a non-address is refused naming the variable', async () => {
  const { code, stderr } = await run([], { VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES: 'https://vault:8200, vault:8200' });
  expect(code).toBe(1);
  expect(stderr).toContain('VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES: "vault:8200" is not a Vault address');
});

test('an empty variable counts as unset', async () => {
  // The flag's value is checked, not the empty variable: the error names the flag.
  const { stderr } = await run(['--log-level', 'loud'], { LOG_LEVEL: '' });
  expect(stderr).toContain('--log-level:');
});
