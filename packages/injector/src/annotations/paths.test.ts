import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { destinationOf, parseMountPath, parseRelativeFile } from './paths.ts';
import { isRejected } from '@vaultbridge/agent/contract';

describe('rendered file names stay inside the secrets volume', () => {
  test.each([
    ['db.txt', 'db.txt'],
    ['config/app.env', 'config/app.env'],
    ['./a//b.txt', 'a/b.txt'],
    ['a..b', 'a..b'],
    ['..a', '..a'],
    ['a..', 'a..'],
  ])('%j is accepted as %j', (raw, file) => {
    expect(parseRelativeFile(raw)).toBe(file);
  });

  test.each(['../escape', 'a/../../etc/passwd', '..', 'a/..', '/etc/passwd', '', '.', 'dir/', 'nul\0byte'])(
    '%j is rejected',
    (raw) => {
      const result = parseRelativeFile(raw);
      expect(isRejected(result) && result.expected).toBe(
        'a relative file path without `..` segments, such as `db.txt` or `config/app.env`',
      );
    },
  );
});

describe('mount directories are absolute', () => {
  test.each([
    ['/vault/secrets', '/vault/secrets'],
    ['/etc/app/', '/etc/app'],
    ['/a//b', '/a/b'],
  ])('%j is accepted as %j', (raw, dir) => {
    expect(parseMountPath(raw)).toBe(dir);
  });

  test.each(['vault/secrets', '/vault/../etc', '', '/c:/x'])('%j is rejected', (raw) => {
    expect(isRejected(parseMountPath(raw))).toBe(true);
  });

  test('a destination joins directory and file', () => {
    expect(destinationOf('/vault/secrets', 'config/app.env')).toBe('/vault/secrets/config/app.env');
    expect(destinationOf('/', 'db.txt')).toBe('/db.txt');
  });

  test('a destination is what path.join gives for every accepted directory and file', () => {
    const dirs = ['/vault/secrets', '/etc/app/', '/a//b', '/', '//x'].map(parseMountPath);
    const files = ['db.txt', 'config/app.env', './a//b.txt', 'a..b', '.hidden', 'x/./y'].map(parseRelativeFile);
    for (const dir of dirs)
      for (const file of files) {
        if (typeof dir !== 'string' || typeof file !== 'string') throw new Error('expected both accepted');
        expect(destinationOf(dir, file)).toBe(path.posix.join(dir, file));
      }
  });
});
