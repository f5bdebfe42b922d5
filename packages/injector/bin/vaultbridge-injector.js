#!/usr/bin/env node
// Development entry (after `tsc -b`); images, the demo and the benchmarks run dist/bundle/injector.mjs.
const { runInjectorCli } = await import('../src/cli/injector.ts');
process.exitCode = await runInjectorCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
