import type { Command } from 'commander';
import { addServeOptions, parseServeFlags, type ServeFlags } from '../webhook/config.ts';
import { checkInjectorDefaults } from '../annotations/parse.ts';
import { serveWebhook } from '../webhook/serve.ts';
import type { CliIo } from './program.ts';

/**
 * Adds `serve`: the mutating webhook over HTTPS. Bad flags (or bad default annotations) stop it at
 * start with a message naming the flag and its env var, exit code 2.
 */
export function addServeCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): Command {
  const command = program.command('serve').description('run the mutating admission webhook (POST /mutate, GET /health/ready, GET /metrics)');
  addServeOptions(command);
  return command.action(async (flags: ServeFlags) => {
    let config;
    try {
      config = parseServeFlags(flags);
    } catch (error) {
      io.stderr.write(`serve: ${error instanceof Error ? error.message : String(error)}\n`);
      setExitCode(2);
      return;
    }
    const issues = checkInjectorDefaults(config.defaults);
    if (issues.length > 0) {
      for (const issue of issues) io.stderr.write(`serve: ${issue.annotation}: ${issue.message}\n`);
      setExitCode(2);
      return;
    }
    await serveWebhook(config, { installSignalHandlers: true });
  });
}
