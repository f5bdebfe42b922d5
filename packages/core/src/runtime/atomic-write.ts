// Secret files are replaced, never rewritten in place: the new content goes to a temporary file in the
// same directory (same filesystem, so rename is atomic), is flushed, gets its mode and owner, and is
// renamed over the target. A reader sees the old file or the new one, never a half-written one. The
// directory is flushed too, so the rename itself survives a crash.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface WriteFileAtomicOptions {
  /** Permission bits of the file, applied regardless of the umask. Default 0o644. */
  mode?: number;
  /** Owner to set (needs root or CAP_CHOWN unless it is the process's own). */
  uid?: number;
  gid?: number;
  /** Create missing parent directories first (as consul-template's `create_dest_dirs`). Default false. */
  createParents?: boolean;
  /** Mode of directories made by `createParents`. Default 0o755. */
  directoryMode?: number;
}

export type AtomicWriteStep = 'mkdir' | 'open' | 'write' | 'chown' | 'chmod' | 'fsync' | 'rename';

const HINTS: Record<string, string> = {
  ENOENT: 'the directory does not exist; create it first',
  ENOTDIR: 'a parent of the path is not a directory',
  EACCES: "permission denied; check the directory's owner and mode",
  EPERM: 'operation not permitted; changing the owner needs root or CAP_CHOWN',
  ENOSPC: 'the volume is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the volume is mounted read-only',
  EISDIR: 'the target path is a directory',
  ENAMETOOLONG: 'the file name is too long',
};

export class AtomicWriteError extends Error {
  readonly code = 'ATOMIC_WRITE_FAILED';
  readonly path: string;
  readonly step: AtomicWriteStep;
  /** The system error code, e.g. `ENOSPC`. */
  readonly systemCode: string | undefined;

  constructor(filePath: string, step: AtomicWriteStep, cause: unknown) {
    const systemCode = (cause as { code?: unknown } | null)?.code;
    const known = typeof systemCode === 'string' ? systemCode : undefined;
    const hint = known === undefined ? '' : `: ${HINTS[known] ?? known}`;
    super(`could not write ${filePath} (${step}${known === undefined ? '' : ` ${known}`})${hint}`, { cause });
    this.name = 'AtomicWriteError';
    this.path = filePath;
    this.step = step;
    this.systemCode = known;
  }
}

// Errors of fsync on a directory that only mean the filesystem does not support it.
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EISDIR', 'EBADF', 'EPERM', 'EACCES']);

/** Replace `filePath` with `data` atomically, with the given mode and owner. */
export async function writeFileAtomic(
  filePath: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o644;
  const directory = path.dirname(filePath);
  // Hidden and random: never mistaken for a real file, never clashing with a concurrent writer.
  // The base name is cut so that the temporary name stays within NAME_MAX.
  const temporary = path.join(
    directory,
    `.${path.basename(filePath).slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  if (options.createParents === true) {
    await mkdir(directory, { recursive: true, mode: options.directoryMode ?? 0o755 }).catch((error: unknown) => {
      throw new AtomicWriteError(filePath, 'mkdir', error);
    });
  }
  let handle: FileHandle | undefined;
  let step: AtomicWriteStep = 'open';
  try {
    handle = await open(temporary, 'wx', mode);
    step = 'write';
    await handle.writeFile(data);
    if (options.uid !== undefined || options.gid !== undefined) {
      step = 'chown';
      await handle.chown(options.uid ?? -1, options.gid ?? -1);
    }
    // After chown (which may clear set-id bits) and explicitly, because open() applied the umask.
    step = 'chmod';
    await handle.chmod(mode);
    step = 'fsync';
    await handle.sync();
    await handle.close();
    handle = undefined;
    step = 'rename';
    await rename(temporary, filePath);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    // 'wx' failing at open means the name was taken by someone else; it is not ours to remove.
    if (step !== 'open') await unlink(temporary).catch(() => undefined);
    throw new AtomicWriteError(filePath, step, error);
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !DIRECTORY_SYNC_UNSUPPORTED.has(code)) {
      throw new AtomicWriteError(path.join(directory, '.'), 'fsync', error);
    }
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
