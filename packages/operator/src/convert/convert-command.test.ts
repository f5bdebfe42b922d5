import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { runOperatorCli } from '../cli.ts';

async function run(argv: string[], stdin = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runOperatorCli(argv, {
    stdin: Readable.from(stdin === '' ? [] : [stdin]),
    stdout,
    stderr,
    env: {},
  });
  return { code, documents: parseAllDocuments(out).map((d) => d.toJS() as Record<string, unknown>), stderr: err };
}

const vso = `apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultConnection
metadata: { name: vault, namespace: app }
spec: { address: "https://vault:8200" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: keep }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultStaticSecret
metadata: { name: db, namespace: app }
spec: { vaultAuthRef: auth, mount: kv, path: db, type: kv-v2, destination: { name: db, create: true } }
`;

test('convert rewrites VSO manifests from a file into ours, other documents unchanged, exit 0', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'convert-')), 'vso.yaml');
  fs.writeFileSync(file, vso);
  const result = await run(['convert', file]);
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('');
  expect(result.documents.map((d) => [d.apiVersion, d.kind])).toEqual([
    ['secrets.vaultbridge.dev/v1beta1', 'VaultConnection'],
    ['v1', 'ConfigMap'],
    ['secrets.vaultbridge.dev/v1beta1', 'VaultStaticSecret'],
  ]);
  expect(result.documents[2]!.spec).toEqual({
    vaultAuthRef: 'auth',
    mount: 'kv',
    path: 'db',
    type: 'kv-v2',
    destination: { name: 'db', create: true },
  });
});

test('from stdin, what does not carry over is reported by field and exits 3', async () => {
  const result = await run(
    ['convert', '-'],
    vso.replace(
      'spec: { address: "https://vault:8200" }',
      'spec: { address: "https://vault:8200", caCertPath: /etc/ca.pem }',
    ),
  );
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(
    /^VaultConnection app\/vault: error spec\.caCertPath: names a file in the operator's pod/m,
  );
});

test('unreadable input is a usage error naming it', async () => {
  const result = await run(['convert', '-'], 'kind: [broken\n');
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^vaultbridge-operator convert: stdin: document 1 is not valid YAML/);
});

test("VSO kinds Vaultbridge cannot serve (HCP Vault Secrets, VSO's CSI driver) are left out, each with why and what to use instead; exit 3", async () => {
  const result = await run(
    ['convert', '-'],
    `apiVersion: secrets.hashicorp.com/v1beta1
kind: HCPAuth
metadata: { name: default, namespace: app }
spec: { organizationID: org, projectID: project, servicePrincipal: { secretRef: vso-app-sp } }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: HCPVaultSecretsApp
metadata: { name: web-application, namespace: app }
spec: { appName: web-app, hcpAuthRef: default, destination: { create: true, name: web-application } }
---
apiVersion: secrets.hashicorp.com/v1beta1
kind: CSISecrets
metadata: { name: csisecrets-sample, namespace: app }
spec: { sources: [{ kind: VaultStaticSecret, name: static-secret }] }
`,
  );
  expect(result.code).toBe(3);
  expect(result.documents).toEqual([]);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(
    /^HCPAuth app\/default: error kind: HCPAuth is not supported by Vaultbridge: HCP Vault Secrets .*Use instead: move the secrets into Vault/,
  );
  expect(lines[1]).toMatch(/^HCPVaultSecretsApp app\/web-application: error kind: .*Use instead: /);
  expect(lines[2]).toMatch(
    /^CSISecrets app\/csisecrets-sample: error kind: CSISecrets is not supported by Vaultbridge: .*VSO's own CSI driver.*Use instead: a SecretProviderClass .*Vaultbridge CSI provider/,
  );
});
