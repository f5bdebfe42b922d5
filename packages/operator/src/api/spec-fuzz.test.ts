// Hostile custom resource specs, generated: whatever a tenant writes (the CRD schema is only a first
// filter: it can be changed or bypassed by an older CRD), each parser at the edge returns a typed spec or
// throws a SpecError naming a field under `spec`; never another exception, never a hang. Specs are
// built from a valid one with any JSON value put anywhere, plus strings chosen to hurt (regexes, paths,
// templates, prototype names).
import fc from 'fast-check';
import { SpecError } from './common.ts';
import { parseSecretTransformationSpec } from './secret-transformation.ts';
import { parseVaultAuthSpec } from './vault-auth.ts';
import { parseVaultAuthGlobalSpec } from './vault-auth-global.ts';
import { parseVaultConnectionSpec } from './vault-connection.ts';
import { parseVaultDynamicSecretSpec } from './vault-dynamic-secret.ts';
import { parseVaultPkiSecretSpec } from './vault-pki-secret.ts';
import { parseVaultStaticSecretSpec } from './vault-static-secret.ts';

const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../../etc',
    '/abs',
    'a\u0000b',
    '__proto__',
    'constructor',
    'toString',
    '^(a+)+$',
    '(?=x)',
    '(a)\\1',
    'a{1001}',
    '[',
    '{{',
    '{{.Secrets.x}}',
    '{{template "x"}}',
    '{{define "x"}}{{template "x"}}{{end}}',
    '{{range 100000000}}x{{end}}',
    '1h',
    '-1s',
    '99999999999h',
    'https://vault:8200',
    'unix:///x',
    'vault:8200',
    'kubernetes.io/service-account-token',
    'helm.sh/release.v1',
    'Opaque',
    'x'.repeat(5000),
  ),
  fc.string({ maxLength: 40 }),
);
const anyValue = fc.oneof(hostileString, fc.jsonValue({ maxDepth: 3 }), fc.constant(null), fc.constant(undefined));
/** A deep nesting, as a hostile client may send (the API server caps depth at 10 000). */
const deep = fc.integer({ min: 50, max: 2000 }).map((depth) => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
});

/** `base` with up to four paths (existing or new) set to hostile values. */
function mutated(base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths = collectPaths(base);
  const edit = fc.tuple(
    fc.oneof(
      fc.constantFrom(...paths),
      fc.array(fc.oneof(fc.constantFrom(...paths.flat()), hostileString), { minLength: 1, maxLength: 3 }),
    ),
    fc.oneof(anyValue, deep),
  );
  return fc.array(edit, { maxLength: 4 }).map((edits) => {
    const spec = structuredClone(base);
    for (const [path, value] of edits) setPath(spec, path, value);
    return spec;
  });
}

function collectPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const own = Object.entries(value).flatMap(([key, child]) => collectPaths(child, [...prefix, key]));
  return prefix.length === 0 ? own : [prefix, ...own];
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next !== 'object' || next === null) {
      const created: Record<string, unknown> = {};
      Object.defineProperty(node, key, { value: created, enumerable: true, writable: true, configurable: true });
      node = created;
    } else node = next as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
}

const destination = {
  name: 'app',
  create: true,
  labels: { team: 'web' },
  transformation: { templates: { url: { text: '{{ .Secrets.password }}' } }, excludes: ['^x$'], includes: ['.'] },
};
const parsers: Array<[string, (raw: unknown) => unknown, Record<string, unknown>]> = [
  [
    'VaultConnection',
    parseVaultConnectionSpec,
    { address: 'https://vault:8200', skipTLSVerify: false, headers: { a: 'b' }, caCertSecretRef: 'ca' },
  ],
  [
    'VaultAuth',
    parseVaultAuthSpec,
    {
      method: 'kubernetes',
      mount: 'kubernetes',
      allowedNamespaces: ['a'],
      kubernetes: { role: 'r', serviceAccount: 'app', audiences: ['vault'], tokenExpirationSeconds: 600 },
    },
  ],
  [
    'VaultAuthGlobal',
    parseVaultAuthGlobalSpec,
    {
      allowedNamespaces: ['a'],
      defaultAuthMethod: 'kubernetes',
      defaultMount: 'kubernetes',
      headers: { a: 'b' },
      kubernetes: { role: 'r', serviceAccount: 'app', audiences: ['vault'], mount: 'k8s' },
      jwt: { role: 'r', secretRef: 'jwt' },
      appRole: { roleId: 'r', secretRef: 'id' },
    },
  ],
  [
    'VaultStaticSecret',
    parseVaultStaticSecretSpec,
    {
      vaultAuthRef: 'auth',
      mount: 'secret',
      path: 'app',
      type: 'kv-v2',
      refreshAfter: '30s',
      destination,
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
    },
  ],
  [
    'VaultDynamicSecret',
    parseVaultDynamicSecretSpec,
    { mount: 'database', path: 'creds/app', params: { ttl: '1h' }, renewalPercent: 67, destination },
  ],
  [
    'VaultPKISecret',
    parseVaultPkiSecretSpec,
    {
      mount: 'pki',
      role: 'web',
      commonName: 'a.example',
      altNames: ['b.example'],
      ttl: '1h',
      expiryOffset: '5m',
      destination,
    },
  ],
  [
    'SecretTransformation',
    parseSecretTransformationSpec,
    { templates: { url: { text: '{{ .Secrets.password }}' } }, includes: ['^a'], excludes: ['b$'] },
  ],
];

describe.each(parsers)('%s spec parser', (_kind, parse, valid) => {
  test('accepts the valid base spec', () => {
    expect(() => parse(valid)).not.toThrow();
  });

  test('any hostile spec: a typed spec or a SpecError naming a field under spec, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(valid), anyValue, deep), (raw) => {
        try {
          parse(raw);
        } catch (error) {
          if (!(error instanceof SpecError)) throw new Error(`not a SpecError: ${String(error)}`, { cause: error });
          expect(error.field).toMatch(/^spec(\.|\[|$)/);
          expect(error.message.length).toBeGreaterThan(error.field.length + 2);
        }
      }),
      { numRuns: 300 },
    );
  });
});
