// Request bodies as the bundle ships (tools/bundle-plugins.js: iconvUnicodeOnly, iconv-lite without its
// single- and double-byte code pages; lazyBuiltinRequire, body-parser's zlib required on first use):
// injector.mjs, built by the package's bundle step, answers every charset, content encoding and content
// type exactly as the injector run from source does, with unbundled express, and loads zlib only for a
// compressed body; express's json() parser in the service bundles accepts UTF-16 and refuses a code
// page with the same 415 and message as unbundled. A module mounting text() or urlencoded(), whose
// charsets need the code pages, fails the bundle.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { build } from 'esbuild';
import express from 'express';
import { bundleCommands, freeLoopbackPort, moduleLogHook, repoRoot } from '@vaultbridge/testenv';
import { serviceBuildOptions } from '../../../tools/bundle-plugins.js';
import { servingCertificateFiles, untilWebhookReady, type ServingCertificateFiles } from './support/webhook.ts';

const packageDir = path.join(repoRoot, 'packages/injector');
let work: string;
let bundleDir: string;
let certificate: ServingCertificateFiles;
/** Every module injector.mjs loaded, built-ins (node:zlib) included, one URL a line. */
let moduleLog: string;
const children: ChildProcess[] = [];

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** POSTs `body` to https://127.0.0.1:`port`/mutate with `headers`; the whole answer. */
function post(port: number, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/mutate',
        method: 'POST',
        ca: certificate.caPem,
        timeout: 10_000,
        headers: { ...headers, 'content-length': body.length },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'],
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error('POST /mutate timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

/** `node [flags] <script> serve` on a free port with the test's certificate files, once /health/ready answers 2xx. */
async function serve(flags: string[], script: string): Promise<number> {
  const port = await freeLoopbackPort();
  const child = spawn(
    process.execPath,
    [
      ...flags,
      script,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-cert-file',
      certificate.certFile,
      '--tls-key-file',
      certificate.keyFile,
      '--vault-address',
      'https://vault.vault.svc:8200',
      '--workers',
      '0',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: work } },
  );
  children.push(child);
  await untilWebhookReady(child, port, script);
  return port;
}

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'c0de0000-0000-0000-0000-000000000001',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'apps',
    operation: 'CREATE',
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'apps', annotations: { 'example.com/owner': 'caf\u00e9' } },
      spec: { containers: [{ name: 'app', image: 'busybox' }] },
    },
  },
});
/** UTF-16LE with its byte order mark, as a client declaring charset=utf-16 sends it. */
const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(review, 'utf16le')]);

const requests: { name: string; body: Buffer; headers: Record<string, string> }[] = [
  { name: 'utf-8', body: Buffer.from(review), headers: { 'content-type': 'application/json; charset=utf-8' } },
  {
    name: 'a code page label on a UTF-8 body',
    body: Buffer.from(review),
    headers: { 'content-type': 'application/json; charset=windows-1252' },
  },
  { name: 'a UTF-16 body', body: utf16, headers: { 'content-type': 'application/json; charset=utf-16' } },
  {
    name: 'an unknown charset',
    body: Buffer.from(review),
    headers: { 'content-type': 'application/json; charset=x-no-such-charset' },
  },
  {
    name: 'gzip',
    body: gzipSync(review),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  },
  ...(
    [
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
      ['zstd', zstdCompressSync],
    ] as const
  ).map(([encoding, compress]) => ({
    name: encoding,
    body: compress(review),
    headers: { 'content-type': 'application/json', 'content-encoding': encoding },
  })),
  {
    name: 'an unsupported content encoding',
    body: Buffer.from(review),
    headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
  },
  { name: 'text/plain', body: Buffer.from(review), headers: { 'content-type': 'text/plain; charset=koi8-r' } },
];

let bundledPort: number;
let sourcePort: number;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'injector-bundle-bodies-'));
  bundleDir = path.join(work, 'bundle');
  for (const args of bundleCommands(packageDir))
    execFileSync(process.execPath, [path.join(repoRoot, 'tools/bundle.js'), '--outdir', bundleDir, ...args], {
      cwd: packageDir,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 120_000,
    });
  certificate = await servingCertificateFiles('bundle-bodies', '127.0.0.1');
  moduleLog = path.join(work, 'bundled-modules.log');
  bundledPort = await serve(['--import', moduleLogHook(work, moduleLog)], path.join(bundleDir, 'injector.mjs'));
  sourcePort = await serve(['--conditions=@vaultbridge/source'], path.join(packageDir, 'src/cli/injector.ts'));
}, 240_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (work) fs.rmSync(work, { recursive: true, force: true });
  if (certificate) fs.rmSync(path.dirname(certificate.certFile), { recursive: true, force: true });
});

test("injector.mjs carries iconv-lite's Unicode codecs and none of its code pages", () => {
  const sources = (
    JSON.parse(fs.readFileSync(path.join(bundleDir, 'injector.mjs.map'), 'utf8')) as { sources: string[] }
  ).sources;
  const iconv = sources.filter((source) => source.includes('node_modules/iconv-lite/encodings/'));
  expect(iconv.map((source) => path.basename(source)).sort()).toEqual(
    ['index.js', 'internal.js', 'utf16.js', 'utf32.js', 'utf7.js'].sort(),
  );
});

test('ready, injector.mjs has loaded neither zlib nor assert (no compressed body has come yet)', () => {
  const loaded = fs.readFileSync(moduleLog, 'utf8').split('\n');
  expect(loaded).toContain(pathToFileURL(path.join(bundleDir, 'injector.mjs')).href);
  expect(loaded).toContain('node:https');
  expect(loaded.filter((url) => ['node:zlib', 'node:assert'].includes(url))).toEqual([]);
});

test.each(requests)('$name: injector.mjs answers as the injector run from source', async ({ body, headers }) => {
  const bundled = await post(bundledPort, body, headers);
  const source = await post(sourcePort, body, headers);
  expect(bundled).toEqual(source);
});

test('the bundle reviews a UTF-8 or compressed body whatever charset it is labelled with, and refuses UTF-16 as before', async () => {
  const reviewed = ['utf-8', 'a code page label on a UTF-8 body', 'gzip', 'deflate', 'br', 'zstd'];
  for (const request of requests.filter(({ name }) => reviewed.includes(name))) {
    const answer = await post(bundledPort, request.body, request.headers);
    expect([request.name, answer.status]).toEqual([request.name, 200]);
    expect((JSON.parse(answer.body) as { response: { uid: string } }).response.uid).toBe(
      'c0de0000-0000-0000-0000-000000000001',
    );
  }
  // Reviews are read as UTF-8, as the API server sends them: a UTF-16 body was never a review.
  const answer = await post(bundledPort, utf16, { 'content-type': 'application/json; charset=utf-16' });
  expect(answer.status).toBe(400);
  // The compressed bodies loaded zlib, on first use.
  expect(fs.readFileSync(moduleLog, 'utf8').split('\n')).toContain('node:zlib');
});

describe("express's json() parser in a service bundle", () => {
  type Express = typeof express;
  let bundledExpress: Express;

  beforeAll(async () => {
    const outfile = path.join(work, 'express.mjs');
    await build({
      ...serviceBuildOptions,
      stdin: { contents: "export { default } from 'express';", resolveDir: packageDir, loader: 'js' },
      outfile,
      logLevel: 'silent',
    });
    bundledExpress = ((await import(pathToFileURL(outfile).href)) as { default: Express }).default;
  }, 120_000);

  /** POSTs `body` with `contentType` to an app of `factory` that echoes what json() parsed. */
  async function parseWith(factory: Express, body: Buffer, contentType: string): Promise<Answer> {
    const app = factory();
    app.post('/', factory.json(), (req, res) => {
      res.json({ parsed: req.body as unknown });
    });
    // Express's default error handler answers body-parser's errors with their status and message.
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? undefined,
        // The development error page quotes the stack, whose paths differ: keep its message.
        body: /<pre>([^<\n]*)/.exec(text)?.[1] ?? text,
      };
    } finally {
      server.close();
    }
  }

  test.each([
    ['utf-16', utf16],
    ['utf-16le', Buffer.from(review, 'utf16le')],
    ['utf-8', Buffer.from(review)],
    ['windows-1252', Buffer.from(review)],
    ['iso-8859-1', Buffer.from(review)],
    ['utf-9', Buffer.from(review)],
  ])('charset=%s: the same status and body as unbundled express', async (charset, body) => {
    const contentType = `application/json; charset=${charset}`;
    const bundled = await parseWith(bundledExpress, body, contentType);
    expect(bundled).toEqual(await parseWith(express, body, contentType));
    if (charset.startsWith('utf-1') || charset === 'utf-8')
      expect((JSON.parse(bundled.body) as { parsed: unknown }).parsed).toEqual(JSON.parse(review));
    else
      expect([bundled.status, bundled.body]).toEqual([
        415,
        `UnsupportedMediaTypeError: unsupported charset &quot;${charset.toUpperCase()}&quot;`,
      ]);
  });
});

test.each(['text', 'urlencoded'])(
  'a module that mounts express.%s() fails the bundle, naming the module and the fix',
  async (parser) => {
    // Inside the package, so express resolves as it does for the injector's own modules.
    fs.mkdirSync(path.join(packageDir, 'dist'), { recursive: true });
    const dir = fs.mkdtempSync(path.join(packageDir, 'dist', 'bundle-guard-'));
    try {
      const entry = path.join(dir, 'app.ts');
      fs.writeFileSync(entry, `import express from 'express';\nexpress().use(express.${parser}());\n`);
      await expect(
        build({ ...serviceBuildOptions, entryPoints: [entry], write: false, outdir: dir, logLevel: 'silent' }),
      ).rejects.toThrow(
        new RegExp(
          `${entry.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} mounts .*text\\(\\) or urlencoded\\(\\).*iconvUnicodeOnly`,
          's',
        ),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
