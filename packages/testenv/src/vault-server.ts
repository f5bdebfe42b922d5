import fs from 'node:fs';
import path from 'node:path';
import { binaryPath } from './binaries.ts';
import { freeLoopbackPort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';

export interface RunningVault {
  process: ManagedProcess;
  addr: string;
  rootToken: string;
}

/**
 * A dev-mode Vault server (in-memory, unsealed, kv-v2 at secret/, the events.alpha1 experiment on)
 * with a fixed root token, on loopback, or on `host` (the cluster's node address, so pods reach it too).
 */
export async function startVault(workDir: string, logDir: string, host = '127.0.0.1'): Promise<RunningVault> {
  const port = await freeLoopbackPort();
  const home = path.join(workDir, 'vault-home');
  fs.mkdirSync(home, { recursive: true });
  const rootToken = 'testenv-root';
  const addr = `http://${host}:${port}`;
  const proc = startProcess(
    'vault',
    binaryPath('vault'),
    [
      'server',
      '-dev',
      `-dev-root-token-id=${rootToken}`,
      `-dev-listen-address=${host}:${port}`,
      '-dev-no-store-token',
      // Vault 1.13 publishes KV events (sys/events/subscribe) only under this experiment; the
      // operator's and agent's instant updates subscribe to them.
      '-experiment',
      'events.alpha1',
    ],
    logDir,
    {
      // A private HOME so the dev server never writes a token helper file into the user's home.
      // Vault 1.14 links gosnowflake 1.6, whose bundled CA has a negative serial that Go ≥1.23 rejects at init.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        VAULT_LOG_LEVEL: 'warn',
        GODEBUG: 'x509negativeserial=1',
      },
    },
  );
  await waitUntilReady(proc, async () => (await fetch(`${addr}/v1/sys/health`)).status === 200, 30_000);
  return { process: proc, addr, rootToken };
}
