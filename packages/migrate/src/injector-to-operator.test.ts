import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  parseVaultAuthSpec,
  parseVaultConnectionSpec,
  parseVaultDynamicSecretSpec,
  parseVaultStaticSecretSpec,
} from '@vaultbridge/operator';
import { parseManifests, type Manifest } from './manifests.ts';
import { migrate } from './migrate.ts';

const examples = parseManifests(
  readFileSync(path.join(import.meta.dirname, 'fixtures/injector-examples.yaml'), 'utf8'),
  'injector-examples.yaml',
);
const defaults = { vaultAddress: 'https://vault.vault.svc:8200' };
const { manifests, findings } = migrate(examples, { to: 'operator', injectorDefaults: defaults });

const byKind = (kind: string) =>
  manifests.filter((m) => m.kind === kind) as Array<
    Manifest & { metadata: { name: string; namespace: string }; spec: any }
  >;
const podOf = (kind: string) => byKind(kind)[0]!.spec.template as { metadata: { annotations?: object }; spec: any };
const reasons = (kind: string) => findings.filter((f) => f.source.kind === kind).map((f) => [f.severity, f.field]);

test('one VaultConnection and one VaultAuth serve every workload of the namespace with the same identity', () => {
  expect(byKind('VaultConnection')).toEqual([
    {
      apiVersion: 'secrets.vaultbridge.dev/v1beta1',
      kind: 'VaultConnection',
      metadata: { name: 'vault', namespace: 'web' },
      spec: { address: 'https://vault.vault.svc:8200' },
    },
  ]);
  const auths = byKind('VaultAuth');
  expect(auths.map((a) => [a.metadata.name, a.spec])).toEqual([
    [
      'app-example-web',
      {
        vaultConnectionRef: 'vault',
        method: 'kubernetes',
        mount: 'kubernetes',
        kubernetes: { role: 'web', serviceAccount: 'app-example' },
      },
    ],
    [
      'default-web',
      {
        vaultConnectionRef: 'vault',
        method: 'kubernetes',
        mount: 'kubernetes',
        kubernetes: { role: 'web', serviceAccount: 'default' },
      },
    ],
  ]);
  // The operator's own parsers accept what was written.
  for (const connection of byKind('VaultConnection'))
    expect(() => parseVaultConnectionSpec(connection.spec)).not.toThrow();
  for (const auth of auths) expect(() => parseVaultAuthSpec(auth.spec)).not.toThrow();
});

test('a database path becomes a VaultDynamicSecret and a KV v2 path a VaultStaticSecret, each file a templated key', () => {
  const dynamic = byKind('VaultDynamicSecret');
  expect(dynamic.map((d) => [d.metadata.name, d.spec.mount, d.spec.path, d.spec.vaultAuthRef])).toEqual([
    ['app-example-database-config.txt', 'database', 'creds/db-app', 'app-example-web'],
  ]);
  expect(dynamic[0]!.spec.destination).toEqual({
    name: 'app-example-database-config.txt',
    create: true,
    transformation: {
      excludes: ['.*'],
      excludeRaw: true,
      templates: {
        'database-config.txt': {
          text: '{{#with Secrets}}postgres://{{username}}:{{password}}@postgres:5432/appdb?sslmode=disable\n{{/with}}',
        },
      },
    },
  });
  const statics = byKind('VaultStaticSecret');
  expect(statics.map((s) => [s.metadata.name, s.spec.mount, s.spec.path, s.spec.type, s.spec.refreshAfter])).toEqual([
    ['app-example-app-config', 'secret', 'web/config', 'kv-v2', '5m'],
    ['pi-foo', 'secret', 'web/config', 'kv-v2', '5m'],
    ['db-client-creds', 'secret', 'web/config', 'kv-v2', '5m'],
  ]);
  expect(statics[2]!.spec.destination.transformation.templates).toEqual({
    'db_creds.json': { text: '{{json Secrets}}\n' },
  });
  for (const object of dynamic) expect(() => parseVaultDynamicSecretSpec(object.spec)).not.toThrow();
  for (const object of statics) {
    expect(() => parseVaultStaticSecretSpec(object.spec)).not.toThrow();
  }
});

test('the pod loses its injector annotations and mounts the Secrets where the agent wrote the files', () => {
  const pod = podOf('Deployment');
  expect(pod.metadata.annotations).toBeUndefined();
  expect(pod.spec.volumes).toEqual([
    {
      name: 'vault-secrets',
      projected: {
        sources: [
          { secret: { name: 'app-example-app-config', items: [{ key: 'app-config', path: 'app-config' }] } },
          {
            secret: {
              name: 'app-example-database-config.txt',
              items: [{ key: 'database-config.txt', path: 'database-config.txt' }],
            },
          },
        ],
      },
    },
  ]);
  expect(pod.spec.containers[0].volumeMounts).toEqual([
    { name: 'vault-secrets', mountPath: '/vault/secrets', readOnly: true },
  ]);
});

test('a custom directory, file name and mode come back as the projected item; init containers get the mount too', () => {
  const pod = podOf('StatefulSet');
  expect(pod.spec.volumes).toEqual([
    {
      name: 'vault-secrets-custom-0',
      projected: {
        sources: [
          {
            secret: { name: 'db-client-creds', items: [{ key: 'db_creds.json', path: 'db/creds.json', mode: 0o400 }] },
          },
        ],
      },
    },
  ]);
  const mount = { name: 'vault-secrets-custom-0', mountPath: '/etc/secrets', readOnly: true };
  expect(pod.spec.containers[0].volumeMounts).toEqual([mount]);
  expect(pod.spec.initContainers[0].volumeMounts).toEqual([mount]);
});

test('the report names each annotation that does not carry over', () => {
  expect(reasons('Deployment')).toEqual(
    expect.arrayContaining([
      ['changed', 'metadata.annotations["vault.hashicorp.com/agent-inject-template-database-config.txt"]'],
      ['info', 'metadata.annotations["vault.hashicorp.com/agent-limits-cpu"]'],
    ]),
  );
  expect(reasons('Job')).toContainEqual([
    'changed',
    'metadata.annotations["vault.hashicorp.com/agent-pre-populate-only"]',
  ]);
  expect(reasons('StatefulSet')).toContainEqual([
    'dropped',
    'metadata.annotations["vault.hashicorp.com/agent-inject-command-creds"]',
  ]);
  // The agent used the pod's own token; the operator's VaultAuth mints one for audience "vault".
  expect(
    findings
      .filter((f) => f.field === 'metadata.annotations["vault.hashicorp.com/role"]')
      .map((f) => [f.severity, f.source.kind, f.reason.match(/audience "vault"/)?.[0]]),
  ).toEqual([
    ['info', 'Deployment', 'audience "vault"'],
    ['info', 'Job', 'audience "vault"'],
    ['info', 'StatefulSet', 'audience "vault"'],
  ]);
  expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
});

test('the output keeps every document, VaultConnections and VaultAuths first, synced objects before their workload', () => {
  expect(manifests.map((m) => m.kind)).toEqual([
    'VaultConnection',
    'VaultAuth',
    'VaultAuth',
    'VaultStaticSecret',
    'VaultDynamicSecret',
    'Deployment',
    'VaultStaticSecret',
    'Job',
    'VaultStaticSecret',
    'StatefulSet',
  ]);
});

describe('what cannot move is an error naming the annotation', () => {
  const pod = (annotations: Record<string, string>): Manifest => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      namespace: 'web',
      annotations: { 'vault.hashicorp.com/agent-inject': 'true', 'vault.hashicorp.com/role': 'web', ...annotations },
    },
    spec: { containers: [{ name: 'app', image: 'app' }] },
  });
  test.each([
    [
      'the token sink',
      {
        'vault.hashicorp.com/agent-inject-token': 'true',
        'vault.hashicorp.com/agent-inject-secret-a': 'secret/data/a',
      },
      'vault.hashicorp.com/agent-inject-token',
      /log in itself/,
    ],
    [
      'the agent cache listener',
      {
        'vault.hashicorp.com/agent-cache-enable': 'true',
        'vault.hashicorp.com/agent-inject-secret-a': 'secret/data/a',
      },
      'vault.hashicorp.com/agent-cache-enable',
      /listener/,
    ],
    [
      'a template file',
      { 'vault.hashicorp.com/agent-inject-template-file-a': '/vault/custom/a.tmpl' },
      'vault.hashicorp.com/agent-inject-template-file-a',
      /cannot read/,
    ],
    [
      'a CA file in the agent container',
      {
        'vault.hashicorp.com/ca-cert': '/vault/custom/ca.pem',
        'vault.hashicorp.com/agent-inject-secret-a': 'secret/data/a',
      },
      'vault.hashicorp.com/ca-cert',
      /caCertSecretRef/,
    ],
    [
      'a Go (consul-template) template',
      {
        'vault.hashicorp.com/agent-inject-secret-a': 'secret/data/a',
        'vault.hashicorp.com/agent-inject-template-a':
          '{{- with secret "secret/data/a" -}}{{ .Data.data.password }}{{- end }}',
      },
      'vault.hashicorp.com/agent-inject-template-a',
      /Go \(consul-template\) template/,
    ],
    [
      'a template no engine compiles',
      {
        'vault.hashicorp.com/agent-inject-secret-a': 'secret/data/a',
        'vault.hashicorp.com/agent-inject-template-a': '{{#if}}',
      },
      'vault.hashicorp.com/agent-inject-template-a',
      /injector refuses this pod.*does not parse|agent cannot render this template/,
    ],
    [
      'a pod the injector refuses',
      { 'vault.hashicorp.com/agent-pre-populate': 'maybe' },
      'vault.hashicorp.com/agent-pre-populate',
      /injector refuses/,
    ],
  ])('%s', (_name, annotations, annotation, reason) => {
    const input = pod(annotations);
    const result = migrate([input], { to: 'operator', injectorDefaults: defaults });
    expect(result.findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        field: `metadata.annotations[${JSON.stringify(annotation)}]`,
        reason: expect.stringMatching(reason),
      }),
    );
    // All or nothing: the pod keeps the injector (and no VaultConnection or VaultAuth is left behind).
    expect(result.manifests).toEqual([input]);
  });

  test('a pod the injector already mutated is not converted (its agent containers are in it)', () => {
    const injected = pod({
      'vault.hashicorp.com/agent-inject-status': 'injected',
      'vault.hashicorp.com/agent-inject-secret-a': 'secret/data/a',
    });
    const result = migrate([injected], { to: 'operator', injectorDefaults: defaults });
    expect(result.manifests).toEqual([injected]);
    expect(result.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        field: 'metadata.annotations["vault.hashicorp.com/agent-inject-status"]',
      }),
    ]);
  });

  test('a CA from tls-secret under ca.crt becomes caCertSecretRef', () => {
    const result = migrate(
      [
        pod({
          'vault.hashicorp.com/tls-secret': 'vault-tls',
          'vault.hashicorp.com/ca-cert': '/vault/tls/ca.crt',
          'vault.hashicorp.com/agent-inject-secret-a': 'secret/data/a',
        }),
      ],
      { to: 'operator', injectorDefaults: defaults },
    );
    expect(result.manifests[0]).toMatchObject({ kind: 'VaultConnection', spec: { caCertSecretRef: 'vault-tls' } });
    expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});

test('two workloads with the same name (a Deployment and a StatefulSet) get distinct objects and Secrets', () => {
  const workload = (kind: string): Manifest => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web', namespace: 'web' },
    spec: {
      template: {
        metadata: {
          annotations: {
            'vault.hashicorp.com/agent-inject': 'true',
            'vault.hashicorp.com/role': 'web',
            'vault.hashicorp.com/agent-inject-secret-config': 'secret/data/web/config',
          },
        },
        spec: { containers: [{ name: 'app', image: 'app' }] },
      },
    },
  });
  const input = [
    workload('Deployment'),
    workload('StatefulSet'),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-config-3', namespace: 'web' } },
  ];
  const result = migrate(input, { to: 'operator', injectorDefaults: defaults });
  const statics = result.manifests.filter((m) => m.kind === 'VaultStaticSecret') as Array<{
    metadata: { name: string };
    spec: { destination: { name: string } };
  }>;
  expect(statics.map((s) => [s.metadata.name, s.spec.destination.name])).toEqual([
    ['web-config', 'web-config'],
    ['web-config-2', 'web-config-2'],
  ]);
});
