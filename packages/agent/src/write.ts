// Writing rendered files, token sinks and the ready/pid files: atomically, with the asked mode, only
// when the bytes changed (so an unchanged secret neither touches the file nor triggers its command),
// and confined to the volume the file belongs to with no symlink followed at any level (confined.ts).

import { HOME_PATH, SECRETS_PATH } from './contract/index.ts';
import type { AgentConfig } from './contract/index.ts';
import { rootOf, writeConfined, type WriteResult } from './confined.ts';
import type { AgentPaths } from './paths.ts';

export type { WriteResult } from './confined.ts';

export const DEFAULT_FILE_MODE = 0o644;
export const TOKEN_FILE_MODE = 0o600;

/**
 * The volume roots of a configuration: the agent's home, the default secrets volume and every
 * secret's own volume. A file is confined to the longest root above it (else to its own directory).
 */
export function volumeRoots(config: Pick<AgentConfig, 'secrets'>): string[] {
  const roots = new Set([HOME_PATH, SECRETS_PATH]);
  for (const secret of config.secrets) if (secret.volume !== undefined) roots.add(secret.volume);
  return [...roots];
}

/** Writes `content` to the configured absolute `destination` (under the agent root, if any). */
export async function writeSecretFile(
  paths: AgentPaths,
  destination: string,
  content: string | Uint8Array,
  mode: number = DEFAULT_FILE_MODE,
  roots: readonly string[] = [HOME_PATH, SECRETS_PATH],
): Promise<WriteResult> {
  const { root, relative } = rootOf(destination, roots);
  return writeConfined(paths.hostPath(root), relative, content, { mode });
}
