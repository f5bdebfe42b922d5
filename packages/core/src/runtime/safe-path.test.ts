import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UnsafePathError, resolveInside, validateRelativePath } from './safe-path.ts';

describe('validateRelativePath', () => {
  test.each([
    ['db.txt', 'db.txt'],
    ['certs/tls.crt', 'certs/tls.crt'],
    ['./a//b', 'a/b'],
    ['..hidden', '..hidden'],
    ['a..b/c', 'a..b/c'],
  ])('accepts %j as %j', (given, normalized) => {
    expect(validateRelativePath(given)).toBe(normalized);
  });

  test.each([
    ['', 'empty'],
    ['.', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['../escape', 'traversal'],
    ['a/../../b', 'traversal'],
    ['a/../b', 'traversal'],
    ['a/..', 'traversal'],
    ['file\0.txt', 'nul-byte'],
  ])('rejects %j (%s)', (given, reason) => {
    expect(() => validateRelativePath(given)).toThrow(
      expect.objectContaining({ code: 'UNSAFE_PATH', reason, path: given }),
    );
  });

  test('the error names the path and the fix', () => {
    expect(() => validateRelativePath('../../etc/shadow')).toThrow(
      'file path "../../etc/shadow" contains a ".." element; use a path relative to the volume, such as "db/creds.txt"',
    );
  });
});

describe('resolveInside', () => {
  let root: string;
  let base: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'vaultbridge-paths-'));
    base = path.join(root, 'volume');
    await mkdir(path.join(base, 'sub'), { recursive: true });
    await mkdir(path.join(root, 'outside'));
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  test('resolves names inside the volume, missing directories included', async () => {
    expect(await resolveInside(base, 'db.txt')).toBe(path.join(base, 'db.txt'));
    expect(await resolveInside(base, 'sub/new/deeper/file')).toBe(path.join(base, 'sub/new/deeper/file'));
  });

  test('allows a symlink that stays inside', async () => {
    await symlink(path.join(base, 'sub'), path.join(base, 'alias'));
    expect(await resolveInside(base, 'alias/file')).toBe(path.join(base, 'alias/file'));
  });

  test('rejects a parent directory symlinked out of the volume', async () => {
    await symlink(path.join(root, 'outside'), path.join(base, 'escape'));
    await expect(resolveInside(base, 'escape/file')).rejects.toMatchObject({ reason: 'symlink-escape' });
    await expect(resolveInside(base, 'escape/missing/file')).rejects.toMatchObject({ reason: 'symlink-escape' });
  });

  test('rejects a dangling symlink that points out of the volume', async () => {
    await symlink(path.join(root, 'outside', 'not-yet'), path.join(base, 'later'));
    await expect(resolveInside(base, 'later/file')).rejects.toMatchObject({ reason: 'symlink-escape' });
    await expect(resolveInside(base, 'later')).rejects.toMatchObject({ reason: 'symlink-escape' });
  });

  test('rejects a file symlinked out of the volume', async () => {
    await symlink('/etc/hostname', path.join(base, 'host'));
    await expect(resolveInside(base, 'host')).rejects.toBeInstanceOf(UnsafePathError);
  });

  test('rejects traversal and absolute paths before touching the disk', async () => {
    await expect(resolveInside(base, '../outside/x')).rejects.toMatchObject({ reason: 'traversal' });
    await expect(resolveInside(base, path.join(root, 'outside'))).rejects.toMatchObject({ reason: 'absolute' });
  });

  test('names a missing volume', async () => {
    await expect(resolveInside(path.join(root, 'nope'), 'x')).rejects.toMatchObject({ reason: 'base-missing' });
  });
});
