// The operator CLI as its own process (as it runs in a pod), for tests that need its real /healthz or a
// real process to signal.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freeLoopbackPort, type TestStack } from '@vaultbridge/testenv';

const CLI = path.join(import.meta.dirname, '../../src/cli.ts');

export interface OperatorProcess {
  child: ChildProcess;
  healthPort: number;
  output: () => string;
  exited: Promise<number | null>;
  /** GET on the health server; rejects when no answer comes within `deadlineMs`. */
  probe: (pathName: string, deadlineMs?: number) => Promise<Response>;
}

export async function startOperatorProcess(
  stack: TestStack,
  namespace: string,
  options: { args?: string[]; env?: Record<string, string>; kubeconfigPath?: string } = {},
): Promise<OperatorProcess> {
  const healthPort = await freeLoopbackPort();
  const child = spawn(
    process.execPath,
    [
      '--conditions=@vaultbridge/source',
      '--disable-warning=ExperimentalWarning',
      CLI,
      '--kubeconfig',
      options.kubeconfigPath ?? stack.handle.kubeconfigPath,
      '--operator-namespace',
      namespace,
      '--health-probe-bind-address',
      `127.0.0.1:${healthPort}`,
      '--log-level',
      'info',
      ...(options.args ?? []),
    ],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    healthPort,
    output: () => output,
    exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
    probe: (pathName, deadlineMs = 2_000) =>
      fetch(`http://127.0.0.1:${healthPort}${pathName}`, { signal: AbortSignal.timeout(deadlineMs) }),
  };
}
