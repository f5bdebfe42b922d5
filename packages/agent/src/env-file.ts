// Env-var secrets (`agent-inject-env-<secret>`, ours): the agent keeps one file of `export NAME='value'`
// lines in the secrets volume, which the app container's entrypoint, the static exec wrapper
// (tools/images/vaultbridge-exec.c), reads before exec'ing the app: no shell in the app image. The agent
// copies the wrapper from its own image into the pod's `vault-exec` volume. Values are single-quoted, the
// form a POSIX shell also reads literally (pods an older webhook wrapped with /bin/sh keep working): no
// `$`, backquote or newline in a secret is ever expanded or run, by either reader.

import fs from 'node:fs/promises';
import path from 'node:path/posix';
import type { Logger } from '@vaultbridge/core';
import { EXEC_WRAPPER_IN_IMAGE, type AgentConfig } from './contract/index.ts';
import type { AgentPaths } from './paths.ts';
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
  return `# written by vaultbridge-agent for agent-inject-env-*; read by vaultbridge-exec (or a POSIX shell)\n${lines.join('')}`;
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

/** Mode of the wrapper's copy: every app container's user runs it. */
export const EXEC_WRAPPER_MODE = 0o755;

/**
 * Copies the image's exec wrapper to `config.execWrapper` (atomically; untouched when the bytes are
 * already there, as when the init agent placed it before the sidecar starts). A failure stops the agent:
 * the app containers cannot start without it.
 */
export async function placeExecWrapper(
  config: Pick<AgentConfig, 'execWrapper'>,
  paths: AgentPaths,
  logger: Logger,
): Promise<void> {
  const destination = config.execWrapper;
  if (destination === undefined) return;
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(paths.hostPath(EXEC_WRAPPER_IN_IMAGE));
  } catch (error) {
    throw new Error(
      `cannot read the exec wrapper ${EXEC_WRAPPER_IN_IMAGE} (${(error as NodeJS.ErrnoException).code ?? 'error'}): the app containers run their command through it; is the agent image vaultbridge's (packages/agent/Dockerfile)?`,
      { cause: error },
    );
  }
  try {
    const result = await writeSecretFile(paths, destination, bytes, EXEC_WRAPPER_MODE, [path.dirname(destination)]);
    if (result !== 'unchanged') logger.info({ file: destination }, 'exec wrapper placed for the app containers');
  } catch (error) {
    throw new Error(`cannot place the exec wrapper at ${destination}: ${(error as Error).message}`, { cause: error });
  }
}
