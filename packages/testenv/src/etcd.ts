import fs from 'node:fs';
import path from 'node:path';
import { binaryPath } from './binaries.ts';
import { freeLoopbackPort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';

export interface RunningEtcd {
  process: ManagedProcess;
  clientUrl: string;
}

/** etcd with envtest's flags: loopback only, a throwaway data dir, no fsync. */
export async function startEtcd(workDir: string, logDir: string): Promise<RunningEtcd> {
  const clientPort = await freeLoopbackPort();
  const peerPort = await freeLoopbackPort();
  const dataDir = path.join(workDir, 'etcd');
  fs.mkdirSync(dataDir, { recursive: true });
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const proc = startProcess(
    'etcd',
    binaryPath('etcd'),
    [
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    logDir,
  );
  await waitUntilReady(proc, async () => (await fetch(`${clientUrl}/health`)).ok, 30_000);
  return { process: proc, clientUrl };
}
