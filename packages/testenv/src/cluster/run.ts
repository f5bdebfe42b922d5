import { execFile } from 'node:child_process';

/**
 * Runs a host command (ip, iptables, ctr, mount) with a deadline. A failure names the command and
 * carries its stderr, so a broken step explains itself.
 */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; input?: string; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
          return;
        }
        resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like run(), but a failure is an answer (false), for checks such as `iptables -C`. */
export async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args, { timeoutMs: 30_000 });
    return true;
  } catch {
    return false;
  }
}
