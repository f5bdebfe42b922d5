// consul-template's dialect against the real Vault of the test stack: templates ask for secrets
// themselves (KV v1 and v2, a list, database credentials, PKI issue) and render the way
// consul-template renders — a pass records the calls, they are fetched, the template renders again.
import { X509Certificate } from 'node:crypto';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  consulTemplateFuncs,
  DependencyBrain,
  GoTemplate,
  renderWithDependencies,
  vaultDependencyResolver,
  pemParts,
  certificateStillGood,
  type DependencyResolver,
  type VaultDependency,
} from '../src/gotemplate/index.ts';
import { VaultClient } from '../src/vault/index.ts';

let stack: TestStack;
let client: VaultClient;
let base: string;

beforeAll(async () => {
  stack = sharedStack();
  client = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
  base = stack.uniqueName('ct');
  await client.write(`secret/data/${base}/app`, { data: { username: 'app', password: 'p@ss"word', port: 5432 } });
  await client.write(`secret/data/${base}/other`, { data: { x: '1' } });
  await client.write(`kv/${base}/legacy`, { api_key: 'k-123' });
});

async function render(text: string): Promise<{ output: string; calls: VaultDependency[] }> {
  const brain = new DependencyBrain();
  const template = GoTemplate.parse('t', text, { funcs: consulTemplateFuncs({ brain }) });
  const calls: VaultDependency[] = [];
  const vault = vaultDependencyResolver(client);
  const resolve: DependencyResolver = (dep) => {
    calls.push(dep);
    return vault(dep);
  };
  return { output: await renderWithDependencies(template, brain, resolve), calls };
}

test('KV v2 by its API path: the vault-k8s documentation shape', async () => {
  const { output, calls } = await render(
    `{{- with secret "secret/data/${base}/app" -}}\npostgresql://{{ .Data.data.username }}:{{ .Data.data.password }}@db:{{ .Data.data.port }}/app\n{{- end }}`,
  );
  expect(output).toBe('postgresql://app:p@ss"word@db:5432/app');
  expect(calls).toHaveLength(1);
});

test('KV v2 named without data/, range over .Data.data, and the metadata version', async () => {
  const { output } = await render(
    `{{ with secret "secret/${base}/app" }}{{ range $k, $v := .Data.data }}export {{ $k }}="{{ $v }}"\n{{ end }}v{{ .Data.metadata.version }}{{ end }}`,
  );
  expect(output).toBe('export password="p@ss"word"\nexport port="5432"\nexport username="app"\nv1');
});

test('KV v1, base64Encode and toJSON', async () => {
  const { output } = await render(
    `{{ with secret "kv/${base}/legacy" }}{{ .Data.api_key | base64Encode }} {{ .Data | toJSON }}{{ end }}`,
  );
  expect(output).toBe(`${Buffer.from('k-123').toString('base64')} {"api_key":"k-123"}`);
});

test('secrets lists a folder; nested secret calls resolve in later passes', async () => {
  const { output, calls } = await render(
    `{{ range secrets "secret/metadata/${base}/" }}{{ . }}:{{ with secret (printf "secret/data/${base}/%s" .) }}{{ len .Data.data }}{{ end }} {{ end }}`,
  );
  expect(output).toBe('app:3 other:1 ');
  expect(calls.map((c) => c.kind)).toEqual(['list', 'read', 'read']);
});

test('database credentials: a new lease each render, in the documented shape', async () => {
  const { output } = await render(
    '{{ with secret "database/creds/app" }}{{ .Data.username }}|{{ if .Data.password }}set{{ end }}|{{ .LeaseDuration }}|{{ .Renewable }}{{ end }}',
  );
  expect(output).toMatch(/^v-\S+\|set\|\d+\|true$/);
});

test('PKI issue with key=value arguments is a write, as consul-template makes it', async () => {
  const { output, calls } = await render(
    '{{ with secret "pki/issue/example-dot-test" "common_name=web.example.test" "ttl=1h" }}{{ .Data.certificate }}{{ end }}',
  );
  expect(calls[0]).toMatchObject({ kind: 'write', data: { common_name: 'web.example.test', ttl: '1h' } });
  expect(new X509Certificate(output).subject).toContain('CN=web.example.test');
});

test('pkiCert returns the PEM parts', async () => {
  const { output } = await render(
    '{{ with pkiCert "pki/issue/example-dot-test" "common_name=api.example.test" }}{{ .Cert }}{{ .Key }}{{ end }}',
  );
  expect(output).toContain('-----BEGIN CERTIFICATE-----');
  expect(output).toContain('PRIVATE KEY-----');
});

test('a missing secret fails naming the path, not with a template error', async () => {
  await expect(render(`{{ with secret "secret/data/${base}/absent" }}{{ .Data }}{{ end }}`)).rejects.toThrow(
    new RegExp(`${base}/absent`),
  );
});

test('a Consul function fails naming itself and why', async () => {
  await expect(render('{{ key "service/config" }}')).rejects.toThrow(/key reads Consul or Nomad/);
});

test('pkiCert: the PEMs sorted as consul-template sorts them, and its reuse rule', async () => {
  const { output } = await render(
    '{{ with pkiCert "pki/issue/example-dot-test" "common_name=reuse.example.test" "ttl=1h" }}{{ .Cert }}{{ .Key }}{{ .Data.CA }}{{ end }}',
  );
  const parts = pemParts(output);
  expect(new X509Certificate(parts.Cert).subject).toContain('CN=reuse.example.test');
  expect(new X509Certificate(parts.CA).ca).toBe(true);
  expect(parts.Key).toContain('PRIVATE KEY-----');
  // 1h certificate: good now, not good once less than ~11% of its life is left, never after expiry.
  const life = (parts.notAfter ?? 0) - (parts.notBefore ?? 0);
  expect(certificateStillGood(parts)).toBe(true);
  expect(certificateStillGood(parts, (parts.notAfter ?? 0) - life * 0.2)).toBe(true);
  expect(certificateStillGood(parts, (parts.notAfter ?? 0) - life * 0.05)).toBe(false);
  expect(certificateStillGood(parts, (parts.notAfter ?? 0) + 1000)).toBe(false);
});
