import YAML from 'yaml';
import { SpecError } from './common.ts';
import { crds } from './crds.ts';
import { parseVaultAuthSpec } from './vault-auth.ts';
import { parseVaultConnectionSpec } from './vault-connection.ts';
import { parseVaultStaticSecretSpec } from './vault-static-secret.ts';
import { parseVaultDynamicSecretSpec } from './vault-dynamic-secret.ts';
import { parsePkiDuration, parseVaultPkiSecretSpec, pkiIssueBody, pkiIssuePath } from './vault-pki-secret.ts';
import fs from 'node:fs';
import path from 'node:path';
import { crdFileName, crdYaml, CRD_DIRECTORIES } from './crd-files.ts';
import { undescribedFields } from './kind-schema.ts';
import { KIND_TABLE } from './kind-table.ts';
import { parseSecretTransformationSpec } from './secret-transformation.ts';

test('the CRD files in the package and in the chart are what crds.ts generates (run `npm run crds` after a change)', () => {
  for (const directory of CRD_DIRECTORIES) {
    expect(fs.readdirSync(directory).sort()).toEqual(crds().map(crdFileName).sort());
    for (const definition of crds())
      expect(fs.readFileSync(path.join(directory, crdFileName(definition)), 'utf8')).toBe(crdYaml(definition));
  }
});

test("the chart's operator ClusterRole covers exactly the kind table's kinds and their status, per group", () => {
  const rbac = fs.readFileSync(
    path.join(
      import.meta.dirname,
      '..',
      '..',
      '..',
      '..',
      'charts',
      'vaultbridge',
      'charts',
      'operator',
      'templates',
      'rbac.yaml',
    ),
    'utf8',
  );
  // `- apiGroups: ["g"]` followed by `resources: [...]`: the rules of the kinds' groups, as written.
  const rules = [...rbac.matchAll(/apiGroups: \[([^\]]*)\]\s*\n\s*resources: \[([^\]]*)\]/g)].map(
    ([, groups, resources]) => ({
      groups: JSON.parse(`[${groups}]`) as string[],
      resources: JSON.parse(`[${resources}]`) as string[],
    }),
  );
  for (const group of new Set(KIND_TABLE.map((definition) => definition.group))) {
    const plurals = KIND_TABLE.filter((definition) => definition.group === group).map(
      (definition) => definition.plural,
    );
    const granted = rules.filter((rule) => rule.groups.includes(group)).flatMap((rule) => rule.resources);
    expect(granted.sort()).toEqual([...plurals, ...plurals.map((plural) => `${plural}/status`)].sort());
  }
});

test("the README's kind table has a row for every kind of the kind table", () => {
  const readme = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The kind table'), readme.indexOf('### Fields'));
  const rows = [...section.matchAll(/^\| (\w+) \| (synced|status) \|/gm)].map(([, kind, role]) => `${kind} ${role}`);
  expect(rows).toEqual(KIND_TABLE.map((definition) => `${definition.kind} ${definition.role}`));
});

test.each(crds().map((definition) => [definition.spec.names.kind, definition] as const))(
  'every field of the %s CRD has a description (kubectl explain)',
  (_kind, definition) => {
    expect(undescribedFields(definition.spec.versions[0]!.schema.openAPIV3Schema)).toEqual([]);
  },
);

// A spec setting every field the CRD lists parses, and the CRD lists no field the spec leaves out: the
// parser and the CRD come from one zod schema per kind, and this keeps it so.
const transformation = {
  templateEngine: 'go',
  templates: { url: { name: 'url', text: '{{ .Secrets.password }}' } },
  includes: ['^a'],
  excludes: ['^b'],
  excludeRaw: true,
  transformationRefs: [
    {
      namespace: 'shared',
      name: 'common',
      templateRefs: [{ name: 'dsn', keyOverride: 'DSN' }],
      ignoreIncludes: true,
      ignoreExcludes: false,
    },
  ],
};
const destination = {
  name: 'app',
  create: true,
  overwrite: false,
  labels: { team: 'web' },
  annotations: { note: 'x' },
  type: 'Opaque',
  transformation,
};
const common = {
  vaultAuthRef: 'auth',
  namespace: '',
  rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }],
  destination,
};
const fullSpecs: Array<[string, (raw: unknown) => unknown, Record<string, unknown>]> = [
  [
    'VaultStaticSecret',
    parseVaultStaticSecretSpec,
    {
      ...common,
      mount: 'secret',
      path: 'app',
      version: 2,
      type: 'kv-v2',
      refreshAfter: '30s',
      hmacSecretData: true,
      syncConfig: { instantUpdates: true },
    },
  ],
  [
    'VaultDynamicSecret',
    parseVaultDynamicSecretSpec,
    {
      ...common,
      mount: 'database',
      path: 'creds/app',
      requestHTTPMethod: 'PUT',
      params: { ttl: '1h' },
      renewalPercent: 50,
      revoke: true,
      allowStaticCreds: false,
      refreshAfter: '1h',
    },
  ],
  [
    'VaultPKISecret',
    parseVaultPkiSecretSpec,
    {
      ...common,
      mount: 'pki',
      role: 'web',
      issuerRef: 'root',
      revoke: true,
      clear: true,
      expiryOffset: '1h',
      commonName: 'a.example',
      altNames: ['b.example'],
      ipSans: ['10.0.0.1'],
      uriSans: ['spiffe://x'],
      otherSans: ['1.2.3;UTF8:x'],
      userIDs: ['u'],
      ttl: '7d',
      format: 'pem',
      privateKeyFormat: 'pkcs8',
      notAfter: '2030-01-01T00:00:00Z',
      excludeCNFromSans: true,
    },
  ],
  [
    'SecretTransformation',
    parseSecretTransformationSpec,
    {
      templateEngine: 'go',
      templates: { dsn: { name: 'dsn', text: '{{ template "x" . }}' } },
      sourceTemplates: [{ name: 'h', text: '{{ define "x" }}y{{ end }}' }],
      includes: ['^a'],
      excludes: ['^b'],
    },
  ],
];

test.each(fullSpecs)(
  '%s: a spec with every CRD field parses, and the CRD lists exactly those fields',
  (kind, parse, spec) => {
    expect(() => parse(spec)).not.toThrow();
    const definition = crds().find((candidate) => candidate.spec.names.kind === kind)!;
    type Node = { properties?: Record<string, Node>; items?: Node; additionalProperties?: Node };
    const fieldsOf = (node: Node | undefined, value: unknown, path: string): string[] => {
      if (node?.properties === undefined || typeof value !== 'object' || value === null) return [];
      const listed = Object.keys(node.properties).sort();
      expect([path, Object.keys(value).sort()]).toEqual([path, listed]);
      return Object.entries(value).flatMap(([key, child]) => {
        const childNode = node.properties![key];
        return Array.isArray(child)
          ? child.flatMap((item) => fieldsOf(childNode?.items, item, `${path}.${key}[]`))
          : fieldsOf(childNode, child, `${path}.${key}`);
      });
    };
    const schema = definition.spec.versions[0]!.schema.openAPIV3Schema as Node;
    fieldsOf(schema.properties!.spec, spec, 'spec');
  },
);

describe('VaultDynamicSecret spec', () => {
  const good = { mount: 'database', path: 'creds/app', destination: { name: 'db', create: true } };
  test('VSO defaults: GET, renewalPercent 67, no revoke', () => {
    expect(parseVaultDynamicSecretSpec(good)).toMatchObject({
      mount: 'database',
      path: 'creds/app',
      requestHTTPMethod: 'GET',
      params: {},
      renewalPercent: 67,
      revoke: false,
      rolloutRestartTargets: [],
    });
  });
  test('refreshAfter 0s is unset and a sub-second one is raised to 1 s (no refresh loop)', () => {
    expect(parseVaultDynamicSecretSpec({ ...good, refreshAfter: '0s' }).refreshAfterMs).toBeUndefined();
    expect(parseVaultDynamicSecretSpec({ ...good, refreshAfter: '0.01s' }).refreshAfterMs).toBe(1000);
  });
  test('renewalPercent 0 means the default, as VSO (omitempty)', () => {
    expect(parseVaultDynamicSecretSpec({ ...good, renewalPercent: 0 }).renewalPercent).toBe(67);
  });
  test('params make the request a PUT, as VSO does', () => {
    expect(
      parseVaultDynamicSecretSpec({ ...good, requestHTTPMethod: 'GET', params: { ttl: '1h' } }).requestHTTPMethod,
    ).toBe('PUT');
  });
  test.each([
    [
      { ...good, renewalPercent: 95 },
      'spec.renewalPercent: expected at most 90: renewing later leaves no time to retry, got 95',
    ],
    [{ ...good, requestHTTPMethod: 'DELETE' }, 'spec.requestHTTPMethod: expected one of GET, POST, PUT, got "DELETE"'],
    [{ ...good, path: '../sys/raw' }, 'spec.path: may not contain "." or ".." segments'],
    [{ ...good, params: { ttl: 5 } }, 'spec.params.ttl: expected a string'],
    [{ ...good, refreshAfter: 'soon' }, 'spec.refreshAfter: expected a duration like 30s, 5m or 1h, got "soon"'],
    [{ ...good, destination: { name: 'Bad_Name' } }, 'spec.destination.name: "Bad_Name" is not a valid Secret name'],
  ])('rejects %o naming the field', (spec, message) => {
    expect(() => parseVaultDynamicSecretSpec(spec)).toThrow(SpecError);
    expect(() => parseVaultDynamicSecretSpec(spec)).toThrow(message);
  });
});

test('one CRD per kind, group secrets.vaultbridge.dev v1beta1, status subresource and printer columns', () => {
  expect(crds().map((crd) => crd.metadata.name)).toEqual([
    'vaultconnections.secrets.vaultbridge.dev',
    'vaultauths.secrets.vaultbridge.dev',
    'vaultstaticsecrets.secrets.vaultbridge.dev',
    'vaultdynamicsecrets.secrets.vaultbridge.dev',
    'vaultpkisecrets.secrets.vaultbridge.dev',
    'secrettransformations.secrets.vaultbridge.dev',
    'vaultauthglobals.secrets.vaultbridge.dev',
  ]);
  for (const crd of crds()) {
    const [version] = crd.spec.versions;
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1beta1', served: true, storage: true, subresources: { status: {} } });
    expect(version!.additionalPrinterColumns.map((column) => column.name)).toEqual(
      expect.arrayContaining(['Healthy', 'Ready', 'Age']),
    );
    // Round-trips through YAML unchanged (what `npm run crds` writes).
    expect(YAML.parse(YAML.stringify(crd))).toEqual(crd);
  }
  const vss = crds()[2]!.spec.versions[0]!;
  expect(vss.additionalPrinterColumns[0]).toEqual({
    name: 'Synced',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="SecretSynced")].status',
  });
  const spec = (
    vss.schema.openAPIV3Schema as {
      properties: { spec: { required: string[]; properties: Record<string, { default?: unknown; enum?: string[] }> } };
    }
  ).properties.spec;
  expect(spec.required).toEqual(['mount', 'path', 'type', 'destination']);
  expect(spec.properties.hmacSecretData!.default).toBe(true);
  expect(spec.properties.type!.enum).toEqual(['kv-v1', 'kv-v2']);
});

const goodSpec = {
  mount: 'secret',
  path: 'app/db',
  type: 'kv-v2',
  refreshAfter: '30s',
  destination: { name: 'db', create: true },
};

test('a VSO VaultStaticSecret spec parses with VSO defaults', () => {
  expect(parseVaultStaticSecretSpec(goodSpec)).toEqual({
    mount: 'secret',
    path: 'app/db',
    type: 'kv-v2',
    refreshAfterMs: 30_000,
    hmacSecretData: true,
    instantUpdates: false,
    rolloutRestartTargets: [],
    destination: { name: 'db', create: true, overwrite: false, labels: {}, annotations: {}, type: 'Opaque' },
  });
  expect(parseVaultStaticSecretSpec({ ...goodSpec, syncConfig: { instantUpdates: true } }).instantUpdates).toBe(true);
});

test.each([
  ['missing type', { ...goodSpec, type: undefined }, 'spec.type'],
  ['unknown type', { ...goodSpec, type: 'kv-v3' }, 'spec.type'],
  ['bad duration', { ...goodSpec, refreshAfter: '5 minutes' }, 'spec.refreshAfter'],
  ['traversal in path', { ...goodSpec, path: 'app/../other' }, 'spec.path'],
  ['version with kv-v1', { ...goodSpec, type: 'kv-v1', version: 2 }, 'spec.version'],
  ['negative version', { ...goodSpec, version: -1 }, 'spec.version'],
  ['bad Secret name', { ...goodSpec, destination: { name: 'Not_A_Name' } }, 'spec.destination.name'],
  ['no destination', { ...goodSpec, destination: undefined }, 'spec.destination'],
  [
    'instantUpdates not a boolean',
    { ...goodSpec, syncConfig: { instantUpdates: 'yes' } },
    'spec.syncConfig.instantUpdates',
  ],
  ['syncConfig not an object', { ...goodSpec, syncConfig: 'instant' }, 'spec.syncConfig'],
  [
    'bad rollout kind',
    { ...goodSpec, rolloutRestartTargets: [{ kind: 'Pod', name: 'x' }] },
    'spec.rolloutRestartTargets[0].kind',
  ],
])('%s is refused naming %s', (_name, spec, field) => {
  expect(() => parseVaultStaticSecretSpec(spec)).toThrow(SpecError);
  try {
    parseVaultStaticSecretSpec(spec);
  } catch (error) {
    expect((error as SpecError).field).toBe(field);
  }
});

test('VaultAuth: kubernetes and appRole, tokenExpirationSeconds defaults to 600', () => {
  expect(
    parseVaultAuthSpec({ method: 'kubernetes', mount: 'kubernetes', kubernetes: { role: 'r', serviceAccount: 'sa' } })
      .kubernetes,
  ).toEqual({ role: 'r', serviceAccount: 'sa', audiences: ['vault'], tokenExpirationSeconds: 600 });
  expect(() => parseVaultAuthSpec({ method: 'aws', mount: 'aws' })).toThrow('spec.method: "aws" is not supported yet');
  expect(() => parseVaultAuthSpec({ method: 'jwt', mount: 'jwt', jwt: { role: 'r' } })).toThrow(
    'spec.jwt: needs exactly one of serviceAccount',
  );
  expect(() =>
    parseVaultAuthSpec({ method: 'jwt', mount: 'jwt', jwt: { role: 'r', serviceAccount: 'a', secretRef: 's' } }),
  ).toThrow('spec.jwt: needs exactly one of serviceAccount');
  expect(() => parseVaultAuthSpec({ method: 'appRole', mount: 'approle' })).toThrow('spec.appRole: is required');
  expect(() =>
    parseVaultAuthSpec({
      method: 'appRole',
      mount: 'approle',
      appRole: { roleId: 'r', secretIDPath: '/var/run/secret-id' },
    }),
  ).toThrow('spec.appRole.secretIDPath: is not supported');
  expect(
    parseVaultAuthSpec({ method: 'appRole', mount: 'approle', appRole: { roleId: 'r', secretRef: 'approle-id' } })
      .appRole,
  ).toEqual({ roleId: 'r', secretRef: 'approle-id' });
  expect(() => parseVaultAuthSpec({ method: 'kubernetes', mount: 'k', kubernetes: { role: 'r' } })).toThrow(
    'spec.kubernetes.serviceAccount',
  );
});

test('VaultConnection: address must be a URL and X-Vault-Namespace is refused as a header', () => {
  expect(parseVaultConnectionSpec({ address: 'http://127.0.0.1:8200' })).toEqual({
    address: 'http://127.0.0.1:8200',
    skipTLSVerify: false,
    headers: {},
  });
  expect(() => parseVaultConnectionSpec({ address: 'vault:8200' })).toThrow('spec.address');
  expect(() => parseVaultConnectionSpec({ address: 'https://v', headers: { 'x-vault-namespace': 'ns' } })).toThrow(
    'spec.headers',
  );
});

describe('VaultPKISecret spec', () => {
  const good = {
    mount: 'pki',
    role: 'web',
    commonName: 'web.example.test',
    altNames: ['a.example.test', 'b.example.test'],
    ttl: '7d',
    destination: { name: 'tls', create: true, type: 'kubernetes.io/tls' },
  };
  test("the request is VSO's through core's issueCertificate: lists comma-joined, roots removed from the chain, optional fields only when set", () => {
    const spec = parseVaultPkiSecretSpec(good);
    expect(pkiIssuePath(spec)).toBe('pki/issue/web');
    expect(pkiIssueBody(spec)).toEqual({
      common_name: 'web.example.test',
      alt_names: 'a.example.test,b.example.test',
      ttl: '7d',
      remove_roots_from_chain: true,
      format: 'pem',
    });
    expect(
      pkiIssueBody(
        parseVaultPkiSecretSpec({
          ...good,
          format: 'pem_bundle',
          privateKeyFormat: 'pkcs8',
          userIDs: ['u1', 'u2'],
          excludeCNFromSans: true,
        }),
      ),
    ).toMatchObject({
      format: 'pem_bundle',
      private_key_format: 'pkcs8',
      user_ids: 'u1,u2',
      exclude_cn_from_sans: true,
    });
  });
  test('issuerRef goes into the path with /issue/ (VSO 1.4.1 left it out)', () => {
    expect(pkiIssuePath(parseVaultPkiSecretSpec({ ...good, issuerRef: 'intermediate-2026' }))).toBe(
      'pki/issuer/intermediate-2026/issue/web',
    );
  });
  test('durations take days', () => {
    expect(parsePkiDuration('7d', 'f')).toBe(7 * 86_400_000);
    expect(parsePkiDuration('1.5h', 'f')).toBe(5_400_000);
    expect(parseVaultPkiSecretSpec({ ...good, expiryOffset: '2d' }).expiryOffsetMs).toBe(2 * 86_400_000);
  });
  test.each([
    [{ ...good, role: '../sys' }, 'spec.role: "../sys" is not a PKI role name'],
    [{ ...good, ttl: '1w' }, 'spec.ttl: expected a duration like 30s, 12h or 7d, got "1w"'],
    [{ ...good, format: 'p12' }, 'spec.format: expected one of pem, der, pem_bundle, got "p12"'],
    [{ ...good, notAfter: 'tomorrow' }, 'spec.notAfter: "tomorrow" is not YYYY-MM-ddTHH:MM:SSZ'],
    [{ ...good, altNames: 'a,b' }, 'spec.altNames: expected a list of strings'],
    [{ ...good, issuerRef: 'x/../y' }, 'spec.issuerRef'],
  ])('rejects %o naming the field', (spec, message) => {
    expect(() => parseVaultPkiSecretSpec(spec)).toThrow(SpecError);
    expect(() => parseVaultPkiSecretSpec(spec)).toThrow(message);
  });
});
