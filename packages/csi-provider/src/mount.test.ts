import type { VaultResponse } from '@vaultbridge/core';
import { parseMountRequest } from './config.ts';
import { MountTooLargeError } from './errors.ts';
import { buildMountResult, maxMountBytes, objectVersion } from './mount.ts';

const key = Buffer.alloc(32, 7);

function config(objects: string, permission = '420') {
  const attributes = JSON.stringify({
    roleName: 'r',
    'csi.storage.k8s.io/pod.namespace': 'ns',
    'csi.storage.k8s.io/serviceAccount.name': 'sa',
    objects,
  });
  return parseMountRequest({ attributes, targetPath: '/t', permission }, { vaultMount: 'kubernetes', tls: {} });
}

function answer(data: Record<string, unknown>): VaultResponse<unknown> {
  return {
    request_id: '',
    lease_id: '',
    lease_duration: 0,
    renewable: false,
    data: { data, metadata: { version: 1 } },
    auth: null,
    warnings: null,
    wrap_info: null,
  };
}

describe('buildMountResult', () => {
  const objects =
    '- objectName: user\n  secretPath: secret/data/app\n  secretKey: username\n- objectName: dir/pass\n  secretPath: secret/data/app\n  secretKey: password\n  filePermission: 0600\n';

  it('one file and one version per object, mode from the object or the request', () => {
    const responses = new Map([
      ['user', answer({ username: 'u', password: 'p' })],
      ['dir/pass', answer({ username: 'u', password: 'p' })],
    ]);
    const result = buildMountResult(config(objects), responses, key);
    expect(result.files.map((file) => [file.path, file.mode, file.contents.toString()])).toEqual([
      ['user', 420, 'u'],
      ['dir/pass', 0o600, 'p'],
    ]);
    expect(result.objectVersions.map((version) => version.id)).toEqual(['user', 'dir/pass']);
    for (const version of result.objectVersions) expect(version.version).toMatch(/^[A-Za-z0-9_-]{43}=$/);
  });

  it('the version changes with the content and with the object config, not between calls', () => {
    const [user] = config(objects).objects;
    if (!user) throw new Error('no object');
    const a = objectVersion(user, Buffer.from('u'), key);
    expect(objectVersion(user, Buffer.from('u'), key)).toBe(a);
    expect(objectVersion(user, Buffer.from('v'), key)).not.toBe(a);
    expect(objectVersion({ ...user, raw: { ...user.raw, objectName: 'other' } }, Buffer.from('u'), key)).not.toBe(a);
    expect(objectVersion(user, Buffer.from('u'), Buffer.alloc(32, 8))).not.toBe(a);
  });

  it('uses the request permission when the object sets none', () => {
    const result = buildMountResult(
      config('- objectName: a\n  secretPath: s/a\n', '256'),
      new Map([['a', answer({ x: 1 })]]),
      key,
    );
    expect(result.files[0]?.mode).toBe(0o400);
  });

  it('refuses as soon as the running total crosses the limit, before the other objects are built', () => {
    // 200 objects naming one 1 MiB value: the old code built all 200 files (200 MiB) before checking.
    const objects = Array.from(
      { length: 200 },
      (_, index) => `- objectName: o${index}\n  secretPath: secret/data/big\n  secretKey: blob`,
    ).join('\n');
    const big = answer({ blob: 'x'.repeat(1024 * 1024) });
    const parsed = config(objects);
    const responses = new Map(parsed.objects.map((object) => [object.objectName, big]));
    const crossing = Math.floor(maxMountBytes / (1024 * 1024));
    let error: unknown;
    try {
      buildMountResult(parsed, responses, key);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MountTooLargeError);
    expect((error as Error).message).toContain(
      `at object "o${crossing}" (${(crossing + 1) * 1024 * 1024} bytes so far`,
    );
    expect((error as Error).message).not.toContain(`o${crossing + 1}=`);
  });
});
