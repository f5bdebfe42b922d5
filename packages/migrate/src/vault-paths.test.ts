import { classifyVaultPath, type MountTable } from './vault-paths.ts';

describe('by shape, without Vault', () => {
  test.each([
    ['secret/data/app/db', { kind: 'kv', mount: 'secret', path: 'app/db', version: 2, guessed: true }],
    ['/v1/secret/data/app', { kind: 'kv', mount: 'secret', path: 'app', version: 2, guessed: true }],
    ['kv/app/config', { kind: 'kv', mount: 'kv', path: 'app/config', version: 1, guessed: true }],
    [
      'database/creds/db-app',
      { kind: 'dynamic', mount: 'database', path: 'creds/db-app', staticCreds: false, guessed: true },
    ],
    [
      'database/static-creds/app',
      { kind: 'dynamic', mount: 'database', path: 'static-creds/app', staticCreds: true, guessed: true },
    ],
    ['pki/issue/web', { kind: 'pki', mount: 'pki', role: 'web', guessed: true }],
    ['pki/issuer/root-2024/issue/web', { kind: 'pki', mount: 'pki', role: 'web', guessed: true }],
  ])('%s', (path, expected) => {
    expect(classifyVaultPath(path)).toEqual(expected);
  });

  test('a bare mount name is not a secret', () => {
    expect(classifyVaultPath('secret')).toBeUndefined();
  });
});

describe('with the mounts Vault reports', () => {
  const mounts: MountTable = new Map([
    ['team/kv/', { type: 'kv', version: 2 }],
    ['legacy', { type: 'kv', version: 1 }],
    ['aws', { type: 'other' }],
  ] as const);
  test.each([
    ['team/kv/data/app', { kind: 'kv', mount: 'team/kv', path: 'app', version: 2, guessed: false }],
    ['team/kv/app', { kind: 'kv', mount: 'team/kv', path: 'app', version: 2, guessed: false }],
    ['legacy/data/x', { kind: 'kv', mount: 'legacy', path: 'data/x', version: 1, guessed: false }],
    ['aws/sts/deploy', { kind: 'dynamic', mount: 'aws', path: 'sts/deploy', staticCreds: false, guessed: false }],
  ])('%s', (path, expected) => {
    expect(classifyVaultPath(path, mounts)).toEqual(expected);
  });
});
