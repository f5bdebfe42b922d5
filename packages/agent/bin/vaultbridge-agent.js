#!/usr/bin/env node
// Development entry (after `tsc -b`); images, the demo and the benchmarks run dist/bundle/agent.mjs.
const { runAgentCli } = await import('../src/cli/agent.ts');
// Exit explicitly: idle keep-alive connections to Vault must not keep a finished init alive.
process.exit(
  await runAgentCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  }),
);
