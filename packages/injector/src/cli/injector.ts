#!/usr/bin/env node
// `vaultbridge-injector`: the injector's command line. `render` works offline; `serve` runs the webhook.

import type { Command } from 'commander';
import { createProgram, runProgram, type CliIo } from '@vaultbridge/core';
import { addRenderCommand } from './render.ts';
import { addIssueCertificateCommand } from './issue-certificate.ts';
import { addServeCommand } from './serve.ts';
import { normalizeGoFlags, type ServeConfig } from '../webhook/config.ts';

export interface InjectorCliOptions {
  /** what `serve` runs with its checked configuration; tests capture it instead of listening */
  readonly startWebhook?: (config: ServeConfig) => Promise<unknown>;
}

export function createInjectorProgram(
  io: CliIo,
  setExitCode: (code: number) => void,
  options: InjectorCliOptions = {},
): Command {
  const program = createProgram(
    'vaultbridge-injector',
    'Vault secrets for Kubernetes pods: a drop-in for the vault.hashicorp.com agent injector',
    io,
  );
  addRenderCommand(program, io, setExitCode);
  addServeCommand(program, io, setExitCode, options.startWebhook);
  addIssueCertificateCommand(program, io, setExitCode);
  return program;
}

/** Run with `argv` (arguments after the program name); resolves to the exit code. */
export function runInjectorCli(argv: readonly string[], io: CliIo, options: InjectorCliOptions = {}): Promise<number> {
  let exitCode = 0;
  const program = createInjectorProgram(io, (code) => (exitCode = code), options);
  // vault-k8s's flags are Go flags (`-vault-address=…`); `serve` accepts that spelling too.
  const args = argv[0] === 'serve' || argv[0] === 'agent-inject' ? [argv[0], ...normalizeGoFlags(argv.slice(1))] : argv;
  return runProgram(program, args, () => exitCode);
}

if (import.meta.main) {
  process.exitCode = await runInjectorCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  });
}
