#!/usr/bin/env node
// `vaultbridge-injector`: the injector's command line. `render` works offline; `serve` runs the webhook.

import type { Command } from 'commander';
import { createProgram, runProgram, type CliIo } from './program.ts';
import { addRenderCommand } from './render.ts';
import { addServeCommand } from './serve.ts';

export function createInjectorProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = createProgram('vaultbridge-injector', 'Vault secrets for Kubernetes pods: a drop-in for the vault.hashicorp.com agent injector', io);
  addRenderCommand(program, io, setExitCode);
  addServeCommand(program, io, setExitCode);
  return program;
}

/** Run with `argv` (arguments after the program name); resolves to the exit code. */
export function runInjectorCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = createInjectorProgram(io, (code) => (exitCode = code));
  return runProgram(program, argv, () => exitCode);
}

if (import.meta.main) {
  process.exitCode = await runInjectorCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  });
}
