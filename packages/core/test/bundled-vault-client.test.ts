// core's Vault client as the service bundles carry it: bundled with tools/bundle-plugins.js's
// servicePlugins (what tools/bundle.js builds every service with), then run against the real Vault of
// the test stack. Proves that axios's form-data, with mime-types and mime-db's table, is left out of
// the bundle, that the bundled client still logs in, writes and reads, and that a multipart body, which
// no service sends, fails with an error that says why instead of sending something else.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { serviceBuildOptions } from '../../../tools/bundle-plugins.js';
import type * as vault from '../src/vault/index.ts';

interface Bundled {
  VaultClient: typeof vault.VaultClient;
  KvSecrets: typeof vault.KvSecrets;
  axios: { toFormData(data: object): unknown };
}

const packageDir = path.resolve(import.meta.dirname, '..');
let stack: TestStack;
let workDir: string;
let metafile: Metafile;
let bundled: Bundled;

beforeAll(async () => {
  stack = sharedStack();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-bundled-client-'));
  const outfile = path.join(workDir, 'client.mjs');
  // tools/bundle.js's options (serviceBuildOptions): what is bundled and how it loads.
  const result = await build({
    ...serviceBuildOptions,
    stdin: {
      contents:
        "export { VaultClient, KvSecrets } from '@vaultbridge/core/vault';\nexport { default as axios } from 'axios';",
      resolveDir: packageDir,
      loader: 'ts',
    },
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  metafile = result.metafile;
  bundled = (await import(pathToFileURL(outfile).href)) as Bundled;
}, 120_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

function bundledPackages(): string[] {
  const names = Object.keys(metafile.inputs).flatMap((file) => {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    return match?.[1] === undefined ? [] : [match[1]];
  });
  return [...new Set(names)].sort();
}

test("the bundle has axios's http adapter but not form-data, mime-types or mime-db", () => {
  const inputs = Object.keys(metafile.inputs);
  expect(inputs.some((file) => file.endsWith('node_modules/axios/lib/adapters/http.js'))).toBe(true);
  const packages = bundledPackages();
  expect(packages).toContain('axios');
  expect(packages).toContain('follow-redirects');
  expect(packages.filter((name) => ['form-data', 'mime-types', 'mime-db', 'combined-stream'].includes(name))).toEqual(
    [],
  );
});

test('the bundled client writes and reads a KV secret on the real Vault', async () => {
  const client = new bundled.VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
  const kv = new bundled.KvSecrets(client);
  const secretPath = `${stack.layout.kvV2Mount}/${stack.uniqueName('bundled')}/db`;
  await kv.write(secretPath, { username: 'app', password: 'from-the-bundle' });
  const read = await kv.read<{ username: string; password: string }>(secretPath);
  expect(read.data).toEqual({ username: 'app', password: 'from-the-bundle' });
  expect(read.kvVersion).toBe(2);
  const self = await client.request<{ policies: string[] }>('GET', 'auth/token/lookup-self');
  expect(self?.data.policies).toEqual(['root']);
});

test('a multipart body fails with the reason, not with a missing module', () => {
  expect(() => bundled.axios.toFormData({ file: 'x' })).toThrow(
    /multipart\/form-data bodies are not supported: this bundle leaves out the form-data package of axios/,
  );
});
