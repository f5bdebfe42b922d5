import { execFileSync } from 'node:child_process';
import { envFileMode, envFileText, shellQuote } from './env-file.ts';
import type { PreparedSecret } from './session.ts';

describe('env file', () => {
  // The file is also what a POSIX shell reads literally (pods an older webhook wrapped with /bin/sh):
  // every value comes back byte for byte, nothing runs. vaultbridge-exec's reading: test/exec-wrapper.test.ts.
  const hostile = [
    "it's",
    'a $HOME `id` $(id) \\n "q"',
    'line one\nline two\n',
    '',
    '  spaced  ',
    "'''",
    '*',
    'ünï©ødé',
  ];

  test.each(hostile)('the shell reads %j back literally', (value) => {
    const text = envFileText(new Map([['VALUE', value]]));
    const out = execFileSync('/bin/sh', ['-c', `set -e; eval "$1"; printf %s "$VALUE"`, 'sh', text], {
      encoding: 'utf8',
    });
    expect(out).toBe(value);
  });

  test('one sorted export per variable, after a comment', () => {
    expect(
      envFileText(
        new Map([
          ['B', '2'],
          ['A', '1'],
        ]),
      ),
    ).toBe(
      "# written by vaultbridge-agent for agent-inject-env-*; read by vaultbridge-exec (or a POSIX shell)\nexport A='1'\nexport B='2'\n",
    );
    expect(shellQuote("a'b")).toBe("'a'\\''b'");
  });

  test("mode: 0644, or what every env secret's perms allow", () => {
    const secret = (env: string | undefined, perms?: number) =>
      ({ config: { env, perms } }) as unknown as PreparedSecret;
    expect(envFileMode([secret('A'), secret(undefined, 0o400)])).toBe(0o644);
    expect(envFileMode([secret('A', 0o440), secret('B', 0o640)])).toBe(0o440);
  });
});
