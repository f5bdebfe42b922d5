// Writing into a volume the application shares with the agent. The application may replace anything
// inside it at any moment, e.g. `/vault/secrets/sub` with a symlink to `/elsewhere` or to the agent's
// home; a write that follows such a link lands outside the volume with the secret in it. So a path is
// never resolved as a whole: every directory below the volume's root is opened on its own, relative to
// the directory opened before it, refusing a symlink (O_NOFOLLOW), and the file is created and renamed
// inside the last directory handle. Node has no openat(); on Linux, `/proc/self/fd/<fd>/<name>` is the
// same thing: the kernel resolves the handle to the directory it was opened on, whatever has happened
// to its path since. The volume's root (a mount point of the agent's own container) is trusted.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

export type WriteResult = 'created' | 'changed' | 'unchanged';

/** A write refused because a path component is a symlink or not what it must be. */
export class ConfinedPathError extends Error {
  readonly code = 'UNSAFE_PATH';
  readonly path: string;

  constructor(root: string, relative: string, detail: string) {
    super(`refusing to write ${path.posix.join(root, relative)}: ${detail}`);
    this.name = 'ConfinedPathError';
    this.path = path.posix.join(root, relative);
  }
}

function code(error: unknown): string | undefined {
  const value = (error as { code?: unknown } | null)?.code;
  return typeof value === 'string' ? value : undefined;
}

/** The name `name` inside the directory open as `dir`, for path-taking calls (see the header). */
function within(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** Splits a relative path into clean components; `..`, `.`, empty parts and NUL never reach the disk. */
function components(root: string, relative: string): string[] {
  const parts = relative.split('/');
  if (parts.length === 0 || parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\0'))) {
    throw new ConfinedPathError(root, relative, 'expected a clean relative path inside the volume');
  }
  return parts;
}

/**
 * Opens `root/<dirs...>` one component at a time, creating missing directories (mode `directoryMode`),
 * and refusing any component that is a symlink or not a directory. The caller closes the handle.
 */
async function openDirectoryChain(
  root: string,
  relative: string,
  dirs: readonly string[],
  directoryMode: number,
): Promise<FileHandle> {
  let dir = await fs.open(root, O_RDONLY | O_DIRECTORY);
  try {
    for (let index = 0; index < dirs.length; index += 1) {
      const name = dirs[index]!;
      const shown = dirs.slice(0, index + 1).join('/');
      let next: FileHandle | undefined;
      for (let attempt = 0; next === undefined; attempt += 1) {
        try {
          next = await fs.open(within(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch (error) {
          const failure = code(error);
          if (failure === 'ENOENT' && attempt < 3) {
            // mkdir never follows a link at its last component (EEXIST), and the open above re-checks.
            await fs.mkdir(within(dir, name), directoryMode).catch((mkdirError: unknown) => {
              if (code(mkdirError) !== 'EEXIST') throw mkdirError;
            });
            continue;
          }
          if (failure === 'ELOOP' || failure === 'ENOTDIR') {
            // With O_DIRECTORY, Linux reports a symlink as ENOTDIR: look at the entry itself to say which.
            const entry = await fs.lstat(within(dir, name)).catch(() => undefined);
            if (failure === 'ELOOP' || entry?.isSymbolicLink() === true) {
              throw new ConfinedPathError(
                root,
                relative,
                `${shown} is a symbolic link; the agent never writes through links in a shared volume`,
              );
            }
            throw new ConfinedPathError(root, relative, `${shown} is not a directory`);
          }
          throw error;
        }
      }
      await dir.close();
      dir = next;
    }
    return dir;
  } catch (error) {
    await dir.close().catch(() => undefined);
    throw error;
  }
}

/** The bytes of `name` in `dir` if it is a regular file of `size` bytes; `'absent'` or `'other'` otherwise. */
async function existing(
  dir: FileHandle,
  name: string,
  root: string,
  relative: string,
): Promise<{ handle: FileHandle; size: number } | 'absent'> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO planted by the application must not hang the agent on open.
    handle = await fs.open(within(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (code(error) === 'ENOENT') return 'absent';
    if (code(error) === 'ELOOP')
      throw new ConfinedPathError(root, relative, 'the file is a symbolic link; remove it and the agent writes a file');
    throw error;
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new ConfinedPathError(
      root,
      relative,
      'the path is taken by something that is not a regular file (a directory, FIFO or device)',
    );
  }
  return { handle, size: stat.size };
}

export interface ConfinedWriteOptions {
  /** file mode, applied whatever the umask */
  readonly mode: number;
  /** mode of directories created on the way; default 0o755 */
  readonly directoryMode?: number;
  /** add `content` after the file's bytes (still one atomic replace: readers see old or old+new) */
  readonly append?: boolean;
  /** owner to give the file (needs CAP_CHOWN unless it is the agent's own) */
  readonly uid?: number;
  readonly gid?: number;
}

/** An appended file is read whole first: this bounds what a planted huge file can make the agent load. */
export const MAX_APPEND_BASE_BYTES = 16 * 1024 * 1024;

/**
 * Writes `content` to `root/relative` atomically (temporary file, fsync, rename, directory fsync) with
 * `mode`, never through a symlink at any level below `root`; only when the bytes differ (a same-bytes
 * file keeps its inode and only gets its mode). Missing directories below the root are created.
 */
export async function writeConfined(
  root: string,
  relative: string,
  content: string | Uint8Array,
  options: ConfinedWriteOptions,
): Promise<WriteResult> {
  const parts = components(root, relative);
  const name = parts.at(-1)!;
  await fs.mkdir(root, { recursive: true, mode: options.directoryMode ?? 0o755 });
  const dir = await openDirectoryChain(root, relative, parts.slice(0, -1), options.directoryMode ?? 0o755);
  try {
    let bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    const previous = await existing(dir, name, root, relative);
    if (previous !== 'absent' && options.append === true) {
      try {
        if (previous.size > MAX_APPEND_BASE_BYTES)
          throw new ConfinedPathError(
            root,
            relative,
            `the file is larger than ${MAX_APPEND_BASE_BYTES} bytes; the agent does not append to it`,
          );
        bytes = Buffer.concat([await previous.handle.readFile(), bytes]);
      } finally {
        await previous.handle.close();
      }
    } else if (previous !== 'absent') {
      try {
        // Only read a file of the same size: a huge planted file is never loaded.
        if (previous.size === bytes.length && (await previous.handle.readFile()).equals(bytes)) {
          const stat = await previous.handle.stat();
          if ((stat.mode & 0o7777) !== options.mode) await previous.handle.chmod(options.mode);
          if (
            (options.uid !== undefined && stat.uid !== options.uid) ||
            (options.gid !== undefined && stat.gid !== options.gid)
          ) {
            await previous.handle.chown(options.uid ?? stat.uid, options.gid ?? stat.gid);
          }
          return 'unchanged';
        }
      } finally {
        await previous.handle.close();
      }
    }
    const temporary = `.${name.slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(within(dir, temporary), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode);
    try {
      await handle.writeFile(bytes);
      if (options.uid !== undefined || options.gid !== undefined)
        await handle.chown(options.uid ?? process.getuid?.() ?? -1, options.gid ?? process.getgid?.() ?? -1);
      await handle.chmod(options.mode);
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fs.unlink(within(dir, temporary)).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      // rename replaces whatever entry is at `name` (a link swapped in meanwhile included), never its target.
      await fs.rename(within(dir, temporary), within(dir, name));
    } catch (error) {
      await fs.unlink(within(dir, temporary)).catch(() => undefined);
      throw error;
    }
    await dir.sync().catch(() => undefined);
    return previous === 'absent' ? 'created' : 'changed';
  } finally {
    await dir.close();
  }
}

/**
 * The volume root a configured absolute path is confined to: the longest of `roots` strictly above
 * it, else the path's own directory (then no sub-directory is created for it).
 */
export function rootOf(file: string, roots: readonly string[]): { root: string; relative: string } {
  const best = roots
    .filter((root) => file.startsWith(root.endsWith('/') ? root : `${root}/`))
    .sort((a, b) => b.length - a.length)[0];
  const root = best ?? path.posix.dirname(file);
  return { root, relative: path.posix.relative(root, file) };
}
