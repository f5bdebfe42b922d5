// What the packages' bundle tests share: the commands of a package's bundle step, a module-load log for a
// bundle run as a process, and which of a package's CommonJS wrappers a bundle calls at start.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Each `node tools/bundle.js ...` of a package's bundle script, with its arguments (entries, --lazy). A step
 * that only stages a file beside the bundles (the agent's `bash ../../tools/images/stage-exec-wrapper.sh`)
 * is left out; any other command fails.
 */
export function bundleCommands(packageDir: string): string[][] {
  const script = (
    JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { scripts: { bundle: string } }
  ).scripts.bundle;
  return script.split('&&').flatMap((command) => {
    const words = command.trim().split(/\s+/);
    if (words[0] === 'bash' && words.length === 2 && /tools\/images\/stage-[\w-]+\.sh$/.test(words[1]!)) return [];
    if (words[0] !== 'node' || !words[1]?.endsWith('tools/bundle.js'))
      throw new Error(`unexpected bundle command: ${command}`);
    return [words.slice(2)];
  });
}

/**
 * Writes a hook to preload with --import into `dir`: it appends the URL of every module the process loads
 * (ESM and require) to `log`. Returns the hook's path.
 */
export function moduleLogHook(dir: string, log: string): string {
  const hook = path.join(dir, `module-log-${path.basename(log)}.mjs`);
  fs.writeFileSync(
    hook,
    `import fs from 'node:fs';
import { registerHooks } from 'node:module';
registerHooks({
  load(url, context, nextLoad) {
    fs.appendFileSync(${JSON.stringify(log)}, url + '\\n');
    return nextLoad(url, context);
  },
});
`,
  );
  return hook;
}

/** esbuild's CommonJS wrappers (`var require_x = __commonJS({ "<file>"...`) of a package's files in a bundle. */
export function commonJsWrappersOf(bundleSource: string, packageName: string): string[] {
  return [...bundleSource.matchAll(/^var (require_[\w$]+) = __commonJS\(\{\n\s*"([^"]+)"/gm)]
    .filter((match) => match[2]!.includes(`node_modules/${packageName}/`))
    .map((match) => match[1]!);
}

/**
 * The top-level statements (column 0) of an unminified bundle that call one of these wrappers, apart from
 * a lazy loader's arrow (`var loadX = () => ...`): empty when the package is not evaluated at start.
 */
export function eagerWrapperCalls(bundleSource: string, wrappers: readonly string[]): string[] {
  return bundleSource
    .split('\n')
    .filter((line) => /^\S/.test(line) && !/^var load[\w$]* = \(\) =>/.test(line))
    .filter((line) => wrappers.some((wrapper) => line.includes(`${wrapper}()`)));
}
