// Bundles a service's CLI entry points into single minified ESM files for Node 24 with every
// dependency inlined: the form the images, the demo and the benchmarks run (client-node alone costs
// ~122 MiB RSS unbundled and ~79 MiB bundled and tree-shaken).
// Usage (from a package dir): node ../../tools/bundle.js src/cli/injector.ts [more entries]
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { duplicatePackageCopies, serviceBuildOptions } from './bundle-plugins.js';
import { writeCaDirectory } from './ca-directory.js';
import { buildMallocTrim } from './native.js';

// --lazy <package> (repeatable): the package may be in the bundle only behind a lazy import, never
// evaluated at start (the webhook must not load @kubernetes/client-node in a pod; core's KubeHttp imports
// it only to read a kubeconfig file). The bundle fails when a static import chain reaches it.
const argv = process.argv.slice(2);
const lazyPackages = [];
for (let i = argv.indexOf('--lazy'); i !== -1; i = argv.indexOf('--lazy')) {
  const [, name] = argv.splice(i, 2);
  if (!name) {
    console.error('--lazy needs a package name');
    process.exit(2);
  }
  lazyPackages.push(name);
}
// --outdir <dir>: where the bundles go (default dist/bundle); a test bundles into a temporary directory
// to run exactly what the package's bundle step ships without touching its dist/.
let outdir = path.resolve('dist/bundle');
const outdirAt = argv.indexOf('--outdir');
if (outdirAt !== -1) {
  const [, dir] = argv.splice(outdirAt, 2);
  if (!dir) {
    console.error('--outdir needs a directory');
    process.exit(2);
  }
  outdir = path.resolve(dir);
}
const entries = argv;
if (entries.length === 0) {
  console.error('usage: node tools/bundle.js [--lazy <package>]... [--outdir <dir>] <entry.ts>...');
  process.exit(2);
}
const entryFiles = new Set(entries.map((entry) => path.resolve(entry)));

// In one bundle every module shares the bundle's import.meta, so a CLI module pulled in through another
// package's index (`if (import.meta.main) run()`) would start too. Only the entries keep their check.
const onlyEntriesAreMain = {
  name: 'only-entries-are-main',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (entryFiles.has(args.path)) return undefined;
      const source = await readFile(args.path, 'utf8');
      return source.includes('import.meta.main')
        ? { contents: source.replaceAll('import.meta.main', 'false'), loader: 'ts' }
        : undefined;
    });
  },
};

const result = await build({
  ...serviceBuildOptions,
  entryPoints: entries,
  plugins: [onlyEntriesAreMain, ...serviceBuildOptions.plugins],
  minify: true,
  sourcemap: 'linked',
  outdir,
  // Flat names (dist/bundle/<entry>.mjs) whatever folders the entries are in: the injector finds its
  // worker thread's bundle next to its own.
  entryNames: '[name]',
  outExtension: { '.js': '.mjs' },
  metafile: true,
  logLevel: 'warning',
});
// V8 keeps a script's source in memory for lazy compilation, one byte per character only while every
// character is Latin-1. esbuild escapes non-ASCII in strings but not in regular expression literals, and
// one `/μs/` (core's duration parser) made the whole 3.5 MB source two bytes per character: +3.4 MiB RSS
// for every service. \uXXXX means the same character in strings, templates, regexes and identifiers
// (not inside String.raw, which the bundles do not use on non-ASCII text); columns after an escaped
// character shift in the source map.
async function asciiOnly(file) {
  const text = await readFile(file, 'utf8');
  const escaped = text.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped !== text) await writeFile(file, escaped);
  return Buffer.byteLength(escaped);
}
// A module imported lazily (`await import(...)`) is wrapped by esbuild in an initialiser, and so is every
// module it imports. When that reaches a workspace package's index (`@vaultbridge/core` instead of
// `@vaultbridge/core/metrics`), the static importers of that index call its initialiser at start, which
// evaluates every module the index re-exports, used or not: the agent once evaluated prom-client,
// handlebars and all of core this way because of one lazy module. The unminified build shows it as a
// top-level `init_x();` of an `index.ts`; fail the bundle rather than ship it.
async function eagerlyInitialisedIndexes() {
  const check = await build({
    ...serviceBuildOptions,
    entryPoints: entries,
    plugins: [onlyEntriesAreMain, ...serviceBuildOptions.plugins],
    minify: false,
    outdir,
    entryNames: '[name]',
    outExtension: { '.js': '.mjs' },
    write: false,
    logLevel: 'silent',
  });
  const found = [];
  for (const output of check.outputFiles) {
    const modules = new Map(
      [...output.text.matchAll(/^var (init_[\w$]+) = __esm\(\{\n\s*"([^"]+)"/gm)].map((m) => [m[1], m[2]]),
    );
    // Every module of a --lazy package must be wrapped (an ESM module in an __esm initialiser, a CommonJS
    // one in __commonJS) and its initialiser must not be called at the top level.
    for (const name of lazyPackages) {
      const inPackage = (file) => file.includes(`node_modules/${name}/`);
      const wrapped = new Set([...modules.values()].filter(inPackage));
      for (const m of output.text.matchAll(/^var require_[\w$]+ = __commonJS\(\{\n\s*"([^"]+)"/gm))
        if (inPackage(m[1])) wrapped.add(m[1]);
      const inlined = [...output.text.matchAll(/^\/\/ (\S+)$/gm)]
        .map((m) => m[1])
        .filter((file) => inPackage(file) && !wrapped.has(file));
      const called = [...output.text.matchAll(/^(init_[\w$]+)\(\);$/gm)]
        .map((m) => modules.get(m[1]))
        .filter((file) => file !== undefined && inPackage(file));
      for (const file of [...new Set([...inlined, ...called])])
        found.push(`${path.basename(output.path)}: ${file} (--lazy ${name}) is evaluated at start`);
    }
    for (const [, name] of output.text.matchAll(/^(init_[\w$]+)\(\);$/gm)) {
      const module = modules.get(name);
      // Paths are relative to the package being bundled (../core/src/index.ts, src/agent/index.ts).
      if (module && !module.includes('node_modules/') && /(^|\/)src\/(.+\/)?index\.ts$/.test(module))
        found.push(`${path.basename(output.path)}: ${module}`);
    }
  }
  return [...new Set(found)];
}
// One copy of each package name@version (tools/bundle-plugins.js, onePackageCopy): a second copy is
// bundled and evaluated beside the first, and a large one (mime-db) costs its size again in every service.
const duplicates = duplicatePackageCopies(result.metafile);
if (duplicates.length > 0) {
  console.error(
    `bundle: these packages are in a bundle more than once (same name and version, installed at several paths):\n  ${duplicates.join('\n  ')}\n` +
      'onePackageCopy (tools/bundle-plugins.js) sends every import of a name@version to one copy; see why it missed these.',
  );
  process.exit(1);
}
const eager = await eagerlyInitialisedIndexes();
if (eager.length > 0) {
  console.error(
    `bundle: these modules are evaluated at start:\n  ${eager.join('\n  ')}\n` +
      'A package index wrapped for a lazy import: a module loaded with `await import(...)` imports it; import the narrowest entry or module instead (e.g. @vaultbridge/core/metrics, not @vaultbridge/core). ' +
      'A --lazy package: a static import chain reaches it; import it with `await import(...)` where it is needed.',
  );
  process.exit(1);
}
for (const file of Object.keys(result.metafile.outputs)) {
  if (file.endsWith('.mjs'))
    console.log(`${path.relative(process.cwd(), file)}  ${((await asciiOnly(file)) / 1024).toFixed(0)} KiB`);
}
// The images' trust store beside the bundles (tools/ca-directory.js): Node's bundled roots as a hashed
// directory, which the Dockerfiles COPY to /app/ca-certificates and point SSL_CERT_DIR at.
const caDir = path.join(outdir, 'ca-certificates');
console.log(`${path.relative(process.cwd(), caDir)}/  ${writeCaDirectory(caDir)} roots of Node ${process.version}`);
// The native addon the idle memory trim calls malloc_trim through (tools/native.js), found beside the
// bundle; the Dockerfiles COPY it beside the bundle in the image.
try {
  console.log(`${path.relative(process.cwd(), buildMallocTrim(outdir))}  (malloc_trim for the idle memory trim)`);
} catch (error) {
  console.error(`bundle: ${error.message}`);
  process.exit(1);
}
