#!/usr/bin/env node
// Development entry (after `tsc -b`); images, the demo and the benchmarks run dist/bundle/cli.mjs.
const { runCsiProviderCli } = await import('../src/cli.ts');
process.exit(
  await runCsiProviderCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }),
);
