// The application shares the secrets volume with the agent and may put symlinks anywhere in it. Each
// test plants one and checks that nothing is written through it, at any level, for secrets, token
// sinks and the ready/pid files alike (issue 12 item 3: `/vault/secrets/sub → /elsewhere` made the
// agent write `sub/db` to `/elsewhere/db`, creating directories there, and a link into the agent's
// home overwrote its token sink).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeConfined, rootOf } from './confined.ts';
import { agentPaths } from './paths.ts';
import { volumeRoots, writeSecretFile } from './write.ts';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-write-'));
  fs.mkdirSync(path.join(root, 'vault/secrets'), { recursive: true });
  fs.mkdirSync(path.join(root, 'home/vault'), { recursive: true });
  fs.mkdirSync(path.join(root, 'elsewhere'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const at = (...parts: string[]) => path.join(root, ...parts);
const listing = (dir: string) => fs.readdirSync(at(dir)).sort();

describe('writeSecretFile', () => {
  test('creates under the root with the mode, then reports unchanged and changed', async () => {
    const paths = agentPaths(root);
    const file = at('vault/secrets/db');
    expect(await writeSecretFile(paths, '/vault/secrets/db', 'a\n', 0o400)).toBe('created');
    expect(fs.readFileSync(file, 'utf8')).toBe('a\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o400);
    const before = fs.statSync(file).ino;
    expect(await writeSecretFile(paths, '/vault/secrets/db', 'a\n', 0o400)).toBe('unchanged');
    expect(fs.statSync(file).ino).toBe(before);
    expect(await writeSecretFile(paths, '/vault/secrets/db', 'b\n', 0o640)).toBe('changed');
    expect(fs.readFileSync(file, 'utf8')).toBe('b\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(listing('vault/secrets')).toEqual(['db']); // no temporary file left behind
  });

  test('defaults to 0644 and creates sub-directories inside the volume', async () => {
    await writeSecretFile(agentPaths(root), '/vault/secrets/a/b/plain', 'x');
    expect(fs.statSync(at('vault/secrets/a/b/plain')).mode & 0o777).toBe(0o644);
    expect(fs.lstatSync(at('vault/secrets/a')).isDirectory()).toBe(true);
  });

  test('refuses a destination that is a symlink, whether it points out or in', async () => {
    fs.writeFileSync(at('elsewhere/target'), 'keep');
    fs.symlinkSync(at('elsewhere/target'), at('vault/secrets/db'));
    fs.writeFileSync(at('vault/secrets/inner'), 'inner');
    fs.symlinkSync('inner', at('vault/secrets/alias'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/db', 'evil')).rejects.toMatchObject({
      code: 'UNSAFE_PATH',
    });
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/alias', 'evil')).rejects.toMatchObject({
      code: 'UNSAFE_PATH',
    });
    expect(fs.readFileSync(at('elsewhere/target'), 'utf8')).toBe('keep');
    expect(fs.readFileSync(at('vault/secrets/inner'), 'utf8')).toBe('inner');
  });

  test('a same-content check never chmods the target of a planted link', async () => {
    fs.writeFileSync(at('elsewhere/target'), 'same', { mode: 0o600 });
    fs.symlinkSync(at('elsewhere/target'), at('vault/secrets/db'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/db', 'same', 0o644)).rejects.toMatchObject({
      code: 'UNSAFE_PATH',
    });
    expect(fs.statSync(at('elsewhere/target')).mode & 0o777).toBe(0o600);
  });

  test('refuses a sub-directory replaced by a symlink out of the volume, and creates nothing there', async () => {
    fs.symlinkSync(at('elsewhere'), at('vault/secrets/sub'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/sub/db', 'password')).rejects.toThrow(
      /sub is a symbolic link/,
    );
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/sub/deeper/db', 'password')).rejects.toThrow(
      /sub is a symbolic link/,
    );
    expect(listing('elsewhere')).toEqual([]);
  });

  test('refuses a symlink deeper down, and a link that stays inside the volume too', async () => {
    fs.mkdirSync(at('vault/secrets/a/b'), { recursive: true });
    fs.symlinkSync(at('elsewhere'), at('vault/secrets/a/b/c'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/a/b/c/db', 'x')).rejects.toThrow(
      /a\/b\/c is a symbolic link/,
    );
    fs.mkdirSync(at('vault/secrets/real'));
    fs.symlinkSync('real', at('vault/secrets/inlink'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/inlink/db', 'x')).rejects.toThrow(
      /inlink is a symbolic link/,
    );
    expect(listing('elsewhere')).toEqual([]);
    expect(listing('vault/secrets/real')).toEqual([]);
  });

  test("a link into the agent's home cannot overwrite its token sink", async () => {
    fs.writeFileSync(at('home/vault/.vault-token'), 'the-token', { mode: 0o600 });
    fs.symlinkSync(at('home/vault'), at('vault/secrets/sub'));
    await expect(
      writeSecretFile(agentPaths(root), '/vault/secrets/sub/.vault-token', 'attacker'),
    ).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(fs.readFileSync(at('home/vault/.vault-token'), 'utf8')).toBe('the-token');
  });

  test('a dangling symlink where a directory is to be created is refused, not followed', async () => {
    fs.symlinkSync(at('elsewhere/new-dir'), at('vault/secrets/sub'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/sub/db', 'x')).rejects.toThrow(/symbolic link/);
    expect(fs.existsSync(at('elsewhere/new-dir'))).toBe(false);
  });

  test("a FIFO or a directory in the file's place is refused without hanging", async () => {
    fs.mkdirSync(at('vault/secrets/dir'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/dir', 'x')).rejects.toThrow(/is not a regular file/);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [at('vault/secrets/fifo')]);
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/fifo', 'x')).rejects.toThrow(
      /is not a regular file/,
    );
  });

  test("a regular file in a directory's place is refused", async () => {
    fs.writeFileSync(at('vault/secrets/sub'), 'file');
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/sub/db', 'x')).rejects.toThrow(
      /sub is not a directory/,
    );
  });

  test('token sinks, ready and pid files in the agent home are confined the same way', async () => {
    fs.rmSync(at('home/vault'), { recursive: true });
    fs.mkdirSync(at('home/vault'));
    fs.symlinkSync(at('elsewhere/stolen'), at('home/vault/.vault-token'));
    await expect(
      writeSecretFile(agentPaths(root), '/home/vault/.vault-token', 'tok', 0o600, volumeRoots({ secrets: [] })),
    ).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(fs.existsSync(at('elsewhere/stolen'))).toBe(false);
  });
});

describe('rootOf', () => {
  test.each([
    ['/vault/secrets/db', ['/home/vault', '/vault/secrets'], { root: '/vault/secrets', relative: 'db' }],
    ['/vault/secrets/a/b', ['/home/vault', '/vault/secrets'], { root: '/vault/secrets', relative: 'a/b' }],
    [
      '/vault/secrets/custom/x',
      ['/vault/secrets', '/vault/secrets/custom'],
      { root: '/vault/secrets/custom', relative: 'x' },
    ],
    ['/home/vault/.vault-token', ['/home/vault', '/vault/secrets'], { root: '/home/vault', relative: '.vault-token' }],
    ['/etc/app/token', ['/home/vault', '/vault/secrets'], { root: '/etc/app', relative: 'token' }],
    ['/vault/secretsX/db', ['/vault/secrets'], { root: '/vault/secretsX', relative: 'db' }],
  ])('%s in %o', (file, roots, expected) => {
    expect(rootOf(file, roots)).toEqual(expected);
  });
});

test('writeConfined refuses unclean relative paths before touching the disk', async () => {
  for (const relative of ['../x', 'a/../b', './a', 'a//b', '', 'a/\0b']) {
    await expect(writeConfined(at('vault/secrets'), relative, 'x', { mode: 0o644 })).rejects.toMatchObject({
      code: 'UNSAFE_PATH',
    });
  }
});
