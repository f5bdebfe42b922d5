import { MountConfigError } from './errors.ts';
import { parseMountRequest, splitSecretPath, type ProviderFlags } from './config.ts';

const flags: ProviderFlags = { vaultMount: 'kubernetes', tls: {} };
const pod = {
  'csi.storage.k8s.io/pod.name': 'web-0',
  'csi.storage.k8s.io/pod.namespace': 'apps',
  'csi.storage.k8s.io/pod.uid': 'uid-1',
  'csi.storage.k8s.io/serviceAccount.name': 'web',
};

function request(params: Record<string, string>, permission = '420') {
  return {
    attributes: JSON.stringify({ ...pod, roleName: 'web', ...params }),
    targetPath: '/var/lib/kubelet/pods/x/volumes/v',
    permission,
  };
}

function issuesOf(fn: () => unknown): Array<{ field: string; message: string }> {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MountConfigError);
    return (error as MountConfigError).issues;
  }
  throw new Error('expected a MountConfigError');
}

describe('parseMountRequest', () => {
  it('reads the upstream "defaults" fixture: YAML 1.1 octal filePermission, request permission 420', () => {
    const config = parseMountRequest(
      request({
        vaultSkipTLSVerify: 'true',
        objects: '-\n  secretPath: "v1/secret/foo1"\n  objectName: "bar1"\n  filePermission: 0600',
      }),
      flags,
    );
    expect(config.filePermission).toBe(420);
    expect(config.connection.tls.skipVerify).toBe(true);
    expect(config.authMount).toBe('kubernetes');
    expect(config.objects).toEqual([
      expect.objectContaining({
        objectName: 'bar1',
        secretPath: 'v1/secret/foo1',
        path: 'secret/foo1',
        method: 'GET',
        filePermission: 0o600,
        encoding: 'utf-8',
        secretKey: undefined,
      }),
    ]);
    expect(config.pod).toEqual({ name: 'web-0', namespace: 'apps', uid: 'uid-1', serviceAccountName: 'web' });
  });

  it.each([
    ['0600 (YAML 1.1 octal)', '0600', 0o600],
    ['0o640 (YAML 1.2 octal)', '0o640', 0o640],
    ['420 (decimal)', '420', 420],
    ['"0440" (quoted text is octal)', '"0440"', 0o440],
    ['absent (0: use the request permission)', undefined, 0],
  ])('filePermission %s', (_name, yaml, expected) => {
    const objects = `- objectName: a\n  secretPath: secret/data/a\n${yaml === undefined ? '' : `  filePermission: ${yaml}\n`}`;
    expect(parseMountRequest(request({ objects }), flags).objects[0]?.filePermission).toBe(expected);
  });

  it('keeps yes/no/n as strings in secretArgs (yaml.v3 semantics), parses method and encoding case-insensitively', () => {
    const objects =
      '- objectName: cert\n  secretPath: pki/issue/example\n  method: put\n  encoding: BASE64\n  secretArgs:\n    common_name: a.example.test\n    n: yes\n    exclude_cn_from_sans: true\n';
    const [object] = parseMountRequest(request({ objects }), flags).objects;
    expect(object).toMatchObject({
      method: 'PUT',
      encoding: 'base64',
      secretArgs: { common_name: 'a.example.test', n: 'yes', exclude_cn_from_sans: true },
    });
    expect(object?.raw).toMatchObject({ method: 'put', encoding: 'BASE64' });
  });

  it('picks the kubelet token for the audience (default vault)', () => {
    const tokens = JSON.stringify({
      vault: { token: 'jwt-vault', expirationTimestamp: '2030-01-01T00:00:00Z' },
      other: { token: 'jwt-other', expirationTimestamp: '' },
    });
    const objects = '- objectName: a\n  secretPath: secret/data/a\n';
    expect(
      parseMountRequest(request({ objects, 'csi.storage.k8s.io/serviceAccount.tokens': tokens }), flags)
        .serviceAccountToken?.token,
    ).toBe('jwt-vault');
    expect(
      parseMountRequest(
        request({ objects, audience: 'other', 'csi.storage.k8s.io/serviceAccount.tokens': tokens }),
        flags,
      ).serviceAccountToken?.token,
    ).toBe('jwt-other');
    expect(
      parseMountRequest(request({ objects, 'csi.storage.k8s.io/serviceAccount.tokens': '' }), flags)
        .serviceAccountToken,
    ).toBeUndefined();
  });

  it('precedence: flags under parameters (the environment sits under flags in VaultClient.fromEnv)', () => {
    const objects = '- objectName: a\n  secretPath: secret/data/a\n';
    const withFlags: ProviderFlags = {
      vaultAddr: 'http://from-flags:8200',
      vaultNamespace: 'flag-ns',
      vaultMount: 'jwt',
      tls: { caFile: '/flags/ca.pem' },
    };
    const fromFlags = parseMountRequest(request({ objects }), withFlags);
    expect(fromFlags.connection).toMatchObject({
      address: 'http://from-flags:8200',
      namespace: 'flag-ns',
      tls: { caFile: '/flags/ca.pem' },
    });
    expect(fromFlags.authMount).toBe('jwt');
    const fromParams = parseMountRequest(
      request({
        objects,
        vaultAddress: 'http://from-parameters:8200',
        vaultNamespace: 'ns2',
        vaultCACertPath: '/p/ca.pem',
        vaultKubernetesMountPath: 'k8s-2',
      }),
      withFlags,
    );
    expect(fromParams.connection).toMatchObject({
      address: 'http://from-parameters:8200',
      namespace: 'ns2',
      tls: { caFile: '/p/ca.pem' },
      sources: { address: 'vaultAddress', caFile: 'vaultCACertPath' },
    });
    expect(fromParams.authMount).toBe('k8s-2');
  });

  it('splits secretPath like upstream ensureV1Prefix + query', () => {
    expect(splitSecretPath('/v1/secret/data/x?version=2')).toEqual({ path: 'secret/data/x', query: { version: '2' } });
    expect(splitSecretPath('v1/kv/x')).toEqual({ path: 'kv/x', query: {} });
    expect(splitSecretPath('database/creds/app?')).toEqual({ path: 'database/creds/app', query: {} });
  });

  it.each<[string, Record<string, string>, string]>([
    ['missing roleName', { roleName: '' }, 'roleName'],
    ['both mount parameters', { vaultKubernetesMountPath: 'a', vaultAuthMountPath: 'b' }, 'vaultAuthMountPath'],
    ['bad vaultSkipTLSVerify', { vaultSkipTLSVerify: 'maybe' }, 'vaultSkipTLSVerify'],
    ['no objects', { objects: '' }, 'objects'],
    ['objects not a list', { objects: 'objectName: a' }, 'objects'],
    ['objects not YAML', { objects: '- [unclosed' }, 'objects'],
    ['object without secretPath', { objects: '- objectName: a\n' }, 'objects[0].secretPath'],
    ['absolute objectName', { objects: '- objectName: /etc/passwd\n  secretPath: s/a\n' }, 'objects[0].objectName'],
    ['.. in objectName', { objects: '- objectName: a/../../b\n  secretPath: s/a\n' }, 'objects[0].objectName'],
    ['unclean objectName', { objects: '- objectName: a//b\n  secretPath: s/a\n' }, 'objects[0].objectName'],
    ['reserved ..name', { objects: '- objectName: ..data\n  secretPath: s/a\n' }, 'objects[0].objectName'],
    [
      'filePermission out of range',
      { objects: '- objectName: a\n  secretPath: s/a\n  filePermission: 01777\n' },
      'objects[0].filePermission',
    ],
    [
      'filePermission not a mode',
      { objects: '- objectName: a\n  secretPath: s/a\n  filePermission: rw\n' },
      'objects[0].filePermission',
    ],
    ['unknown encoding', { objects: '- objectName: a\n  secretPath: s/a\n  encoding: rot13\n' }, 'objects[0].encoding'],
    ['unknown method', { objects: '- objectName: a\n  secretPath: s/a\n  method: FETCH\n' }, 'objects[0].method'],
    [
      'secretArgs not a map',
      { objects: '- objectName: a\n  secretPath: s/a\n  secretArgs: [1]\n' },
      'objects[0].secretArgs',
    ],
    [
      'second object bad',
      { objects: '- objectName: a\n  secretPath: s/a\n- objectName: b\n  secretPath: [7]\n' },
      'objects[1].secretPath',
    ],
    ['objectName "."', { objects: '- objectName: .\n  secretPath: s/a\n' }, 'objects[0].objectName'],
    ['objectName with a trailing slash', { objects: '- objectName: a/\n  secretPath: s/a\n' }, 'objects[0].objectName'],
    ['objectName with a "." element', { objects: '- objectName: a/./b\n  secretPath: s/a\n' }, 'objects[0].objectName'],
    [
      'secretKey a mapping',
      { objects: '- objectName: a\n  secretPath: s/a\n  secretKey: {x: 1}\n' },
      'objects[0].secretKey',
    ],
    [
      'duplicate objectName',
      { objects: '- objectName: a\n  secretPath: s/a\n- objectName: a\n  secretPath: s/b\n' },
      'objects',
    ],
    [
      'tokens not JSON',
      { objects: '- objectName: a\n  secretPath: s/a\n', 'csi.storage.k8s.io/serviceAccount.tokens': '{' },
      'csi.storage.k8s.io/serviceAccount.tokens',
    ],
    [
      'no pod namespace',
      { objects: '- objectName: a\n  secretPath: s/a\n', 'csi.storage.k8s.io/pod.namespace': '' },
      'csi.storage.k8s.io/pod.namespace',
    ],
  ])('%s is refused naming %s', (_name, params, field) => {
    const objects: Record<string, string> =
      'objects' in params ? {} : { objects: '- objectName: a\n  secretPath: s/a\n' };
    const issues = issuesOf(() => parseMountRequest(request({ ...objects, ...params }), flags));
    expect(issues.map((issue) => issue.field)).toContain(field);
  });

  it('refuses attributes that are not a JSON map of strings, and a bad permission', () => {
    expect(
      issuesOf(() => parseMountRequest({ attributes: 'nope', targetPath: '/t', permission: '420' }, flags))[0]?.field,
    ).toBe('attributes');
    expect(
      issuesOf(() =>
        parseMountRequest(
          { attributes: JSON.stringify({ ...pod, roleName: 1 }), targetPath: '/t', permission: '420' },
          flags,
        ),
      ).map((i) => i.field),
    ).toContain('roleName');
    const bad = request({ objects: '- objectName: a\n  secretPath: s/a\n' }, '"rw"');
    expect(issuesOf(() => parseMountRequest(bad, flags)).map((i) => i.field)).toEqual(['permission']);
  });

  it.each<[string, Partial<{ targetPath: string; permission: string; secrets: string }>, string]>([
    ['an empty targetPath', { targetPath: '' }, 'targetPath'],
    ['a relative targetPath', { targetPath: 'pods/x/volumes/v' }, 'targetPath'],
    ['a targetPath with NUL', { targetPath: '/var/lib/kubelet/x\0y' }, 'targetPath'],
    ['an empty permission (upstream json.Unmarshal refuses it too)', { permission: '' }, 'permission'],
    ['a permission above 0777', { permission: '4095' }, 'permission'],
    ['a negative permission', { permission: '-1' }, 'permission'],
    ['secrets that are not JSON', { secrets: '{' }, 'secrets'],
    ['secrets that are a list', { secrets: '["a"]' }, 'secrets'],
    ['secrets with a non-string value', { secrets: '{"a":1}' }, 'secrets'],
  ])('the MountRequest with %s is refused naming %s', (_name, fields, field) => {
    const base = { ...request({ objects: '- objectName: a\n  secretPath: s/a\n' }), secrets: 'null' };
    const issues = issuesOf(() => parseMountRequest({ ...base, ...fields }, flags));
    expect(issues.map((issue) => issue.field)).toEqual([field]);
  });

  it('accepts what the driver sends for secrets: null, an object of strings, or nothing', () => {
    for (const secrets of ['null', '{"username":"u","password":"p"}', '', undefined]) {
      expect(
        parseMountRequest({ ...request({ objects: '- objectName: a\n  secretPath: s/a\n' }), secrets }, flags).objects,
      ).toHaveLength(1);
    }
  });

  it('reads every scalar of a string field as its text, as yaml.v3 does into Go strings', () => {
    const objects = [
      '- objectName: 1234',
      '  secretPath: secret/data/2024',
      '  secretKey: 2024',
      '- objectName: hex',
      '  secretPath: s/a',
      '  secretKey: 0x1F',
      '- objectName: float',
      '  secretPath: s/a',
      '  secretKey: 1.50',
      '- objectName: yes',
      '  secretPath: s/a',
      '  secretKey: true',
      '- objectName: nothing',
      '  secretPath: s/a',
      '  secretKey: ~',
      '- objectName: quoted',
      '  secretPath: s/a',
      '  secretKey: "007"',
      '',
    ].join('\n');
    const parsed = parseMountRequest(request({ objects }), flags).objects;
    expect(parsed.map((object) => [object.objectName, object.secretKey])).toEqual([
      ['1234', '2024'],
      ['hex', '0x1F'],
      ['float', '1.50'],
      ['yes', 'true'],
      ['nothing', undefined],
      ['quoted', '007'],
    ]);
    expect(parsed[0]?.raw).toMatchObject({ objectName: '1234', secretPath: 'secret/data/2024', secretKey: '2024' });
  });

  it('takes method LIST (any case) and the key list it answers', () => {
    const [object] = parseMountRequest(
      request({
        objects: '- objectName: keys\n  secretPath: secret/metadata/app\n  method: list\n  secretKey: keys\n',
      }),
      flags,
    ).objects;
    expect(object).toMatchObject({
      method: 'LIST',
      path: 'secret/metadata/app',
      secretKey: 'keys',
      raw: { method: 'list' },
    });
  });

  it('caps the objects of one mount before reading any of them', () => {
    const many = Array.from(
      { length: 6 },
      (_, index) => `- objectName: o${index}\n  secretPath: s/a\n  template: "{{#if x}}"`,
    ).join('\n');
    const issues = issuesOf(() => parseMountRequest(request({ objects: many }), { ...flags, maxObjectsPerMount: 5 }));
    // Only the cap: the broken templates were never compiled.
    expect(issues).toEqual([
      {
        field: 'objects',
        message: expect.stringContaining(
          'has 6 entries; at most 5 are mounted per volume (provider flag --max-objects-per-mount)',
        ),
      },
    ]);
    expect(
      parseMountRequest(request({ objects: many.replaceAll('template: "{{#if x}}"', 'secretKey: k') }), {
        ...flags,
        maxObjectsPerMount: 6,
      }).objects,
    ).toHaveLength(6);
  });

  it('lists every problem at once in the message', () => {
    try {
      parseMountRequest(
        request({ roleName: '', objects: '- objectName: ../x\n  secretPath: s/a\n  encoding: rot13\n' }),
        flags,
      );
      throw new Error('not refused');
    } catch (error) {
      expect((error as Error).message).toMatch(
        /roleName: .*objects\[0\]\.objectName: .*objects\[0\]\.encoding: must be utf-8, base64 or hex/,
      );
    }
  });
});

describe('object templates (ours)', () => {
  it.each([
    [
      'with secretKey',
      '  secretKey: password\n  template: "{{password}}"',
      'objects[0].template',
      'cannot be combined with secretKey',
    ],
    [
      'with encoding',
      '  encoding: base64\n  template: "{{password}}"',
      'objects[0].template',
      'cannot be combined with encoding',
    ],
    ['that does not compile', '  template: "{{#if x}}unclosed"', 'objects[0].template', ''],
    ['with an unknown helper', '  template: "{{nosuchhelper password}}"', 'objects[0].template', ''],
  ])('a template %s is refused, naming the field', (_name, yaml, field, text) => {
    const issues = issuesOf(() =>
      parseMountRequest(request({ objects: `- objectName: f\n  secretPath: secret/data/app\n${yaml}` }), flags),
    );
    expect(issues.map((issue) => issue.field)).toContain(field);
    if (text) expect(issues.find((issue) => issue.field === field)?.message).toContain(text);
  });
});
