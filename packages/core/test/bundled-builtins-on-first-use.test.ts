// Node built-ins that core's dependencies require at their top but call only later, as the service
// bundles carry them (tools/bundle-plugins.js, lazyBuiltinRequire): prom-client's Pushgateway (zlib),
// pino's sonic-boom (assert) and axios's http adapter with follow-redirects and https-proxy-agent (zlib,
// assert) load nothing when the bundle is imported, and work when used: a gzip push arrives gzipped with
// the registry's metrics, a pino destination closes (its assertion runs), and axios decodes gzip, br and
// zstd responses and asks for the encodings unbundled axios asks for. Likewise worker_threads (pino's
// isMainThread, thread-stream's Worker, and util's lazy properties, which esbuild's ESM interop would
// read), https-proxy-agent with debug and tty (axios's proxy tunnel) and Node's navigator global (axios):
// none is loaded at import, and each works when used.
// Each run is a process of its own, with a module hook that logs the built-ins it loads and
// process.moduleLoadList, which also shows what Node loads inside a built-in.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import zlib, { gunzipSync } from 'node:zlib';
import axios from 'axios';
import { build } from 'esbuild';
import {
  commonJsWrappersOf,
  createCertificateAuthority,
  eagerWrapperCalls,
  issueCertificate,
  moduleLogHook,
  startConnectProxy,
} from '@vaultbridge/testenv';
import { serviceBuildOptions } from '../../../tools/bundle-plugins.js';

const packageDir = path.resolve(import.meta.dirname, '..');
let workDir: string;
let bundle: string;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-bundled-builtins-'));
  bundle = path.join(workDir, 'metrics-and-logs.mjs');
  await build({
    ...serviceBuildOptions,
    stdin: {
      contents:
        "export { Counter, Pushgateway, Registry } from 'prom-client';\nexport { default as pino } from 'pino';\nexport { default as axios } from 'axios';\nexport { stripVTControlCharacters, types } from 'node:util';",
      resolveDir: packageDir,
      loader: 'js',
    },
    outfile: bundle,
    logLevel: 'silent',
  });
}, 120_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

/**
 * Runs `body` (an async module's code, with the bundle's exports as `bundled`) in a process of its own
 * with the module log hook; returns the built-ins it loaded by the end of the bundle's import, those it
 * loaded while `body` ran, and what `body` printed.
 */
async function runBundled(
  name: string,
  body: string,
): Promise<{ atImport: string[]; afterUse: string[]; output: string }> {
  const log = path.join(workDir, `${name}.log`);
  const script = path.join(workDir, `${name}.mjs`);
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
const bundled = await import(${JSON.stringify(pathToFileURL(bundle).href)});
fs.appendFileSync(${JSON.stringify(log)}, '-- imported --\\n');
${body}
`,
  );
  // Asynchronously: the test's own server answers the child meanwhile.
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', moduleLogHook(workDir, log), script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const lines = fs.readFileSync(log, 'utf8').split('\n');
  const imported = lines.indexOf('-- imported --');
  expect(lines.slice(0, Math.max(imported, 0))).toContain(pathToFileURL(bundle).href);
  const builtins = (from: string[]) => from.filter((url) => url === 'node:zlib' || url === 'node:assert');
  return { atImport: builtins(lines.slice(0, imported)), afterUse: builtins(lines.slice(imported)), output: stdout };
}

/**
 * Runs `body` as runBundled does and returns Node's own modules (process.moduleLoadList, without the
 * `NativeModule ` prefix) that the bundle's import loaded and those loaded while `body` ran: these include
 * what a built-in loads inside Node, which no module hook sees.
 */
async function runBundledNodeModules(
  name: string,
  body: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ atImport: string[]; afterUse: string[]; output: string }> {
  const lists = path.join(workDir, `${name}.json`);
  const script = path.join(workDir, `${name}.mjs`);
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
const loaded = () => process.moduleLoadList.filter((entry) => entry.startsWith('NativeModule ')).map((entry) => entry.slice(13));
const before = new Set(loaded());
const bundled = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const atImport = loaded().filter((name) => !before.has(name));
${body}
const afterUse = loaded().filter((name) => !before.has(name) && !atImport.includes(name));
fs.writeFileSync(${JSON.stringify(lists)}, JSON.stringify({ atImport, afterUse }));
`,
  );
  const { stdout } = await promisify(execFile)(process.execPath, [script], { encoding: 'utf8', timeout: 30_000, env });
  const { atImport, afterUse } = JSON.parse(fs.readFileSync(lists, 'utf8')) as {
    atImport: string[];
    afterUse: string[];
  };
  return { atImport, afterUse, output: stdout };
}

test("a gzip push through prom-client's Pushgateway loads zlib then, not at import, and sends the metrics gzipped", async () => {
  const received: { encoding: string | undefined; body: Buffer }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ encoding: request.headers['content-encoding'], body: Buffer.concat(chunks) });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = await runBundled(
      'pushgateway',
      `const registry = new bundled.Registry();
new bundled.Counter({ name: 'bundled_pushes_total', help: 'pushes', registers: [registry] }).inc(3);
const gateway = new bundled.Pushgateway(${JSON.stringify(url)}, { timeout: 10000, headers: { 'Content-Encoding': 'gzip' } }, registry);
await gateway.pushAdd({ jobName: 'bundled' });
process.stdout.write(await registry.metrics());`,
    );
    expect(run.atImport).toEqual([]);
    expect(run.afterUse).toEqual(['node:zlib']);
    expect(received).toHaveLength(1);
    expect(received[0]!.encoding).toBe('gzip');
    const pushed = gunzipSync(received[0]!.body).toString('utf8');
    expect(pushed).toContain('bundled_pushes_total 3');
    expect(pushed).toBe(run.output);
  } finally {
    server.close();
  }
}, 60_000);

test('a pino file destination loads assert when it closes (its assertion runs), not at import', async () => {
  const file = path.join(workDir, 'pino.log');
  const run = await runBundled(
    'sonic-boom',
    `const destination = bundled.pino.destination({ dest: ${JSON.stringify(file)}, sync: true });
bundled.pino(destination).info({ answer: 42 }, 'bundled');
await new Promise((resolve, reject) => {
  destination.on('close', resolve);
  destination.on('error', reject);
  destination.end();
});`,
  );
  expect(run.atImport).toEqual([]);
  expect(run.afterUse).toEqual(['node:assert']);
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ answer: 42, msg: 'bundled' });
}, 60_000);

test("axios loads zlib to decode a gzip, br or zstd response, not at import, and asks for unbundled axios's encodings", async () => {
  // The bundle's edit reads brotli's and zstd's presence from process.versions instead of zlib.
  expect(typeof process.versions.brotli === 'string').toBe(typeof zlib.createBrotliDecompress === 'function');
  expect(typeof process.versions.zstd === 'string').toBe(typeof zlib.createZstdDecompress === 'function');
  const encoders: Record<string, (data: Buffer) => Buffer> = {
    gzip: (data) => zlib.gzipSync(data),
    br: (data) => zlib.brotliCompressSync(data),
    zstd: (data) => zlib.zstdCompressSync(data),
  };
  const asked: string[] = [];
  const server = http.createServer((request, response) => {
    asked.push(String(request.headers['accept-encoding']));
    const encoding = (request.url ?? '/').slice(1);
    const encode = encoders[encoding];
    const body = Buffer.from(JSON.stringify({ encoding, value: 'decoded' }));
    if (!encode) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding }).end(encode(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = await runBundled(
      'axios-decompress',
      `const decoded = [];
for (const encoding of ['gzip', 'br', 'zstd']) decoded.push((await bundled.axios.get(${JSON.stringify(url)} + '/' + encoding)).data);
process.stdout.write(JSON.stringify(decoded));`,
    );
    expect(run.atImport).toEqual([]);
    // follow-redirects asserts on every request it makes; zlib comes with the first compressed answer.
    expect(run.afterUse.sort()).toEqual(['node:assert', 'node:zlib']);
    expect(JSON.parse(run.output)).toEqual(['gzip', 'br', 'zstd'].map((encoding) => ({ encoding, value: 'decoded' })));
    const bundledAsked = asked.splice(0);
    await axios.get(`${url}/gzip`);
    expect(bundledAsked).toEqual(Array.from({ length: 3 }, () => asked[0]));
  } finally {
    server.close();
  }
}, 60_000);

test("util's properties are read when used: importing it (as commander and core do) loads no worker_threads", async () => {
  const run = await runBundledNodeModules(
    'util-on-use',
    `process.stdout.write(JSON.stringify([
  bundled.stripVTControlCharacters('\\u001b[31mred\\u001b[0m'),
  bundled.types.isNativeError(new TypeError('x')),
  bundled.types.isNativeError({ message: 'x' }),
]));`,
  );
  // esbuild's ESM interop reads every property descriptor of a required module; one of util's lazy
  // properties (setTraceSigInt) loads worker_threads when its descriptor is read, parseArgs and diff theirs.
  for (const name of ['worker_threads', 'internal/util/parse_args/parse_args', 'internal/util/diff'])
    expect(run.atImport).not.toContain(name);
  expect(JSON.parse(run.output)).toEqual(['red', true, false]);
}, 60_000);

test('a synchronous pino destination never loads worker_threads; an asynchronous one loads it when made, and writes', async () => {
  const syncFile = path.join(workDir, 'pino-sync.log');
  const asyncFile = path.join(workDir, 'pino-async.log');
  const run = await runBundledNodeModules(
    'pino-destinations',
    `bundled.pino(bundled.pino.destination({ dest: ${JSON.stringify(syncFile)}, sync: true })).info('sync line');
const afterSync = process.moduleLoadList.includes('NativeModule worker_threads');
const destination = bundled.pino.destination({ dest: ${JSON.stringify(asyncFile)}, sync: false });
bundled.pino(destination).info('async line');
await new Promise((resolve, reject) => {
  destination.on('close', resolve);
  destination.on('error', reject);
  destination.end();
});
process.stdout.write(JSON.stringify({ afterSync }));`,
  );
  expect(run.atImport).not.toContain('worker_threads');
  expect(JSON.parse(run.output)).toEqual({ afterSync: false });
  // pino reads isMainThread to register the asynchronous destination's flush at exit.
  expect(run.afterUse).toContain('worker_threads');
  expect(JSON.parse(fs.readFileSync(syncFile, 'utf8'))).toMatchObject({ msg: 'sync line' });
  expect(JSON.parse(fs.readFileSync(asyncFile, 'utf8'))).toMatchObject({ msg: 'async line' });
}, 60_000);

test("a pino transport starts thread-stream's Worker (worker_threads loaded then) and its lines arrive", async () => {
  const file = path.join(workDir, 'pino-transport.log');
  const modules = path.resolve(packageDir, '../../node_modules');
  const run = await runBundledNodeModules(
    'pino-transport',
    `// A bundle has no pino or thread-stream worker script beside it: pino's documented overrides name them.
globalThis.__bundlerPathsOverrides = {
  'pino-worker': ${JSON.stringify(path.join(modules, 'pino/lib/worker.js'))},
  'thread-stream-worker': ${JSON.stringify(path.join(modules, 'thread-stream/lib/worker.js'))},
};
const transport = bundled.pino.transport({ target: ${JSON.stringify(path.join(modules, 'pino/file.js'))}, options: { destination: ${JSON.stringify(file)} } });
bundled.pino(transport).info({ answer: 42 }, 'through a worker');
transport.end();
// pino unrefs its transport's worker: wait on a timer for the line (the test fails by its timeout otherwise).
while (!(fs.existsSync(${JSON.stringify(file)}) && fs.readFileSync(${JSON.stringify(file)}, 'utf8').endsWith('\\n')))
  await new Promise((resolve) => setTimeout(resolve, 50));`,
  );
  expect(run.atImport).not.toContain('worker_threads');
  expect(run.afterUse).toContain('worker_threads');
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ answer: 42, msg: 'through a worker' });
}, 60_000);

test('axios loads https-proxy-agent (and its debug, and tty) only to tunnel through a proxy, and tunnels', async () => {
  // In the bundle, behind a stand-in (tools/bundle-plugins.js, lazyDefaultImports) whose wrapper runs on use.
  const source = fs.readFileSync(bundle, 'utf8');
  expect(source).toContain('// lazy-default-import:https-proxy-agent');
  const wrappers = commonJsWrappersOf(source, 'https-proxy-agent');
  expect(wrappers.length).toBeGreaterThan(0);
  expect(eagerWrapperCalls(source, wrappers)).toEqual([]);
  const ca = await createCertificateAuthority('bundled-proxy-test');
  const leaf = await issueCertificate(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const origin = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ through: 'tunnel' }));
  });
  const [proxy] = await Promise.all([
    startConnectProxy(),
    new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve)),
  ]);
  try {
    const originPort = (origin.address() as AddressInfo).port;
    const proxyPort = proxy.port;
    const { DEBUG: _debug, ...env } = process.env;
    const run = await runBundledNodeModules(
      'axios-proxy',
      `const https = await import('node:https');
const response = await bundled.axios.get('https://127.0.0.1:${originPort}/', {
  proxy: { protocol: 'http', host: '127.0.0.1', port: ${proxyPort} },
  httpsAgent: new https.Agent({ ca: ${JSON.stringify(ca.certPem)} }),
});
process.stdout.write(JSON.stringify(response.data));`,
      env,
    );
    for (const name of ['tty', 'internal/navigator']) expect(run.atImport).not.toContain(name);
    expect(run.afterUse).toContain('tty');
    expect(JSON.parse(run.output)).toEqual({ through: 'tunnel' });
    expect(proxy.tunnels).toEqual([`127.0.0.1:${originPort}`]);
  } finally {
    origin.close();
    await proxy.close();
  }
}, 60_000);
