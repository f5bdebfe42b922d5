import type { Command } from 'commander';
import type { CliIo } from '@vaultbridge/core';
import {
  addServeOptions,
  parseServeFlags,
  readServeFlags,
  unknownInjectorEnv,
  type ServeConfig,
} from '../webhook/config.ts';
import { checkInjectorDefaults } from '../annotations/parse.ts';
import { serveWebhook } from '../webhook/serve.ts';
import { childProcessIssuer, selfIssuerCommand } from '../webhook/tls/index.ts';

// vault-helm runs vault-k8s as `agent-inject 2>&1`: the second argument is a literal string (no shell
// runs it), which vault-k8s ignores. Accepted here for the same reason, and nothing else is.
const IGNORED_ARGUMENTS = ['2>&1'];

/**
 * `serve` (alias `agent-inject`, vault-k8s's subcommand name): the flags and the environment → a
 * checked ServeConfig, or the problems, each naming the flag or variable. Exported for tests: the
 * vault-helm table test runs the real command line through it.
 */
export function serveConfigFrom(
  command: Command,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { config: ServeConfig } | { problems: string[] } {
  const problems: string[] = [];
  for (const arg of args) {
    if (!IGNORED_ARGUMENTS.includes(arg))
      problems.push(`unexpected argument ${JSON.stringify(arg)}: serve takes only flags (see --help)`);
  }
  for (const name of unknownInjectorEnv(env)) {
    problems.push(
      `${name}: not a setting of vaultbridge-injector serve; remove it or fix its name (serve --help lists every AGENT_INJECT_* variable)`,
    );
  }
  if (problems.length > 0) return { problems };
  let config: ServeConfig;
  try {
    config = parseServeFlags(readServeFlags(command, env));
  } catch (error) {
    return { problems: [error instanceof Error ? error.message : String(error)] };
  }
  const issues = checkInjectorDefaults(config.defaults);
  if (issues.length > 0) return { problems: issues.map((issue) => `${issue.annotation}: ${issue.message}`) };
  return { config };
}

/**
 * How the command line starts the webhook: its own signal handlers, and with --tls-auto the certificates
 * made by this same program run again as a child. Only --tls-auto makes certificates, so with certificate
 * files the running script need not be known (`issuerCommand` throws when it is not: `node -e`, an embedder).
 */
export function commandLineServeOptions(
  config: ServeConfig,
  issuerCommand: () => [string, ...string[]] = selfIssuerCommand,
): NonNullable<Parameters<typeof serveWebhook>[1]> {
  return {
    installSignalHandlers: true,
    ...(config.tls.mode === 'auto' ? { certificateIssuer: childProcessIssuer({ command: issuerCommand() }) } : {}),
  };
}

/**
 * Adds `serve`: the mutating webhook over HTTPS. Bad flags, unknown `AGENT_INJECT_*` variables or bad
 * default annotations stop it at start with a message naming each, exit code 2.
 */
export function addServeCommand(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
  start: (config: ServeConfig) => Promise<unknown> = (config) => serveWebhook(config, commandLineServeOptions(config)),
): Command {
  const command = program
    .command('serve')
    .alias('agent-inject')
    .description('run the mutating admission webhook (POST /mutate, GET /health/ready, GET /metrics)')
    .argument('[ignored...]', 'vault-helm passes a literal "2>&1"; it is ignored as vault-k8s does');
  addServeOptions(command);
  return command.action(async (args: string[], _options: unknown, self: Command) => {
    const result = serveConfigFrom(self, args, io.env ?? {});
    if ('problems' in result) {
      for (const problem of result.problems) io.stderr.write(`serve: ${problem}\n`);
      setExitCode(2);
      return;
    }
    await start(result.config);
  });
}
