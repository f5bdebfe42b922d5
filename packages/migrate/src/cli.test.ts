import { PassThrough, Readable } from 'node:stream';
import { parseManifests } from './manifests.ts';
import { EXIT_NEEDS_REVIEW, runMigrateCli } from './cli.ts';

async function run(argv: string[], stdin: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await runMigrateCli(argv, { stdin: Readable.from([stdin]), stdout, stderr, env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const connection =
  'apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultConnection\nmetadata: {name: vault, namespace: app}\nspec: {address: "https://vault:8200"}\n';

test('stdin in, converted manifests on stdout, the report on stderr, exit 0', async () => {
  const result = await run(
    ['--to', 'operator'],
    `${connection}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n`,
  );
  expect(result.code).toBe(0);
  expect(parseManifests(result.stdout, 'stdout').map((m) => [m.apiVersion, m.kind])).toEqual([
    ['secrets.vaultbridge.dev/v1beta1', 'VaultConnection'],
    ['v1', 'ConfigMap'],
  ]);
  expect(result.stderr).toBe('Everything was converted; nothing to report.\n');
});

test('an object that needs a person exits 3 and the JSON report names the field', async () => {
  const result = await run(
    ['--to', 'operator', '--report-format', 'json'],
    connection.replace('spec: {', 'spec: {caCertPath: /ca.pem, '),
  );
  expect(result.code).toBe(EXIT_NEEDS_REVIEW);
  expect(JSON.parse(result.stderr)).toEqual([expect.objectContaining({ severity: 'error', field: 'spec.caCertPath' })]);
});

test('bad YAML is a usage error naming the input', async () => {
  const result = await run(['--to', 'operator'], 'kind: [unclosed\n');
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^vaultbridge-migrate: stdin: document 1 is not valid YAML/);
});

test('a missing --to is refused', async () => {
  const result = await run([], connection);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/--to/);
});
