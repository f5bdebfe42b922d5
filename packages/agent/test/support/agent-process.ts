// The agent CLI run as its own process, as the kubelet runs the container: the AgentConfig in the env the
// webhook wrote and every pod path under VAULTBRIDGE_AGENT_ROOT.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { AGENT_CONFIG_ENV } from '../../src/contract/index.ts';

export const AGENT_CLI = path.join(import.meta.dirname, '../../src/cli/agent.ts');

export interface AgentRun {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** `vaultbridge-agent <args>` with `encoded` as its config and `root` standing in for the pod's filesystem. */
export function startAgent(
  args: string[],
  encoded: string,
  root: string,
  extraEnv: Record<string, string> = {},
): AgentRun {
  const child = spawn(
    process.execPath,
    ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, ...args],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        [AGENT_CONFIG_ENV]: encoded,
        VAULTBRIDGE_AGENT_ROOT: root,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
