// The bundles as the image ships them (the package's bundle step, into a temporary directory), on the real
// API server: cli.mjs holds no client-node (nor its undici) and no classic zod; alone, as in a pod (no kubeconfig, the service
// account's projected-token directory), it lists and becomes ready; with --kubeconfig it imports
// kube-config-client.mjs, the bundle of its own beside it, and becomes ready too.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleCommands, freeLoopbackPort, parseDockerfile, repoRoot, sharedStack } from '@vaultbridge/testenv';
import { installCrds } from '../src/install-crds.ts';
import { waitFor } from './support/e2e.ts';

const stack = sharedStack();
const packageDir = path.join(repoRoot, 'packages/operator');
const namespace = stack.uniqueName('bundle-kube');
let bundleDir: string;
const children: ChildProcess[] = [];

async function startOperator(cwdBundle: string, args: string[], env: NodeJS.ProcessEnv, nodeFlags: string[] = []) {
  const port = await freeLoopbackPort();
  let output = '';
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      path.join(cwdBundle, 'cli.mjs'),
      ...args,
      '--operator-namespace',
      namespace,
      '--health-probe-bind-address',
      `127.0.0.1:${port}`,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(
    'the bundled operator ready (its informers listed)',
    async () => {
      if (child.exitCode !== null) throw new Error(`the operator exited (${child.exitCode}): ${output}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200;
    },
    60_000,
  );
  return { child, output: () => output };
}

beforeAll(async () => {
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-bundle-'));
  for (const args of bundleCommands(packageDir))
    execFileSync(process.execPath, [path.join(repoRoot, 'tools/bundle.js'), '--outdir', bundleDir, ...args], {
      cwd: packageDir,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 120_000,
    });
  await installCrds(stack.kube.config);
  await stack.createNamespace(namespace);
}, 240_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

test('cli.mjs carries no client-node or undici source; kube-config-client.mjs does', () => {
  const sources = (file: string) =>
    (JSON.parse(fs.readFileSync(path.join(bundleDir, `${file}.map`), 'utf8')) as { sources: string[] }).sources;
  const clientNode = (source: string) => /node_modules\/(@kubernetes\/client-node|undici)\//.test(source);
  expect(sources('cli.mjs').filter(clientNode)).toEqual([]);
  expect(sources('kube-config-client.mjs').some(clientNode)).toBe(true);
});

// The kinds, settings and core's value schemas are zod/mini: the bundle keeps the zod code they call and
// none of full zod's classes or its 60 locales (~450 KiB of bundle, ~1.9 MiB of heap; README, Memory).
test('cli.mjs carries zod/mini, not classic zod or its locales', () => {
  const sources = (
    JSON.parse(fs.readFileSync(path.join(bundleDir, 'cli.mjs.map'), 'utf8')) as { sources: string[] }
  ).sources.filter((source) => source.includes('node_modules/zod/'));
  expect(sources.filter((source) => /node_modules\/zod\/v4\/classic\//.test(source))).toEqual([]);
  expect(sources.filter((source) => /node_modules\/zod\/v4\/locales\/(?!index\.js$)/.test(source))).toEqual([]);
  expect(sources.some((source) => /node_modules\/zod\/v4\/mini\/schemas\.js$/.test(source))).toBe(true);
});

test('as in a pod, cli.mjs alone (no kubeconfig, the service account) lists and becomes ready', async () => {
  const podDir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-pod-'));
  fs.copyFileSync(path.join(bundleDir, 'cli.mjs'), path.join(podDir, 'cli.mjs'));
  const account = await stack.serviceAccountRoot(namespace, 'vaultbridge-operator');
  await stack.kube.bindClusterRole(`${namespace}-operator`, 'cluster-admin', namespace, 'vaultbridge-operator');
  const { KUBECONFIG: _kubeconfig, ...parentEnv } = process.env;
  const { child } = await startOperator(podDir, [], {
    ...parentEnv,
    ...account.env,
    HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'operator-home-')),
    VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: account.root,
  });
  child.kill('SIGTERM');
}, 90_000);

test("with the image's node flags and ENV (Maglev, no TurboFan), it finishes its first sync", async () => {
  const image = parseDockerfile(fs.readFileSync(path.join(packageDir, 'Dockerfile'), 'utf8'));
  const nodeFlags = (image.entrypoint ?? []).filter((arg) => arg.startsWith('--'));
  // TurboFan off, Maglev on from the start: the first sync without Maglev cost CPU at 10,000 objects (README).
  expect(nodeFlags).toContain('--no-turbofan');
  expect(nodeFlags).not.toContain('--no-maglev');
  const { child, output } = await startOperator(
    bundleDir,
    ['--kubeconfig', stack.handle.kubeconfigPath, '--log-level', 'info'],
    { ...process.env, ...image.env },
    nodeFlags,
  );
  await waitFor('the first sync done', async () => output().includes('first sync done'), 60_000);
  // The bundle step built malloc-trim.node beside cli.mjs (tools/native.js), and the image's --expose-gc
  // starts the idle trim: both halves are on.
  expect(output()).toContain("idle memory trim on: V8's memory-reducing collection, then malloc_trim");
  child.kill('SIGTERM');
}, 90_000);

test('with --kubeconfig, cli.mjs reads it through kube-config-client.mjs and becomes ready', async () => {
  const { child } = await startOperator(bundleDir, ['--kubeconfig', stack.handle.kubeconfigPath], process.env);
  child.kill('SIGTERM');
}, 90_000);
