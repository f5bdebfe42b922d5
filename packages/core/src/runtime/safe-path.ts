// File names inside a secrets volume come from users (annotations, SecretProviderClass objects). A name
// with `..`, an absolute path or a symlink in the volume must never let a write land outside it
// (CVE-2020-8567 was exactly that). The rules follow the CSI driver's: relative, no `..` element.
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

export type UnsafePathReason = 'empty' | 'nul-byte' | 'absolute' | 'traversal' | 'symlink-escape' | 'base-missing';

export class UnsafePathError extends Error {
  readonly code = 'UNSAFE_PATH';
  readonly reason: UnsafePathReason;
  /** The path as given. */
  readonly path: string;

  constructor(reason: UnsafePathReason, givenPath: string, detail: string) {
    super(`file path ${JSON.stringify(givenPath)} ${detail}`);
    this.name = 'UnsafePathError';
    this.reason = reason;
    this.path = givenPath;
  }
}

const EXAMPLE = 'use a path relative to the volume, such as "db/creds.txt"';

/**
 * Check a user-supplied path without touching the filesystem and return it normalized
 * (`./a//b` → `a/b`). Rejects empty paths, NUL bytes, absolute paths and any `..` element.
 */
export function validateRelativePath(relativePath: string): string {
  if (relativePath.length === 0) throw new UnsafePathError('empty', relativePath, `is empty; ${EXAMPLE}`);
  if (relativePath.includes('\0'))
    throw new UnsafePathError('nul-byte', relativePath, 'contains a NUL byte; remove it');
  if (path.posix.isAbsolute(relativePath)) {
    throw new UnsafePathError('absolute', relativePath, `is absolute; ${EXAMPLE}`);
  }
  // Any `..` element is refused, even one that would stay inside: such names are never needed and
  // refusing them outright leaves nothing to reason about.
  if (relativePath.split('/').includes('..')) {
    throw new UnsafePathError('traversal', relativePath, `contains a ".." element; ${EXAMPLE}`);
  }
  const normalized = path.posix.normalize(relativePath);
  if (normalized === '.' || normalized === './') {
    throw new UnsafePathError('empty', relativePath, `names the volume itself, not a file in it; ${EXAMPLE}`);
  }
  return normalized;
}

/**
 * The absolute path of `relativePath` inside `baseDir`, checked to stay inside it: the rules of
 * {@link validateRelativePath}, plus no symlink on the way (or at the end) that leads out of the
 * base. Missing directories are fine (they are checked up to the deepest one that exists).
 */
export async function resolveInside(baseDir: string, relativePath: string): Promise<string> {
  const normalized = validateRelativePath(relativePath);
  let base: string;
  try {
    base = await realpath(baseDir);
  } catch {
    throw new UnsafePathError(
      'base-missing',
      relativePath,
      `cannot be placed in ${baseDir}: that directory does not exist`,
    );
  }
  const target = path.join(base, normalized);
  const inside = (candidate: string): boolean => candidate === base || candidate.startsWith(base + path.sep);
  const escape = (): UnsafePathError =>
    new UnsafePathError(
      'symlink-escape',
      relativePath,
      `leads out of ${baseDir} through a symbolic link; remove the link or pick another name`,
    );

  // The deepest existing ancestor, every symlink on its way resolved, must be inside the base; so must
  // the final element when it exists (it may itself be a symlink, a dangling one included).
  for (let current = path.dirname(target); ; current = path.dirname(current)) {
    const location = await locationOf(current);
    if (location !== undefined) {
      if (!inside(location)) throw escape();
      break;
    }
    if (current === base || current === path.dirname(current)) break;
  }
  const location = await locationOf(target);
  if (location !== undefined && !inside(location)) throw escape();
  return target;
}

/** Where `entry` really is, symlinks resolved; undefined when nothing exists at that path. */
async function locationOf(entry: string): Promise<string | undefined> {
  let isLink: boolean;
  try {
    isLink = (await lstat(entry)).isSymbolicLink();
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    return await realpath(entry);
  } catch (error) {
    // A dangling link: judge it by where it points, so it cannot be aimed outside and filled later.
    if (!isLink || !isMissing(error)) throw error;
    return path.resolve(await realpath(path.dirname(entry)), await readlink(entry));
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
