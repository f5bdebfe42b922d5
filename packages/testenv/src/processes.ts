import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server process the stack started. Its output goes to `<logDir>/<name>.log`. */
export interface ManagedProcess {
  name: string;
  pid: number;
  logPath: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

// Every child of this process, so they can be killed even when the caller never reaches stop().
const running = new Set<ManagedProcess>();

function killAllSync(): void {
  for (const proc of running) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.once('exit', killAllSync);

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logDir: string,
  options: SpawnOptions = {},
): ManagedProcess {
  const logPath = path.join(logDir, `${name}.log`);
  const log = fs.openSync(logPath, 'a');
  const child = spawn(command, args, { ...options, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  if (child.pid === undefined) {
    throw new Error(`${name}: could not start ${command} (is it built? run tools/install.sh)`);
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  const proc: ManagedProcess = { name, pid: child.pid, logPath, child, exited };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
export async function stopProcess(proc: ManagedProcess, graceMs = 5000): Promise<void> {
  if (!running.has(proc)) return;
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    return;
  }
  const stopped = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!stopped) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await proc.exited;
  }
}

export function tailLog(proc: ManagedProcess, lines = 30): string {
  try {
    return fs.readFileSync(proc.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `probe` until it returns true. Fails with the process's last log lines when the process
 * exits or the deadline passes, so a broken server explains itself.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `${proc.name} exited with code ${exitCode} before it was ready. Last log lines (${proc.logPath}):\n${tailLog(proc)}`,
      );
    }
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(
    `${proc.name} was not ready after ${timeoutMs} ms. Last log lines (${proc.logPath}):\n${tailLog(proc)}`,
  );
}
