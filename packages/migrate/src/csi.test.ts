import { readFileSync } from 'node:fs';
import path from 'node:path';
import { objectContent } from '@vaultbridge/csi-provider';
import {
  parseVaultAuthSpec,
  parseVaultDynamicSecretSpec,
  parseVaultPkiSecretSpec,
  parseVaultStaticSecretSpec,
} from '@vaultbridge/operator';
import { parseManifests, type Manifest } from './manifests.ts';
import { migrate } from './migrate.ts';
import { parseSpc } from './spc.ts';

const load = (name: string) =>
  parseManifests(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8'), name);
const csiExamples = load('csi-examples.yaml');
type Any = Manifest & { metadata: { name: string; namespace: string }; spec: any };
const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind) as Any[];

describe('SecretProviderClass → operator', () => {
  const { manifests, findings } = migrate(csiExamples, { to: 'operator' });

  test('one synced object per Vault request, each object a templated key', () => {
    const statics = ofKind(manifests, 'VaultStaticSecret');
    expect(statics.map((s) => [s.metadata.name, s.spec.mount, s.spec.path, s.spec.type, s.spec.vaultAuthRef])).toEqual([
      ['vault-database-db-password', 'secret', 'db-pass', 'kv-v2', 'webapp-sa-database'],
    ]);
    // secretObjects' dbpass is written by this object: its name and type, its key beside the file keys.
    expect(statics[0]!.spec.destination).toEqual({
      name: 'dbpass',
      create: true,
      overwrite: true,
      type: 'Opaque',
      transformation: {
        excludes: ['.*'],
        excludeRaw: true,
        templates: {
          'db-password': { text: '{{get Secrets "password"}}' },
          'db-username': { text: '{{get Secrets "username"}}' },
          password: { text: '{{get Secrets "password"}}' },
        },
      },
    });
    const dynamic = ofKind(manifests, 'VaultDynamicSecret');
    expect(dynamic.map((d) => [d.spec.mount, d.spec.path])).toEqual([['database', 'creds/test-role']]);
    const pki = ofKind(manifests, 'VaultPKISecret');
    expect(pki.map((p) => [p.spec.mount, p.spec.role, p.spec.commonName, p.spec.altNames, p.spec.ttl])).toEqual([
      ['pki', 'example-dot-com', 'test.example.com', ['a.example.com', 'b.example.com'], '24h'],
    ]);
    expect(pki[0]!.spec.destination.transformation.templates).toEqual({
      'certs_tls.crt': { text: '{{get Secrets "certificate"}}' },
    });
    for (const s of statics) expect(() => parseVaultStaticSecretSpec(s.spec)).not.toThrow();
    for (const d of dynamic) expect(() => parseVaultDynamicSecretSpec(d.spec)).not.toThrow();
    for (const p of pki) expect(() => parseVaultPkiSecretSpec(p.spec)).not.toThrow();
  });

  test("the VaultAuth logs in as the pod's service account with the SPC's role", () => {
    const [auth] = ofKind(manifests, 'VaultAuth');
    expect(auth!.spec).toEqual({
      vaultConnectionRef: 'vault',
      method: 'kubernetes',
      mount: 'kubernetes',
      kubernetes: { role: 'database', serviceAccount: 'webapp-sa' },
    });
    expect(() => parseVaultAuthSpec(auth!.spec)).not.toThrow();
    expect(ofKind(manifests, 'VaultConnection')[0]!.spec).toEqual({ address: 'http://vault.default:8200' });
  });

  test('the CSI volume becomes a projected volume of the same name, so the mounts stay', () => {
    const [pod] = ofKind(manifests, 'Pod');
    expect(pod!.spec.volumes).toEqual([
      {
        name: 'secrets-store-inline',
        projected: {
          sources: [
            {
              secret: {
                name: 'dbpass',
                items: [
                  { key: 'db-password', path: 'db-password' },
                  { key: 'db-username', path: 'db-username', mode: 0o600 },
                ],
              },
            },
            { secret: { name: 'vault-database-dynamic-user', items: [{ key: 'dynamic-user', path: 'dynamic-user' }] } },
            {
              secret: {
                name: 'vault-database-certs-tls.crt',
                items: [{ key: 'certs_tls.crt', path: 'certs/tls.crt' }],
              },
            },
          ],
        },
      },
    ]);
    expect(pod!.spec.containers[0].volumeMounts).toEqual([
      { name: 'secrets-store-inline', mountPath: '/mnt/secrets-store', readOnly: true },
    ]);
    expect(ofKind(manifests, 'SecretProviderClass')).toEqual([]);
  });

  test('the report names secretObjects and the PKI lifecycle, and nothing is an error', () => {
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(findings.map((f) => [f.severity, f.field])).toEqual(
      expect.arrayContaining([
        ['changed', 'spec.secretObjects[0]'],
        ['changed', 'spec.parameters.objects[3].secretPath'],
      ]),
    );
  });

  test('a synced Secret whose objects come from two Vault requests cannot be written by one object', () => {
    const spc = structuredClone(csiExamples[0]!) as Any;
    spc.spec.secretObjects = [
      {
        secretName: 'mixed',
        type: 'Opaque',
        data: [
          { objectName: 'db-password', key: 'a' },
          { objectName: 'dynamic-user', key: 'b' },
        ],
      },
    ];
    const result = migrate([spc, csiExamples[1]!], { to: 'operator' });
    expect(result.findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        field: 'spec.secretObjects[0]',
        reason: expect.stringMatching(/2 Vault requests/),
      }),
    );
  });

  test('a SecretProviderClass the provider refuses is reported with its field and left as it is', () => {
    const broken = structuredClone(csiExamples[0]!) as Any;
    broken.spec.parameters.objects = '- objectName: ../x\n  secretPath: secret/data/a\n';
    const result = migrate([broken], { to: 'operator' });
    expect(result.manifests).toEqual([broken]);
    expect(result.findings).toContainEqual(
      expect.objectContaining({ severity: 'error', field: 'spec.parameters.objects[0].objectName' }),
    );
  });

  test('an object that cannot move (hex encoding) keeps the whole SPC and its pod volume', () => {
    const spc = structuredClone(csiExamples[0]!) as Any;
    spc.spec.parameters.objects +=
      '- objectName: "blob"\n  secretPath: "secret/data/db-pass"\n  secretKey: "blob"\n  encoding: hex\n';
    const result = migrate([spc, csiExamples[1]!], { to: 'operator' });
    expect(result.manifests).toEqual([spc, csiExamples[1]]);
    expect(result.findings).toContainEqual(
      expect.objectContaining({ severity: 'error', field: 'spec.parameters.objects[4].encoding' }),
    );
    expect(result.findings).toContainEqual(
      expect.objectContaining({ severity: 'error', field: 'spec', reason: expect.stringMatching(/not converted/) }),
    );
  });

  test('an SPC without vaultAddress needs the provider address', () => {
    const bare = structuredClone(csiExamples[0]!) as Any;
    delete bare.spec.parameters.vaultAddress;
    expect(migrate([bare], { to: 'operator' }).findings).toContainEqual(
      expect.objectContaining({ severity: 'error', field: 'spec.parameters.vaultAddress' }),
    );
    expect(
      ofKind(
        migrate([bare], { to: 'operator', providerVaultAddress: 'https://vault:8200' }).manifests,
        'VaultConnection',
      )[0]!.spec.address,
    ).toBe('https://vault:8200');
  });
});

describe('and back: operator → SecretProviderClass', () => {
  const there = migrate(csiExamples, { to: 'operator' });
  const back = migrate(there.manifests, { to: 'csi' });

  test('the round trip gives the same objects, connection and pod volume', () => {
    const [spc] = ofKind(back.manifests, 'SecretProviderClass');
    const original = parseSpc(csiExamples[0]!);
    const returned = parseSpc(spc!);
    expect(returned.issues).toEqual([]);
    const shape = (objects: typeof original.objects) =>
      objects.map((o) => [o.objectName, o.secretPath, o.secretKey, o.method, o.filePermission]).sort();
    expect(shape(returned.objects)).toEqual(shape(original.objects));
    expect(returned.parameters.vaultAddress).toBe('http://vault.default:8200');
    expect(returned.parameters.roleName).toBe('database');
    const [pod] = ofKind(back.manifests, 'Pod');
    expect(pod!.spec.volumes).toEqual([
      {
        name: 'secrets-store-inline',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: spc!.metadata.name },
        },
      },
    ]);
    expect(back.manifests.map((m) => m.kind)).toEqual(['SecretProviderClass', 'Pod']);
  });

  test('the PKI object is issued with the same request fields', () => {
    const [spc] = ofKind(back.manifests, 'SecretProviderClass');
    const cert = parseSpc(spc!).objects.find((o) => o.objectName === 'certs/tls.crt')!;
    expect(cert.secretArgs).toMatchObject({
      common_name: 'test.example.com',
      alt_names: 'a.example.com,b.example.com',
      ttl: '24h',
    });
  });

  test('a synced Secret no pod mounts cannot move and stays, as an error', () => {
    const orphan = there.manifests.filter((m) => m.kind !== 'Pod');
    const result = migrate(orphan, { to: 'csi' });
    expect(result.findings.filter((f) => f.severity === 'error').map((f) => f.field)).toEqual([
      'spec.destination.name',
      'spec.destination.name',
      'spec.destination.name',
    ]);
    expect(ofKind(result.manifests, 'VaultStaticSecret')).toHaveLength(1);
  });
});

describe('injector → SecretProviderClass', () => {
  const { manifests, findings } = migrate(load('injector-examples.yaml'), {
    to: 'csi',
    injectorDefaults: { vaultAddress: 'https://vault.vault.svc:8200' },
  });

  test('one SPC per secret directory; the template or default kept as the object template, parsed by the provider', () => {
    const spcs = ofKind(manifests, 'SecretProviderClass');
    expect(spcs.map((s) => s.metadata.name)).toEqual([
      'app-example-vault-secrets',
      'pi-vault-secrets',
      'db-client-vault-secrets-custom-0',
    ]);
    const app = parseSpc(spcs[0]!);
    expect(app.issues).toEqual([]);
    expect(app.parameters).toMatchObject({
      vaultAddress: 'https://vault.vault.svc:8200',
      roleName: 'web',
      vaultKubernetesMountPath: 'kubernetes',
    });
    expect(app.objects.map((o) => [o.objectName, o.secretPath, o.templateText])).toEqual([
      ['app-config', 'secret/data/web/config', '{{#each this}}{{@key}}: {{this}}\n{{/each}}'],
      [
        'database-config.txt',
        'database/creds/db-app',
        'postgres://{{username}}:{{password}}@postgres:5432/appdb?sslmode=disable\n',
      ],
    ]);
    const db = parseSpc(spcs[2]!);
    expect(db.objects.map((o) => [o.objectName, o.filePermission])).toEqual([['db/creds.json', 0o400]]);
    expect(spcs[2]!.spec.parameters.objects).toContain('filePermission: 0400');
  });

  test('the workload mounts a CSI volume where the agent wrote', () => {
    const [deployment] = ofKind(manifests, 'Deployment');
    const pod = deployment!.spec.template;
    expect(pod.metadata.annotations).toBeUndefined();
    expect(pod.spec.volumes).toEqual([
      {
        name: 'vault-secrets',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'app-example-vault-secrets' },
        },
      },
    ]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([
      { name: 'vault-secrets', mountPath: '/vault/secrets', readOnly: true },
    ]);
  });

  test('a template that prints one key becomes upstream secretKey', () => {
    const pod: Manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'web',
        annotations: {
          'vault.hashicorp.com/agent-inject': 'true',
          'vault.hashicorp.com/role': 'web',
          'vault.hashicorp.com/agent-inject-secret-pw': 'secret/data/web/config',
          'vault.hashicorp.com/agent-inject-template-pw': '{{password}}',
        },
      },
      spec: { containers: [{ name: 'app', image: 'app' }] },
    };
    const result = migrate([pod], { to: 'csi', injectorDefaults: { vaultAddress: 'https://vault:8200' } });
    const spc = parseSpc(ofKind(result.manifests, 'SecretProviderClass')[0]!);
    expect(spc.objects.map((o) => [o.objectName, o.secretKey, o.templateText])).toEqual([
      ['pw', 'password', undefined],
    ]);
  });

  test('the report says templates need the Vaultbridge provider', () => {
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'changed',
        field: 'metadata.annotations["vault.hashicorp.com/agent-inject-template-database-config.txt"]',
        reason: expect.stringMatching(/upstream vault-csi-provider has no templates/),
      }),
    );
  });
});

describe('operator → SecretProviderClass for environment references', () => {
  const input = parseManifests(
    `
apiVersion: secrets.vaultbridge.dev/v1beta1
kind: VaultConnection
metadata: { name: vault, namespace: web }
spec: { address: "https://vault:8200" }
---
apiVersion: secrets.vaultbridge.dev/v1beta1
kind: VaultAuth
metadata: { name: auth, namespace: web }
spec: { vaultConnectionRef: vault, method: kubernetes, mount: kubernetes, kubernetes: { role: web, serviceAccount: app } }
---
apiVersion: secrets.vaultbridge.dev/v1beta1
kind: VaultStaticSecret
metadata: { name: app, namespace: web }
spec:
  vaultAuthRef: auth
  mount: secret
  path: web/config
  type: kv-v2
  destination:
    name: app-secret
    create: true
    transformation:
      excludes: [".*"]
      templates: { DB_USER: { text: "{{Secrets.username}}" }, DB_PASSWORD: { text: "{{get Secrets \\"password\\"}}" } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: app
      containers:
        - name: app
          image: app
          envFrom: [{ secretRef: { name: app-secret } }]
        - name: sidecar
          image: sidecar
          env: [{ name: PW, valueFrom: { secretKeyRef: { name: app-secret, key: DB_PASSWORD } } }]
`,
    'env.yaml',
  );
  const { manifests, findings } = migrate(input, { to: 'csi' });

  test('the SPC mounts the keys and syncs the Secret of the same name for the env references', () => {
    const [spc] = ofKind(manifests, 'SecretProviderClass');
    expect(spc!.metadata.name).toBe('web-app-secret-env');
    const parsed = parseSpc(spc!);
    expect(parsed.issues).toEqual([]);
    expect(parsed.objects.map((o) => [o.objectName, o.secretPath, o.secretKey])).toEqual([
      ['DB_USER', 'secret/data/web/config', 'username'],
      ['DB_PASSWORD', 'secret/data/web/config', 'password'],
    ]);
    expect(spc!.spec.secretObjects).toEqual([
      {
        secretName: 'app-secret',
        type: 'Opaque',
        data: [
          { objectName: 'DB_USER', key: 'DB_USER' },
          { objectName: 'DB_PASSWORD', key: 'DB_PASSWORD' },
        ],
      },
    ]);
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('a CSI volume is added and mounted in the containers that read the Secret (the driver syncs only while mounted)', () => {
    const [deployment] = ofKind(manifests, 'Deployment');
    const pod = deployment!.spec.template.spec;
    expect(pod.volumes).toEqual([
      {
        name: 'secrets-store-app-secret',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'web-app-secret-env' },
        },
      },
    ]);
    for (const container of pod.containers)
      expect(container.volumeMounts).toEqual([
        { name: 'secrets-store-app-secret', mountPath: '/mnt/secrets-store/app-secret', readOnly: true },
      ]);
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'app-secret' } }]);
    expect(manifests.map((m) => m.kind)).toEqual(['SecretProviderClass', 'Deployment']);
  });

  test("envFrom of a Secret whose keys are Vault's own field names needs them listed", () => {
    const raw = structuredClone(input);
    delete (raw[2] as Any).spec.destination.transformation;
    const result = migrate(raw, { to: 'csi' });
    expect(result.findings).toContainEqual(
      expect.objectContaining({ severity: 'error', reason: expect.stringMatching(/list them with items/) }),
    );
  });
});

test("VSO's samples to CSI: a volume whose keys are unknown stays as it is, with its synced object", () => {
  const samples = load('vso-samples.yaml');
  const { manifests, findings } = migrate(samples, { to: 'csi' });
  const pod = manifests.find((m) => m.kind === 'Pod');
  expect(pod).toEqual(samples.find((m) => m.kind === 'Pod'));
  expect(ofKind(manifests, 'VaultStaticSecret').map((m) => m.metadata.name)).toEqual([
    'vaultstaticsecret-sample-tenant-1',
    'vaultstaticsecret-sample-tenant-2',
  ]);
  expect(ofKind(manifests, 'SecretProviderClass')).toEqual([]);
  expect(findings).toContainEqual(
    expect.objectContaining({
      severity: 'error',
      field: 'spec.volumes[0]',
      reason: expect.stringMatching(/list them with items/),
    }),
  );
  expect(findings).toContainEqual(
    expect.objectContaining({
      severity: 'error',
      source: expect.objectContaining({ name: 'vaultstaticsecret-sample-tenant-1' }),
      reason: expect.stringMatching(/could not move/),
    }),
  );
});

describe('a kubernetes.io/tls VaultPKISecret → CSI', () => {
  const input = parseManifests(
    `
apiVersion: secrets.vaultbridge.dev/v1beta1
kind: VaultConnection
metadata: { name: vault, namespace: web }
spec: { address: "http://vault:8200" }
---
apiVersion: secrets.vaultbridge.dev/v1beta1
kind: VaultAuth
metadata: { name: app, namespace: web }
spec: { vaultConnectionRef: vault, method: kubernetes, mount: kubernetes, kubernetes: { role: web, serviceAccount: app } }
---
apiVersion: secrets.vaultbridge.dev/v1beta1
kind: VaultPKISecret
metadata: { name: tls, namespace: web }
spec: { vaultAuthRef: app, mount: pki, role: web, commonName: web.example.test, ttl: 1h, destination: { name: web-tls, create: true, type: kubernetes.io/tls } }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: web }
spec:
  serviceAccountName: app
  containers: [{ name: app, image: app, volumeMounts: [{ name: tls, mountPath: /etc/tls }] }]
  volumes: [{ name: tls, secret: { secretName: web-tls, items: [{ key: tls.crt, path: tls.crt }, { key: tls.key, path: tls.key }, { key: ca.crt, path: ca.crt }] } }]
`,
    'tls.yaml',
  );
  const { manifests, findings } = migrate(input, { to: 'csi' });
  const answer = (caChain: string[]) => ({
    request_id: 'r',
    lease_id: '',
    lease_duration: 0,
    renewable: false,
    auth: null,
    warnings: null,
    wrap_info: null,
    data: {
      certificate: 'CERT',
      issuing_ca: 'CA1',
      ca_chain: caChain,
      private_key: 'KEY',
      private_key_type: 'ec',
      serial_number: '01',
    },
  });

  test('tls.key and ca.crt are Vault fields; tls.crt appends the chain as the operator writes it (a Go template)', () => {
    const [spc] = ofKind(manifests, 'SecretProviderClass');
    const parsed = parseSpc(spc!);
    expect(parsed.issues).toEqual([]);
    const byName = Object.fromEntries(parsed.objects.map((o) => [o.objectName, o]));
    expect([byName['tls.key']!.secretKey, byName['ca.crt']!.secretKey, byName['tls.crt']!.secretKey]).toEqual([
      'private_key',
      'issuing_ca',
      undefined,
    ]);
    // The provider renders it over the issue answer: with a chain, and with only the issuing CA.
    expect(objectContent(byName['tls.crt']!, answer(['CA1', 'ROOT'])).toString()).toBe('CERT\nCA1\nROOT');
    expect(objectContent(byName['tls.crt']!, answer([])).toString()).toBe('CERT\nCA1');
    expect(objectContent(byName['tls.key']!, answer([])).toString()).toBe('KEY');
    expect(findings.filter((f) => f.severity !== 'info').map((f) => [f.severity, f.field])).toEqual([
      ['changed', 'spec.destination.type'],
    ]);
  });
});
