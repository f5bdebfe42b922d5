// Env-var secrets (`agent-inject-env-<secret>`, ours): the agent keeps one file of `export NAME='value'`
// lines in the secrets volume, which the app container's /bin/sh reads before exec'ing the app (the
// webhook wraps the command). Values are single-quoted, so the shell takes them literally: no `$`,
// backquote or newline in a secret is ever expanded or run.

import path from 'node:path/posix';
import { DEFAULT_FILE_MODE, writeSecretFile } from './write.ts';
import type { AgentSession, PreparedSecret } from './session.ts';

/** POSIX single-quoting: `'` becomes `'\''`; everything else is literal between quotes. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The file's text: one export per variable, sorted by name. */
export function envFileText(values: ReadonlyMap<string, string>): string {
  const lines = [...values]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`);
  return `# written by vaultbridge-agent for agent-inject-env-*; read by the app container's shell\n${lines.join('')}`;
}

/** The file's mode: the permissions every env secret allows (0644 unless their perms say less). */
export function envFileMode(secrets: readonly PreparedSecret[]): number {
  const given = secrets
    .filter((s) => s.config.env !== undefined && s.config.perms !== undefined)
    .map((s) => s.config.perms ?? DEFAULT_FILE_MODE);
  return given.length === 0 ? DEFAULT_FILE_MODE : given.reduce((mode, perms) => mode & perms, 0o7777);
}

/**
 * Records the secret's rendered content as its variable, and (re)writes the env file once every env
 * secret has a value: never a file with some variables missing. Returns whether the file was written.
 */
export async function updateEnvFile(session: AgentSession, secret: PreparedSecret, content: string): Promise<boolean> {
  const name = secret.config.env;
  const file = session.config.envFile;
  if (name === undefined || file === undefined) return false;
  // execve cannot carry a NUL, and the shell would cut the value there.
  if (content.includes('\0'))
    throw new Error(`the rendered content cannot be the environment variable ${name}: it holds a NUL byte`);
  session.envValues.set(name, content);
  const wanted = session.secrets.filter((s) => s.config.env !== undefined).length;
  if (session.envValues.size < wanted) return false;
  const result = await writeSecretFile(
    session.paths,
    file,
    envFileText(session.envValues),
    envFileMode(session.secrets),
    [path.dirname(file)],
  );
  if (result !== 'unchanged')
    session.logger.info({ file, variables: [...session.envValues.keys()].sort() }, 'env file written');
  return true;
}
