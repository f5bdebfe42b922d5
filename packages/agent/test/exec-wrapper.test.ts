// The app containers' entrypoint for env-var secrets, tools/images/vaultbridge-exec.c (the static binary
// tools/install.sh builds), run as a process on files in the agent's format: every value the agent writes
// (envFileText) reaches the exec'd command byte for byte, the arguments pass unchanged, and every file
// it must refuse is refused with the file and line, before the command runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath } from '@vaultbridge/testenv';
import { EXEC_WRAPPER_IN_IMAGE } from '../src/contract/index.ts';
import { envFileText } from '../src/env-file.ts';

const WRAPPER = binaryPath('vaultbridge-exec');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-wrapper-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// Prints the named variables (null when unset) and its own argv as JSON.
const PRINT = `process.stdout.write(JSON.stringify({ env: Object.fromEntries(JSON.parse(process.env.WANTED ?? '[]').map((n) => [n, process.env[n] ?? null])), argv: process.argv.slice(1) }))`;

let fileCount = 0;
function envFile(text: string | Buffer): string {
  const file = path.join(work, `env-${fileCount++}`);
  fs.writeFileSync(file, text);
  return file;
}

function wrap(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(WRAPPER, args, {
    env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, ...env },
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function printed(file: string, wanted: string[], extraArgs: string[] = [], env: Record<string, string> = {}) {
  const result = wrap([file, '--', process.execPath, '-e', PRINT, '--', ...extraArgs], {
    WANTED: JSON.stringify(wanted),
    ...env,
  });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(result.stdout) as { env: Record<string, string | null>; argv: string[] };
}

describe('vaultbridge-exec reads what the agent writes', () => {
  const hostile = [
    "it's",
    'a $HOME `id` $(id) \\n "q" \\\' \\',
    'line one\nline two\n',
    '\n\n',
    '',
    '  spaced  ',
    "'''",
    "'\\''",
    '*',
    '# not a comment',
    'export X=1',
    'ünï©ødé 😀',
    '=;&|<>(){}[]!~',
    '\t\r\u0001\u007f',
  ];

  test('every hostile value comes back byte for byte, in one file', () => {
    const values = new Map(hostile.map((value, i) => [`V_${i}`, value]));
    const result = printed(envFile(envFileText(values)), [...values.keys()]);
    expect(result.env).toEqual(Object.fromEntries(values));
  });

  test('random values of any character but NUL come back byte for byte', () => {
    // Deterministic pseudo-random strings, weighted toward the characters quoting is about.
    let seed = 20261206;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const special = ["'", '\\', '\n', '$', '`', '"', '(', ')', ' ', '#', '='];
    const values = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      let value = '';
      const length = Math.floor(next() * 40);
      for (let j = 0; j < length; j++) {
        const pick = next();
        if (pick < 0.5) value += special[Math.floor(next() * special.length)];
        else if (pick < 0.9) value += String.fromCodePoint(1 + Math.floor(next() * 126));
        else value += String.fromCodePoint(0x80 + Math.floor(next() * 0x2000));
      }
      values.set(`R${i}`, value);
    }
    const result = printed(envFile(envFileText(values)), [...values.keys()]);
    expect(result.env).toEqual(Object.fromEntries(values));
  });

  test('a 100 KiB value passes whole', () => {
    const big = "x'y\n".repeat(25 * 1024);
    expect(printed(envFile(envFileText(new Map([['BIG', big]]))), ['BIG']).env).toEqual({ BIG: big });
  });

  test('the arguments reach the command unchanged, and the file overrides an inherited variable', () => {
    const file = envFile(envFileText(new Map([['DB_PASSWORD', 'from-the-file']])));
    const result = printed(file, ['DB_PASSWORD', 'KEPT'], ['--flag', 'two words', '$(x)', '', '`id`'], {
      DB_PASSWORD: 'inherited',
      KEPT: 'kept',
    });
    expect(result).toEqual({
      env: { DB_PASSWORD: 'from-the-file', KEPT: 'kept' },
      argv: ['--flag', 'two words', '$(x)', '', '`id`'],
    });
  });

  test('a command without a slash is looked up in PATH, as a shell does', () => {
    const file = envFile(envFileText(new Map([['A', '1']])));
    const result = wrap([file, '--', path.basename(process.execPath), '-e', 'process.stdout.write(process.env.A)']);
    expect(result).toEqual({ status: 0, stdout: '1', stderr: '' });
  });

  test('comments and empty lines are allowed; a file with no variables runs the command', () => {
    const result = wrap([envFile('# only a comment\n\n'), '--', process.execPath, '-e', 'process.stdout.write("ran")']);
    expect(result).toEqual({ status: 0, stdout: 'ran', stderr: '' });
  });
});

describe('vaultbridge-exec refuses, naming the file and line, and never runs the command', () => {
  const marker = path.join(work, 'RAN');
  const RUN = [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`];

  test.each([
    ['a line that is not an export', "export A='1'\nA='2'\n", ":2: expected a line export NAME='value'"],
    ['a name starting with a digit', "export 1A='1'\n", ':1: the variable name must start with a letter or _'],
    ['a name with a dash', "export DB-PASSWORD='1'\n", ':1: expected = right after the variable name DB'],
    ['an unquoted value', 'export A=1\n', ':1: the value of A must be single-quoted'],
    ['a double-quoted value', 'export A="1"\n', ':1: the value of A must be single-quoted'],
    ['text after the value', "export A='1' # note\n", ':1: unexpected character after the quoted value of A'],
    [
      'a shell expansion after the value',
      "export A='1'$(id)\n",
      ':1: unexpected character after the quoted value of A',
    ],
    ['an unclosed quote', "export A='1\n", ':1: the value of A has no closing quote'],
    ['a name set twice', "export A='1'\nexport B='2'\nexport A='3'\n", ':3: A is set twice'],
    ['a multi-line value before a bad line', "export A='1\n2\n3'\nbad\n", ':4: expected a line export'],
    ['no newline at the end (cut short)', "export A='1'", ': does not end with a newline: the file is cut short'],
    ['a NUL byte', Buffer.from("export A='1'\nexport B='x\0y'\n"), ':2: holds a NUL byte'],
  ])('%s', (_name, text, message) => {
    const file = envFile(text);
    const result = wrap([file, '--', ...RUN]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`vaultbridge-exec: ${file}${message}`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('a missing env file is named, with what writes it', () => {
    const file = path.join(work, 'absent', '.vaultbridge-env');
    const result = wrap([file, '--', ...RUN]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`cannot open the env file ${file}: No such file or directory`);
    expect(result.stderr).toContain("agent's init container or native sidecar");
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('a command that does not exist exits 127, one that cannot run 126, each named', () => {
    const file = envFile(envFileText(new Map([['A', 'secret-value-7731']])));
    const missing = wrap([file, '--', '/nonexistent/app', 'x']);
    expect(missing).toEqual({
      status: 127,
      stdout: '',
      stderr: 'vaultbridge-exec: cannot run /nonexistent/app: No such file or directory\n',
    });
    const notExecutable = wrap([file, '--', file]);
    expect(notExecutable.status).toBe(126);
    expect(notExecutable.stderr).toBe(`vaultbridge-exec: cannot run ${file}: Permission denied\n`);
    // No value from the file in any message.
    expect(missing.stderr + notExecutable.stderr).not.toContain('secret-value-7731');
  });

  test.each([[[]], [['/f']], [['/f', '--']], [['/f', 'cmd']], [['/f', 'x', 'cmd']]])(
    'a wrong command line %j exits 2 with the usage',
    (args) => {
      const result = wrap(args);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('usage: vaultbridge-exec ENV-FILE -- COMMAND [ARG...]');
    },
  );
});

describe('the agent image ships the wrapper where the agent copies it from', () => {
  test("packages/agent/Dockerfile COPYs the bundle step's staged binary to EXEC_WRAPPER_IN_IMAGE", () => {
    const dockerfile = fs.readFileSync(path.join(import.meta.dirname, '../Dockerfile'), 'utf8');
    const copies = [...dockerfile.matchAll(/^COPY\s+(\S+)\s+(\S+)\s*$/gm)].map((m) => [m[1], m[2]]);
    expect(copies).toContainEqual(['dist/bundle/vaultbridge-exec', EXEC_WRAPPER_IN_IMAGE]);
    const stage = fs.readFileSync(
      path.join(import.meta.dirname, '../../../tools/images/stage-exec-wrapper.sh'),
      'utf8',
    );
    expect(stage).toContain('packages/agent/dist/bundle/vaultbridge-exec"');
  });

  test('the binary tools/install.sh builds is static: no program interpreter, so no libc in the app image', () => {
    const elf = fs.readFileSync(WRAPPER);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    // ELF64 program headers: none of type PT_INTERP (3), which a dynamically linked binary has.
    const phoff = Number(elf.readBigUInt64LE(0x20));
    const phentsize = elf.readUInt16LE(0x36);
    const phnum = elf.readUInt16LE(0x38);
    const types = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    expect(types.length).toBeGreaterThan(0);
    expect(types).not.toContain(3);
  });
});
