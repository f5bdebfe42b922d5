#!/usr/bin/env node
// Development entry; images run dist/bundle/cli.mjs (`npm run bundle`).
const { runOperatorCli } = await import('../src/cli.ts');
const code = await runOperatorCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
// A started operator keeps the process alive until SIGTERM; only a failed start exits here.
if (code !== 0) process.exit(code);
