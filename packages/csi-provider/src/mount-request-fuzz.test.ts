// Hostile SecretProviderClass input, generated: whatever the driver forwards as a MountRequest
// (attributes JSON with any parameter values, any `objects` YAML, any target path and permission),
// parseMountRequest answers with a MountConfig or a MountConfigError naming each field at fault —
// never another exception, never a hang — and never echoes a service-account token in its message.
import fc from 'fast-check';
import { MountConfigError } from './errors.ts';
import { parseMountRequest, type ProviderFlags } from './config.ts';

const FLAGS: ProviderFlags = { vaultAddr: 'https://vault.vault.svc:8200', vaultMount: 'kubernetes', tls: {} };
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.fuzz-token-never-printed.sig';

const objectEntry = fc.record(
  {
    objectName: fc.oneof(
      fc.constantFrom('db', 'a/b', '.', 'a/', '../x', '', 'x\u0000y', '2024'),
      fc.string({ maxLength: 20 }),
      fc.integer(),
    ),
    secretPath: fc.oneof(
      fc.constantFrom('secret/data/app', 'secret/metadata/app', 'database/creds/app', 'kv/x?version=2', ''),
      fc.string({ maxLength: 30 }),
    ),
    secretKey: fc.oneof(fc.constantFrom('password', 'keys', ''), fc.string({ maxLength: 12 }), fc.integer()),
    method: fc.oneof(fc.constantFrom('GET', 'LIST', 'PUT', 'POST', 'get', 'DELETE'), fc.string({ maxLength: 6 })),
    secretArgs: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    filePermission: fc.oneof(fc.constantFrom(384, 420, 0o777, -1, 99999), fc.jsonValue({ maxDepth: 1 })),
    encoding: fc.oneof(fc.constantFrom('utf-8', 'base64', 'hex', 'nope'), fc.string({ maxLength: 8 })),
    template: fc.oneof(
      fc.constantFrom('{{ .password }}', '{{', '{{#each x}}', '{{ secret "x" }}'),
      fc.string({ maxLength: 20 }),
    ),
  },
  { requiredKeys: [] },
);

/** `objects` as the SPC carries it: YAML text of a list (or anything else a user might paste). */
const objectsYaml = fc.oneof(
  fc.array(objectEntry, { maxLength: 4 }).map((entries) => JSON.stringify(entries)),
  fc.array(objectEntry, { maxLength: 3 }).map((entries) =>
    entries
      .map(
        (entry) =>
          `- ${Object.entries(entry)
            .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
            .join('\n  ')}`,
      )
      .join('\n'),
  ),
  fc.constantFrom(
    '',
    '[]',
    '{}',
    '- a\n- b',
    '&a [*a]',
    '- {objectName: x, secretPath: "secret/data/a", secretKey: k}',
    ': : :',
    '\t- x',
  ),
  fc.string({ maxLength: 60 }),
);

const parameter = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', 'true', 'false', 'https://vault:8200', 'http://[::1', '/abs', 'kubernetes/'),
);
const attributes = fc.record(
  {
    roleName: parameter,
    vaultAddress: parameter,
    vaultKubernetesMountPath: parameter,
    vaultAuthMountPath: parameter,
    vaultNamespace: parameter,
    vaultSkipTLSVerify: parameter,
    vaultCACertPath: parameter,
    audience: parameter,
    objects: objectsYaml,
    'csi.storage.k8s.io/pod.name': parameter,
    'csi.storage.k8s.io/pod.namespace': parameter,
    'csi.storage.k8s.io/pod.uid': parameter,
    'csi.storage.k8s.io/serviceAccount.name': parameter,
    'csi.storage.k8s.io/serviceAccount.tokens': fc.oneof(
      fc.constant(JSON.stringify({ vault: { token: TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' } })),
      fc.constant(JSON.stringify({ other: { token: TOKEN } })),
      fc.string({ maxLength: 40 }),
    ),
  },
  { requiredKeys: [] },
);
const rawAttributes = fc.oneof(
  attributes.map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 60 }),
);
const request = fc.record({
  attributes: rawAttributes,
  targetPath: fc.oneof(
    fc.constantFrom('', '/var/lib/kubelet/pods/u/volumes/x/mount', 'relative', '/'),
    fc.string({ maxLength: 30 }),
  ),
  permission: fc.oneof(fc.constantFrom('', '420', '"420"', '0644', '-1', 'abc'), fc.string({ maxLength: 8 })),
  secrets: fc.option(fc.oneof(fc.constant('{}'), fc.string({ maxLength: 20 })), { nil: undefined }),
});

test('every generated MountRequest is parsed or refused with field-naming issues, never thrown otherwise', () => {
  fc.assert(
    fc.property(request, (mountRequest) => {
      try {
        const config = parseMountRequest(mountRequest, FLAGS);
        // Accepted: the essentials are there and well-formed.
        expect(config.roleName.trim()).not.toBe('');
        expect(config.targetPath.startsWith('/')).toBe(true);
      } catch (error) {
        if (!(error instanceof MountConfigError)) throw error;
        expect(error.issues.length).toBeGreaterThan(0);
        for (const issue of error.issues) {
          expect(issue.field).not.toBe('');
          expect(issue.message).not.toBe('');
        }
        expect(error.message).not.toContain(TOKEN);
      }
    }),
    { seed: 20261206, numRuns: 400 },
  );
});
