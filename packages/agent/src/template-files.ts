// What a template may do to files through consul-template's `writeToFile` and `file`: only inside the
// pod's volumes the agent writes to (the secrets volumes and its home), with the confined writer (one
// directory at a time, never through a symlink, atomic rename), and with the owner and mode asked for.
import fs from 'node:fs';
import path from 'node:path/posix';
import {
  confinedFileReader,
  GoFuncError,
  type TemplateFileReader,
  type TemplateFileWrite,
  type TemplateFileWriter,
} from '@vaultbridge/core';
import { rootOf, writeConfined } from './confined.ts';
import type { AgentPaths } from './paths.ts';

/** The volume `file` lies in, or undefined when it is in none of `roots`. */
function volumeOf(file: string, roots: readonly string[]): string | undefined {
  return roots
    .filter((root) => file.startsWith(root.endsWith('/') ? root : `${root}/`))
    .sort((a, b) => b.length - a.length)[0];
}

function cleanAbsolute(file: string): boolean {
  return file.startsWith('/') && !file.includes('\0') && path.normalize(file) === file && !file.endsWith('/');
}

/** An id from a name in /etc/passwd or /etc/group (as Go's os/user without cgo), else a number. */
export function lookupId(
  name: string,
  kind: 'user' | 'group',
  readFile: (file: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): number {
  let table = '';
  try {
    table = readFile(kind === 'user' ? '/etc/passwd' : '/etc/group');
  } catch {
    // No table: only numeric ids work, as in Go.
  }
  for (const line of table.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2] as string)) return Number(fields[2]);
  }
  if (/^\d+$/.test(name)) return Number(name);
  throw new Error(kind === 'user' ? `user: unknown user ${name}` : `group: unknown group ${name}`);
}

/**
 * The agent's writeToFile: the path must be absolute and inside one of `roots` (pod paths); the
 * file is written atomically (or appended to: the old bytes and the new ones, written atomically),
 * with the permission bits asked for and, when a user or group is named, that owner.
 */
export function templateFileWriter(paths: AgentPaths, roots: readonly string[]): TemplateFileWriter {
  return async (write: TemplateFileWrite) => {
    if (!cleanAbsolute(write.path))
      throw new Error(
        'expected a clean absolute path without ".." inside the pod\'s volumes, such as /vault/secrets/extra.txt',
      );
    const volume = volumeOf(write.path, roots);
    if (volume === undefined) throw new Error(`outside the volumes the agent writes to (${roots.join(', ')})`);
    const { root, relative } = rootOf(write.path, [volume]);
    const uid = write.user === '' ? undefined : lookupId(write.user, 'user');
    const gid = write.group === '' ? undefined : lookupId(write.group, 'group');
    await writeConfined(paths.hostPath(root), relative, write.content, {
      mode: write.mode,
      ...(write.append ? { append: true } : {}),
      ...(uid === undefined ? {} : { uid }),
      ...(gid === undefined ? {} : { gid }),
    });
  };
}

/** The agent's `file`: absolute pod paths inside `roots`, read without leaving them through a symlink. */
export function templateFileReader(paths: AgentPaths, roots: readonly string[]): TemplateFileReader {
  const read = confinedFileReader(roots.map((root) => paths.hostPath(root)));
  return (file) => {
    if (!cleanAbsolute(file))
      throw new GoFuncError(
        `file(${file}): expected a clean absolute path inside the pod's volumes (${roots.join(', ')})`,
      );
    if (volumeOf(file, roots) === undefined)
      throw new GoFuncError(`file(${file}): outside the readable volumes (${roots.join(', ')})`);
    return read(paths.hostPath(file));
  };
}
