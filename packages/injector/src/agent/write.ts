// Writing rendered files: atomically (core's writeFileAtomic), with the asked mode, confined to the
// destination's own directory, and only when the bytes changed, so an unchanged secret neither touches
// the file nor triggers its command.

import fs from 'node:fs/promises';
import path from 'node:path';
import { resolveInside, writeFileAtomic } from '@vaultbridge/core';
import type { AgentPaths } from './paths.ts';

export const DEFAULT_FILE_MODE = 0o644;
export const TOKEN_FILE_MODE = 0o600;

export type WriteResult = 'created' | 'changed' | 'unchanged';

/**
 * Writes `content` to the absolute `destination` (under the agent root, if any). The parent directory
 * is created when missing; the file itself must resolve inside it (no symlink out of the volume).
 */
export async function writeSecretFile(paths: AgentPaths, destination: string, content: string, mode: number = DEFAULT_FILE_MODE): Promise<WriteResult> {
  const directory = paths.hostPath(path.posix.dirname(destination));
  await fs.mkdir(directory, { recursive: true, mode: 0o755 });
  const file = await resolveInside(directory, path.posix.basename(destination));
  const previous = await readIfExists(file);
  if (previous !== undefined && previous === content) {
    // Same bytes: keep the file, but a changed mode is still applied.
    const stat = await fs.stat(file);
    if ((stat.mode & 0o7777) !== mode) await fs.chmod(file, mode);
    return 'unchanged';
  }
  await writeFileAtomic(file, content, { mode });
  return previous === undefined ? 'created' : 'changed';
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
