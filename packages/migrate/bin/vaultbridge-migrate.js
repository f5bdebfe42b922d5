#!/usr/bin/env node
// Development entry; `npm run bundle` makes dist/bundle/cli.mjs.
const { runMigrateCli } = await import('../src/cli.ts');
process.exitCode = await runMigrateCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
