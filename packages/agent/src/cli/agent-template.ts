// `vaultbridge-agent template`: render a template without a pod, to debug it. Go templates (the
// default) use consul-template's functions, whose secret/secrets/pkiCert calls go to VAULT_ADDR with
// VAULT_TOKEN; `--functions vso` uses the operator's set over `--data` as VSO's context. Prints the
// output (exit 0) or the error with its line and column (exit 1). This is the user's own terminal, so
// the error is Go's full message.
import fs from 'node:fs';
import type { Command } from 'commander';
import {
  consulTemplateFuncs,
  DependencyBrain,
  fromJson,
  GoTemplate,
  GoTemplateError,
  renderWithDependencies,
  VaultClient,
  vaultDependencyResolver,
  VSO_FUNCS,
  type CliIo,
  type DependencyResolver,
  type GoValue,
} from '@vaultbridge/core';

interface TemplateOptions {
  functions: string;
  data?: string;
  leftDelim?: string;
  rightDelim?: string;
  missingKey?: string;
}

export function addTemplateCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('template')
    .description('render a Go template file once and print it (exit 0), or print the error with its line (exit 1)')
    .argument('<template-file>', 'the template')
    .option('--functions <set>', "consul-template (the agent's) or vso (the operator's)", 'consul-template')
    .option('--data <file.json>', 'JSON for the template\'s "." (numbers as Go\'s encoding/json decodes them: float64)')
    .option('--left-delim <text>', 'left delimiter', '{{')
    .option('--right-delim <text>', 'right delimiter', '}}')
    .option('--missing-key <mode>', 'default, zero or error (error-on-missing-key)', 'default')
    .action(async (file: string, options: TemplateOptions) => setExitCode(await renderTemplateFile(file, options, io)));
}

async function renderTemplateFile(file: string, options: TemplateOptions, io: CliIo): Promise<number> {
  const fail = (message: string, code = 1): number => {
    io.stderr.write(`${message}\n`);
    return code;
  };
  if (options.functions !== 'consul-template' && options.functions !== 'vso')
    return fail(`--functions: "${options.functions}" is not a function set; use consul-template or vso`, 2);
  if (!['default', 'zero', 'error'].includes(options.missingKey ?? 'default'))
    return fail(`--missing-key: use default, zero or error`, 2);
  let text: string;
  let data: GoValue;
  try {
    text = fs.readFileSync(file, 'utf8');
    data = options.data === undefined ? undefined : fromJson(fs.readFileSync(options.data, 'utf8'));
  } catch (error) {
    return fail(
      `cannot read ${error instanceof SyntaxError ? `--data ${options.data} (not JSON)` : ((error as NodeJS.ErrnoException).path ?? file)}: ${(error as Error).message}`,
      2,
    );
  }
  const brain = new DependencyBrain();
  const env = io.env ?? {};
  const goOptions = {
    funcs: options.functions === 'vso' ? VSO_FUNCS : consulTemplateFuncs({ brain, env }),
    delims: [options.leftDelim ?? '{{', options.rightDelim ?? '}}'] as const,
    missingKey: (options.missingKey ?? 'default') as 'default' | 'zero' | 'error',
  };
  try {
    const template = GoTemplate.parse(file, text, goOptions);
    let output: string;
    if (options.functions === 'vso') output = template.executeValue(data);
    else {
      let client: VaultClient | undefined;
      const resolve: DependencyResolver = (dep) => {
        client ??= VaultClient.fromEnv({}, env as NodeJS.ProcessEnv);
        return vaultDependencyResolver(client)(dep);
      };
      output = await renderWithDependencies(template, brain, resolve, data);
    }
    io.stdout.write(output);
    return 0;
  } catch (error) {
    if (error instanceof GoTemplateError) return fail(error.message);
    return fail(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
