// What a default operator run never calls stays unevaluated in cli.mjs (tools/bundle.js's build, unminified so
// esbuild's module wrappers can be read): yaml (only the `convert` command parses and writes YAML; the
// templates' toYAML/parseYAML load it through core's lazy import), handlebars (only a handlebars
// transformation template). Each is evaluated on first use, and the bundled
// `convert` still reads and writes YAML through the lazy import.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { commonJsWrappersOf, eagerWrapperCalls, repoRoot } from '@vaultbridge/testenv';
import { serviceBuildOptions } from '../../../tools/bundle-plugins.js';

const packageDir = path.join(repoRoot, 'packages/operator');
let workDir: string;
let output: string;
let bundle: string;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-lazy-packages-'));
  bundle = path.join(workDir, 'cli.mjs');
  await build({
    ...serviceBuildOptions,
    entryPoints: [path.join(packageDir, 'src/cli.ts')],
    outfile: bundle,
    logLevel: 'silent',
  });
  output = fs.readFileSync(bundle, 'utf8');
}, 120_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test.each(['yaml', 'handlebars'])('%s is in cli.mjs but not evaluated at start', (packageName) => {
  const wrappers = commonJsWrappersOf(output, packageName);
  expect(wrappers.length).toBeGreaterThan(0);
  expect(eagerWrapperCalls(output, wrappers)).toEqual([]);
});

test('the bundled convert command reads and writes YAML through the lazy import', () => {
  const manifest = path.join(workDir, 'vso.yaml');
  fs.writeFileSync(
    manifest,
    [
      'apiVersion: secrets.hashicorp.com/v1beta1',
      'kind: VaultStaticSecret',
      'metadata: { name: app, namespace: web }',
      'spec:',
      '  mount: secret',
      '  path: app/db',
      '  type: kv-v2',
      '  refreshAfter: 30s',
      '  destination: { name: app-db, create: true }',
      '',
    ].join('\n'),
  );
  const converted = execFileSync(process.execPath, [bundle, 'convert', manifest], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(converted).toContain('apiVersion: secrets.vaultbridge.dev/v1beta1\n');
  expect(converted).toContain('kind: VaultStaticSecret\n');
  expect(converted).toMatch(/\n {2}path: app\/db\n/);
  expect(converted).toMatch(/\n {4}name: app-db\n/);
});
