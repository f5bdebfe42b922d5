// core's template engines and AWS signing as the service bundles carry them (tools/bundle-plugins.js's
// servicePlugins, lazyDefaultImports and lazyNamedImports): handlebars, yaml, aws4 and re2js are not
// evaluated when the bundle starts, only when a template, a regexp or an aws login first needs them, and
// then work as they do unbundled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { commonJsWrappersOf, eagerWrapperCalls } from '@vaultbridge/testenv';
import { serviceBuildOptions } from '../../../tools/bundle-plugins.js';
import { awsIamLoginData } from '../src/auth/aws.ts';
import type * as core from '../src/index.ts';

interface Bundled {
  compileTemplate: typeof core.compileTemplate;
  GoTemplate: typeof core.GoTemplate;
  consulTemplateFuncs: typeof core.consulTemplateFuncs;
  DependencyBrain: typeof core.DependencyBrain;
  awsIamLoginData: typeof core.awsIamLoginData;
}

const packageDir = path.resolve(import.meta.dirname, '..');
let workDir: string;
let output: string;
let bundled: Bundled;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-bundled-templates-'));
  const outfile = path.join(workDir, 'templates.mjs');
  // tools/bundle.js's options (serviceBuildOptions), unminified so the module wrappers can be read.
  await build({
    ...serviceBuildOptions,
    stdin: {
      contents:
        "export { compileTemplate, GoTemplate, consulTemplateFuncs, DependencyBrain, awsIamLoginData } from '@vaultbridge/core';",
      resolveDir: packageDir,
      loader: 'ts',
    },
    outfile,
    logLevel: 'silent',
  });
  output = fs.readFileSync(outfile, 'utf8');
  bundled = (await import(pathToFileURL(outfile).href)) as Bundled;
}, 120_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test.each(['handlebars', 'yaml', 'aws4'])('%s is bundled but not evaluated at start', (packageName) => {
  const wrappers = commonJsWrappersOf(output, packageName);
  expect(wrappers.length).toBeGreaterThan(0);
  expect(eagerWrapperCalls(output, wrappers)).toEqual([]);
  expect(output).toContain(`// lazy-default-import:${packageName}`);
});

test('re2js is bundled (its CommonJS build) but not evaluated at start', () => {
  const wrappers = commonJsWrappersOf(output, 're2js');
  expect(wrappers.length).toBe(1);
  expect(eagerWrapperCalls(output, wrappers)).toEqual([]);
  expect(output).toContain('// lazy-named-import:re2js');
  // The ES module build, whose evaluation at start this avoids, is not in the bundle at all.
  expect(output).not.toContain('node_modules/re2js/build/index.js');
});

test("a template's regexp functions work through the lazy import, and a bad pattern is refused as unbundled", () => {
  const funcs = bundled.consulTemplateFuncs({ brain: new bundled.DependencyBrain() });
  const template = bundled.GoTemplate.parse(
    't',
    '{{ "a1b22" | regexReplaceAll "[0-9]+" "_" }}|{{ "abc" | regexMatch "^a.c$" }}',
    { funcs },
  );
  expect(template.execute({})).toBe('a_b_|true');
  // RE2JSException reaches core's `instanceof` check through the stand-in: Go's wording, not re2js's.
  const bad = bundled.GoTemplate.parse('bad', '{{ "x" | regexMatch "a(b" }}', { funcs });
  expect(() => bad.execute({})).toThrow(/error parsing regexp: missing closing \)/);
});

test('a handlebars template compiles and renders through the lazy import', () => {
  const render = bundled.compileTemplate('t', '{{#each users}}{{name}}={{upper role}};{{/each}}');
  expect(
    render({
      users: [
        { name: 'a', role: 'admin' },
        { name: 'b', role: 'reader' },
      ],
    }),
  ).toBe('a=ADMIN;b=READER;');
  expect(() => bundled.compileTemplate('bad', '{{noSuchHelper x}}')).toThrow(/noSuchHelper/);
});

test("consul-template's toYAML and parseYAML render through the lazy import", () => {
  const template = bundled.GoTemplate.parse('t', '{{ .m | toYAML }}|{{ (parseYAML "a: 1\\nb: [x, y]").b }}', {
    funcs: bundled.consulTemplateFuncs({ brain: new bundled.DependencyBrain() }),
  });
  expect(template.execute({ m: { a: '<b>', n: [1, 2] } })).toBe('a: <b>\n"n":\n- 1\n- 2|[x true]');
});

test('an aws iam login is signed through the lazy import exactly as unbundled', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    source: 'the test',
  };
  const options = { region: 'eu-west-1', headerValue: 'vault.example.com', now: new Date('2026-12-06T07:00:00Z') };
  const signed = bundled.awsIamLoginData(credentials, options);
  expect(signed).toEqual(awsIamLoginData(credentials, options));
  expect(Buffer.from(signed.iam_request_headers!, 'base64').toString()).toContain(
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/',
  );
});
