// Builds the services' one native addon, malloc-trim.node (tools/native/malloc-trim.c), into a
// directory: tools/bundle.js puts it beside every bundle, and the Dockerfiles COPY it beside the bundle
// in the image, where core's idle memory trim loads it (packages/core/src/runtime/malloc-trim.ts).
// Compiled with Debian's gcc (tools/install.sh installs it) against the Node-API headers that the
// pinned `node` npm package ships beside its binary: no node-gyp, nothing downloaded.
// Usage: node tools/native.js <outdir>
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MALLOC_TRIM_ADDON = 'malloc-trim.node';
const source = fileURLToPath(new URL('./native/malloc-trim.c', import.meta.url));

/**
 * The Node-API headers of the node running this script: `<prefix>/include/node` beside `<prefix>/bin/node`,
 * or, for the `node` npm package (whose bin/node is a link to its platform package's), that package's.
 */
function nodeHeaders() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const platformPackage = `node-${process.platform}-${process.arch}`;
  const candidates = [
    path.join(prefix, 'include', 'node'),
    path.join(prefix, 'node_modules', platformPackage, 'include', 'node'),
    path.join(prefix, '..', platformPackage, 'include', 'node'),
  ];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
  if (found === undefined)
    throw new Error(
      `no node_api.h for ${process.execPath} in ${candidates.join(', ')}: run this with the repo's pinned node (npm ci installs it)`,
    );
  return found;
}

/** Compiles malloc-trim.node into `outdir` (written whole, then renamed into place) and returns its path. */
export function buildMallocTrim(outdir) {
  fs.mkdirSync(outdir, { recursive: true });
  const target = path.join(outdir, MALLOC_TRIM_ADDON);
  let headers;
  try {
    headers = nodeHeaders();
  } catch (error) {
    throw new Error(`native: building ${MALLOC_TRIM_ADDON} failed: ${error.message}`, { cause: error });
  }
  // A package whose bundle step runs the bundler twice into one directory (injector, operator) builds it once.
  const inputs = [source, fileURLToPath(import.meta.url), path.join(headers, 'node_api.h')];
  if (fs.existsSync(target) && inputs.every((input) => fs.statSync(input).mtimeMs <= fs.statSync(target).mtimeMs))
    return target;
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    execFileSync(
      'gcc',
      ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror', '-I', headers, '-o', temporary, source],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    execFileSync('strip', ['--strip-unneeded', temporary]);
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    const reason =
      error.code === 'ENOENT' ? `${error.path} is not installed (tools/install.sh installs gcc)` : error.message;
    throw new Error(`native: building ${MALLOC_TRIM_ADDON} failed: ${reason}`, { cause: error });
  }
  return target;
}

if (import.meta.main) {
  const [outdir] = process.argv.slice(2);
  if (!outdir) {
    console.error('usage: node tools/native.js <outdir>');
    process.exit(2);
  }
  try {
    console.log(buildMallocTrim(path.resolve(outdir)));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
