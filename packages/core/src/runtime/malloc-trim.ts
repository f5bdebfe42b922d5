// glibc's malloc_trim(0) for the idle memory trim (idle-memory-trim.ts), through the one native addon the
// services carry: malloc-trim.node, built by tools/native.js beside each bundle and copied beside it in
// each image. V8's memory-reducing collection gives back V8's pages; what node's C++ side, OpenSSL and
// V8's compiler threads freed stays in malloc's arenas, where glibc only ever returns the top of a heap
// (measured on the webhook a minute after a saturation run: 78.4 -> 72.5 MiB RSS by malloc_trim alone,
// packages/injector/README.md). Without the addon (running from source, a musl libc, a custom image) the
// trim is V8's collection alone and nothing else changes.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Releases malloc's free pages to the kernel; true when something was released. */
export type MallocTrim = () => boolean;

export const MALLOC_TRIM_ADDON = 'malloc-trim.node';

export type MallocTrimLoad = { readonly trim: MallocTrim } | { readonly unavailable: string };

/** Where the addon is looked for by default: beside the code running this module, i.e. beside the bundle. */
function besideThisModule(): string {
  return path.dirname(fileURLToPath(import.meta.url));
}

/**
 * Loads `malloc-trim.node` from `directory`. Never throws: a missing or broken addon is a reason, since the
 * service runs the same without it.
 */
export function loadMallocTrim(directory: string = besideThisModule()): MallocTrimLoad {
  const file = path.join(directory, MALLOC_TRIM_ADDON);
  const addon: { exports: { trim?: unknown } } = { exports: {} };
  try {
    process.dlopen(addon, file, os.constants.dlopen.RTLD_NOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // dlopen's own message for a missing file ends with the path; say what to do instead.
    if (code === 'ERR_DLOPEN_FAILED' && /No such file/.test((error as Error).message))
      return { unavailable: `no ${MALLOC_TRIM_ADDON} in ${directory} (bundles carry it: node tools/native.js <dir>)` };
    return { unavailable: `${file} did not load: ${(error as Error).message}` };
  }
  const trim = addon.exports.trim;
  if (typeof trim !== 'function') return { unavailable: `${file} has no trim function` };
  return { trim: () => (trim as () => unknown)() === true };
}
