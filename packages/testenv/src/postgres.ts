import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { postgresBinDir } from './binaries.ts';
import { freeLoopbackPort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';

export interface RunningPostgres {
  process: ManagedProcess;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

// PostgreSQL refuses to run as root; CI runs as root, so the server runs as Debian's postgres user.
// setpriv execs in place (unlike runuser, which forks), so the pid we signal is the server's own.
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

/** A private PostgreSQL cluster (its own data dir and port, not the system one) with password auth over TCP. */
export async function startPostgres(workDir: string, logDir: string): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const dir = path.join(workDir, 'postgres');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dir, { recursive: true });
  const password = 'testenv-superuser';
  const passwordFile = path.join(dir, 'pwfile');
  fs.writeFileSync(passwordFile, `${password}\n`);
  if (process.getuid?.() === 0) {
    fs.chmodSync(workDir, 0o755);
    execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  }
  const [initCmd, initArgs] = asServerUser(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    `--pwfile=${passwordFile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  execFileSync(initCmd, initArgs, { stdio: 'pipe' });

  const port = await freeLoopbackPort();
  const [cmd, args] = asServerUser(path.join(bin, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ]);
  const proc = startProcess('postgres', cmd, args, logDir);
  await waitUntilReady(
    proc,
    () =>
      new Promise<boolean>((resolve) => {
        try {
          execFileSync(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], {
            stdio: 'ignore',
          });
          resolve(true);
        } catch {
          resolve(false);
        }
      }),
    30_000,
  );
  // pg_isready is satisfied before the TCP listener accepts logins on slow machines; check the socket too.
  await waitUntilReady(
    proc,
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }),
    10_000,
  );
  return { process: proc, host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' };
}
