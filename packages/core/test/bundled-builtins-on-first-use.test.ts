// Node built-ins that core's dependencies require at their top but call only later, as the service
// bundles carry them (tools/bundle-plugins.js, lazyBuiltinRequire): prom-client's Pushgateway (zlib),
// pino's sonic-boom (assert) and axios's http adapter with follow-redirects and https-proxy-agent (zlib,
// assert) load nothing when the bundle is imported, and work when used: a gzip push arrives gzipped with
// the registry's metrics, a pino destination closes (its assertion runs), and axios decodes gzip, br and
// zstd responses and asks for the encodings unbundled axios asks for.
// Each run is a process of its own, with a module hook that logs the built-ins it loads.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import zlib, { gunzipSync } from 'node:zlib';
import axios from 'axios';
import { build } from 'esbuild';
import { moduleLogHook } from '@vaultbridge/testenv';
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
        "export { Counter, Pushgateway, Registry } from 'prom-client';\nexport { default as pino } from 'pino';\nexport { default as axios } from 'axios';",
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
