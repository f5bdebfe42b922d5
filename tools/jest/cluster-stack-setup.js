// Starts one test stack with a real node (`up --cluster`) for a jest run of the cluster tier, unless
// VAULTBRIDGE_STACK already names a stack that has one. Workers inherit VAULTBRIDGE_STACK.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = path.resolve(import.meta.dirname, '../..');

export default async function setup() {
  const named = process.env.VAULTBRIDGE_STACK;
  if (named && fs.existsSync(named) && JSON.parse(fs.readFileSync(named, 'utf8')).cluster) return;
  const handleFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-jest-cluster-')), 'stack.json');
  const child = spawn(
    process.execPath,
    [
      '--conditions=@vaultbridge/source',
      path.join(root, 'packages/testenv/src/cli.ts'),
      'up',
      '--cluster',
      '--handle-file',
      handleFile,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  globalThis.__vaultbridgeStack = child;
  let exitCode = null;
  child.once('exit', (code) => (exitCode = code ?? -1));
  // A cold start builds the service images too.
  const deadline = Date.now() + 600_000;
  while (!fs.existsSync(handleFile)) {
    if (exitCode !== null)
      throw new Error(`the cluster stack failed to start (exit ${exitCode}); see its output above`);
    if (Date.now() > deadline) throw new Error('the cluster stack did not start within 600 s');
    await sleep(200);
  }
  process.env.VAULTBRIDGE_STACK = handleFile;
}
