// Starts one test stack for a jest run unless one is already named by VAULTBRIDGE_STACK (as `npm test`
// does for all packages at once). Workers inherit VAULTBRIDGE_STACK from this process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = path.resolve(import.meta.dirname, '../..');

export default async function setup() {
  if (process.env.VAULTBRIDGE_STACK) return;
  const handleFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-jest-')), 'stack.json');
  const child = spawn(
    process.execPath,
    [
      '--conditions=@vaultbridge/source',
      path.join(root, 'packages/testenv/src/cli.ts'),
      'up',
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
  const deadline = Date.now() + 180_000;
  while (!fs.existsSync(handleFile)) {
    if (exitCode !== null) throw new Error(`the test stack failed to start (exit ${exitCode}); see its output above`);
    if (Date.now() > deadline) throw new Error('the test stack did not start within 180 s');
    await sleep(100);
  }
  process.env.VAULTBRIDGE_STACK = handleFile;
}
