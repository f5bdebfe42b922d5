#!/usr/bin/env node
// `vaultbridge-agent`: the agent the injector puts in the pod. `init` renders every secret once and
// exits; `sidecar` keeps them fresh; `probe` is the native sidecar's startup probe.

import fs from 'node:fs';
import type { Command } from 'commander';
import { createLogger, createProgram, runProgram, type CliIo, type Logger } from '@vaultbridge/core';
import { AGENT_ROOT_ENV, AgentConfigError, READY_FILE, type AgentMode } from '../contract/index.ts';
import { runInit } from '../init.ts';
import { loadAgentConfig, retryBudgetMs } from '../load-config.ts';
import { agentPaths } from '../paths.ts';
import { probeReady } from '../probe.ts';
import { runSidecar } from '../sidecar.ts';
import { addTemplateCommand } from './agent-template.ts';

export function createAgentProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = createProgram(
    'vaultbridge-agent',
    'The Vaultbridge agent: renders Vault secrets into the pod (configured by VAULTBRIDGE_AGENT_CONFIG)',
    io,
  );
  const env = io.env ?? {};
  program.addHelpText(
    'after',
    `
Environment:
  VAULTBRIDGE_AGENT_CONFIG           base64 JSON AgentConfig (set by the injector)
  VAULTBRIDGE_AGENT_CONFIG_FILE      a JSON AgentConfig file instead
  VAULTBRIDGE_AGENT_RETRY_BUDGET_MS  how long init and the first sidecar render retry (default 120000)
  VAULTBRIDGE_AGENT_ROOT             test/dev aid: prefix for every absolute path the agent reads or writes`,
  );
  const run = (mode: AgentMode) => async (): Promise<void> => setExitCode(await runMode(mode, io, env));
  program
    .command('init')
    .description('log in, write the token sinks, render every secret once, exit 0 (non-zero after the retry budget)')
    .action(run('init'));
  program
    .command('sidecar')
    .description('render, then keep the token alive, renew leases, re-render on change and run commands until SIGTERM')
    .action(run('sidecar'));
  program
    .command('probe')
    .description('exit 0 once the sidecar finished its first render (its ready file exists), else 1')
    .option('--ready-file <path>', 'the ready file', READY_FILE)
    .action((options: { readyFile: string }) => {
      setExitCode(probeReady(options.readyFile, agentPaths(env[AGENT_ROOT_ENV])) ? 0 : 1);
    });
  addTemplateCommand(program, io, setExitCode);
  return program;
}

async function runMode(mode: AgentMode, io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let logger: Logger = createLogger({ name: 'vaultbridge-agent', destination: io.stdout, base: { mode } });
  try {
    const config = loadAgentConfig(env, (file) => fs.readFileSync(file, 'utf8'));
    const budget = retryBudgetMs(env);
    logger = createLogger({
      name: 'vaultbridge-agent',
      level: config.log.level,
      destination: io.stdout,
      base: { mode },
    });
    const options = { config, paths: agentPaths(env[AGENT_ROOT_ENV]), logger, retryBudgetMs: budget };
    return mode === 'init' ? await runInit(options) : await runSidecar(options);
  } catch (error) {
    if (error instanceof AgentConfigError) {
      logger.error({ issues: error.issues }, error.message);
      io.stderr.write(`vaultbridge-agent: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** Run with `argv` (arguments after the program name); resolves to the exit code. */
export function runAgentCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = createAgentProgram(io, (code) => (exitCode = code));
  return runProgram(program, argv, () => exitCode);
}

if (import.meta.main) {
  // Exit explicitly: idle keep-alive connections to Vault must not keep a finished init alive.
  process.exit(
    await runAgentCli(process.argv.slice(2), {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
    }),
  );
}
