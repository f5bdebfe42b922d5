// What cli.mjs carries (tools/bundle.js's build of src/cli.ts, unminified so esbuild's module wrappers can be
// read, with its metafile). V8 keeps the whole bundle's source in memory to compile it lazily, so every
// package in it costs its minified size in idle RSS even if never evaluated (issue 14):
//  - ws and core's Vault event stream are not in it: the provider never subscribes to Vault events, and
//    they came only through a VaultClient method that referred to the stream (now core's openEventStream).
//  - handlebars (with source-map), re2js and bcryptjs are in it: a SecretProviderClass object's `template`
//    is a Go template with VSO's functions (regex*, bcrypt, htpasswd) or a handlebars one. handlebars and
//    re2js are evaluated only when a template first needs them.
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { commonJsWrappersOf, eagerWrapperCalls, repoRoot } from '@vaultbridge/testenv';
import { serviceBuildOptions } from '../../../tools/bundle-plugins.js';

const packageDir = path.join(repoRoot, 'packages/csi-provider');
let output: string;
let bundledFiles: string[];

beforeAll(async () => {
  const result = await build({
    ...serviceBuildOptions,
    entryPoints: [path.join(packageDir, 'src/cli.ts')],
    outfile: path.join(packageDir, 'dist/bundle-contents-test/cli.mjs'),
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  output = result.outputFiles.find((file) => file.path.endsWith('.mjs'))!.text;
  const outputs: Metafile['outputs'] = result.metafile.outputs;
  const cli = Object.values(outputs).find((entry) => entry.entryPoint !== undefined)!;
  // Inputs esbuild read but tree-shook away are listed with 0 bytes; only the rest is in the file.
  bundledFiles = Object.entries(cli.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([file]) => file);
}, 120_000);

const inBundle = (part: string) => bundledFiles.filter((file) => file.includes(part));

test('the bundle is read from its metafile (sanity: packages the provider runs are there)', () => {
  expect(inBundle('node_modules/@grpc/grpc-js/').length).toBeGreaterThan(0);
  expect(inBundle('core/src/vault/client.ts')).toHaveLength(1);
});

test('ws and the Vault event stream are not in cli.mjs', () => {
  expect(inBundle('node_modules/ws/')).toEqual([]);
  expect(inBundle('core/src/vault/events.ts')).toEqual([]);
  expect(inBundle('core/src/vault/kv-event.ts')).toEqual([]);
});

test.each(['handlebars', 'source-map', 're2js'])(
  '%s is in cli.mjs for SecretProviderClass templates, but not evaluated at start',
  (packageName) => {
    const wrappers = commonJsWrappersOf(output, packageName);
    expect(wrappers.length).toBeGreaterThan(0);
    expect(eagerWrapperCalls(output, wrappers)).toEqual([]);
  },
);
