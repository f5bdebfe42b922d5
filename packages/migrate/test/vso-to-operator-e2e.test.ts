// VSO → ours end to end on the real stack: VSO manifests (secrets.hashicorp.com/v1beta1, a VaultAuthGlobal
// among them, kept as ours and merged by the operator at login) are converted, created in the real API server with the CRDs from packages/operator/crds, and
// the real operator syncs them into Secrets shaped as VSO writes them (each field, and `_raw` with Vault's
// data; the kubernetes.io/tls keys for a TLS-typed PKI destination).
import { X509Certificate } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import type { RunningOperator } from '@vaultbridge/operator';
import { sharedStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { parseManifests } from '../src/manifests.ts';
import { migrate } from '../src/migrate.ts';
import { applyManifests, installShippedCrds, waitFor } from './support/apply.ts';
import { setUpAppNamespace, startNamespaceOperator, stopNamespaceOperator } from './support/operator.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('mig-vso');
const { kvV2Mount, databaseMount, databaseRole, pkiMount, pkiRole, pkiDomain, kubernetesAuthMount } = stack.layout;
const kvPath = `migrate/${namespace}/app`;
let operator: RunningOperator | undefined;

const vsoManifests = () => `
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultConnection
metadata: { name: vault, namespace: ${namespace}, finalizers: [vaultconnection.secrets.hashicorp.com/finalizer], uid: 0b1c }
spec: { address: "${stack.vaultAddr}", skipTLSVerify: false, timeout: 10s }
status: { valid: true }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultAuthGlobal
metadata: { name: default, namespace: ${namespace} }
spec:
  defaultAuthMethod: kubernetes
  vaultConnectionRef: vault
  kubernetes: { mount: ${kubernetesAuthMount}, role: ${namespace}, audiences: [vault] }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultAuth
metadata: { name: auth, namespace: ${namespace} }
spec:
  vaultAuthGlobalRef: { allowDefault: true }
  kubernetes: { serviceAccount: app }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultStaticSecret
metadata: { name: app, namespace: ${namespace} }
spec:
  vaultAuthRef: auth
  mount: ${kvV2Mount}
  type: kv-v2
  path: ${kvPath}
  refreshAfter: 30s
  destination: { name: app-secret, create: true }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultDynamicSecret
metadata: { name: db, namespace: ${namespace} }
spec:
  vaultAuthRef: auth
  mount: ${databaseMount}
  path: creds/${databaseRole}
  revoke: true
  destination: { name: db-secret, create: true }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultPKISecret
metadata: { name: tls, namespace: ${namespace} }
spec:
  vaultAuthRef: auth
  mount: ${pkiMount}
  role: ${pkiRole}
  commonName: web.${pkiDomain}
  format: pem
  expiryOffset: 5s
  ttl: 1h
  destination: { name: tls-secret, create: true, type: kubernetes.io/tls }
`;

beforeAll(async () => {
  await installShippedCrds(kubeConfig);
  await setUpAppNamespace(stack, namespace, {
    policy: `
path "${kvV2Mount}/data/migrate/${namespace}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
path "${pkiMount}/issue/${pkiRole}" { capabilities = ["update"] }
`,
    audience: 'vault',
    secret: { path: `${kvV2Mount}/data/${kvPath}`, data: { username: 'app', password: 'pa<ss>&word' } },
  });
});

afterAll(async () => {
  await stopNamespaceOperator(operator, custom, namespace);
});

const decode = (secret: V1Secret, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

test('converted VSO objects are accepted and synced into Secrets shaped as VSO writes them', async () => {
  const { manifests, findings } = migrate(parseManifests(vsoManifests(), 'vso.yaml'), { to: 'operator' });
  expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  expect(findings.map((f) => [f.severity, f.source.kind, f.field])).toEqual([
    ['dropped', 'VaultConnection', 'spec.timeout'],
  ]);
  const created = await applyManifests(kubeConfig, manifests);
  expect(created.map((m) => `${m.apiVersion} ${m.kind}`)).toEqual([
    'secrets.vaultbridge.dev/v1beta1 VaultConnection',
    'secrets.vaultbridge.dev/v1beta1 VaultAuthGlobal',
    'secrets.vaultbridge.dev/v1beta1 VaultAuth',
    'secrets.vaultbridge.dev/v1beta1 VaultStaticSecret',
    'secrets.vaultbridge.dev/v1beta1 VaultDynamicSecret',
    'secrets.vaultbridge.dev/v1beta1 VaultPKISecret',
  ]);

  operator = await startNamespaceOperator(stack, namespace, 'migrate-vso-e2e');

  // VaultStaticSecret: every field of the KV v2 data, and _raw = Vault's data (data + metadata).
  const app = await waitFor('app-secret', () => core.readNamespacedSecret({ name: 'app-secret', namespace }), 30_000);
  const vault = await stack.vaultAdmin.read<{
    data: { data: Record<string, string>; metadata: Record<string, unknown> };
  }>(`${kvV2Mount}/data/${kvPath}`);
  expect(Object.keys(app.data ?? {}).sort()).toEqual(['_raw', 'password', 'username']);
  expect(decode(app, 'username')).toBe('app');
  expect(decode(app, 'password')).toBe('pa<ss>&word');
  expect(JSON.parse(decode(app, '_raw'))).toEqual(vault.data);

  // VaultDynamicSecret: the credential's fields, which log in.
  const db = await waitFor('db-secret', () => core.readNamespacedSecret({ name: 'db-secret', namespace }), 30_000);
  expect(Object.keys(db.data ?? {}).sort()).toEqual(['_raw', 'password', 'username']);
  const client = new pg.Client({
    host: stack.postgres.host,
    port: stack.postgres.port,
    database: stack.postgres.database,
    user: decode(db, 'username'),
    password: decode(db, 'password'),
  });
  await client.connect();
  await client.end();

  // VaultPKISecret with a kubernetes.io/tls destination: tls.crt/tls.key beside Vault's fields.
  const tls = await waitFor('tls-secret', () => core.readNamespacedSecret({ name: 'tls-secret', namespace }), 30_000);
  expect(tls.type).toBe('kubernetes.io/tls');
  expect(Object.keys(tls.data ?? {})).toEqual(
    expect.arrayContaining(['tls.crt', 'tls.key', 'certificate', 'private_key', 'serial_number']),
  );
  expect(new X509Certificate(decode(tls, 'certificate')).subject).toContain(`CN=web.${pkiDomain}`);
});
