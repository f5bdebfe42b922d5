// The per-secret command (agent-inject-command-<name>), run after its file changed: `/bin/sh -c`, with
// a time limit. Its output is not relayed (it could print the secret); its failure is logged, not fatal.

import { spawn } from 'node:child_process';
import type { Logger } from '@vaultbridge/core';

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
}

export function runSecretCommand(
  command: string,
  options: { secretName: string; logger: Logger; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', env: options.env ?? process.env });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let finished = false;
    const finish = (result: CommandResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const fields = {
        secretName: options.secretName,
        exitCode: result.exitCode,
        signal: result.signal,
        durationMs: Date.now() - started,
      };
      if (result.exitCode === 0) options.logger.info(fields, 'command after render succeeded');
      else
        options.logger.warn(
          { ...fields, timedOut: result.timedOut },
          result.timedOut ? `command after render timed out after ${timeoutMs} ms` : 'command after render failed',
        );
      resolve(result);
    };
    child.once('error', (error) => {
      options.logger.warn({ secretName: options.secretName, err: error }, 'command after render could not start');
      finish({ exitCode: null, signal: null, timedOut: false });
    });
    child.once('exit', (exitCode, signal) => finish({ exitCode, signal, timedOut }));
  });
}
