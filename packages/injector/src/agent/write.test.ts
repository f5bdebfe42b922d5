import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentPaths } from './paths.ts';
import { writeSecretFile } from './write.ts';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-write-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('writeSecretFile', () => {
  test('creates under the root with the mode, then reports unchanged and changed', async () => {
    const paths = agentPaths(root);
    const file = path.join(root, 'vault/secrets/db');
    expect(await writeSecretFile(paths, '/vault/secrets/db', 'a\n', 0o400)).toBe('created');
    expect(fs.readFileSync(file, 'utf8')).toBe('a\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o400);
    const before = fs.statSync(file).ino;
    expect(await writeSecretFile(paths, '/vault/secrets/db', 'a\n', 0o400)).toBe('unchanged');
    expect(fs.statSync(file).ino).toBe(before);
    expect(await writeSecretFile(paths, '/vault/secrets/db', 'b\n', 0o640)).toBe('changed');
    expect(fs.readFileSync(file, 'utf8')).toBe('b\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  });

  test('defaults to 0644', async () => {
    await writeSecretFile(agentPaths(root), '/vault/secrets/plain', 'x');
    expect(fs.statSync(path.join(root, 'vault/secrets/plain')).mode & 0o777).toBe(0o644);
  });

  test('refuses a destination that is a symlink out of its directory', async () => {
    const outside = path.join(root, 'outside');
    fs.writeFileSync(outside, 'keep');
    fs.mkdirSync(path.join(root, 'vault/secrets'), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'vault/secrets/db'));
    await expect(writeSecretFile(agentPaths(root), '/vault/secrets/db', 'evil')).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(fs.readFileSync(outside, 'utf8')).toBe('keep');
  });
});
