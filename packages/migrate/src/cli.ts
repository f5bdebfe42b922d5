// `vaultbridge-migrate --to operator|csi [FILE...]`: reads manifests (files, `-` or no file for stdin),
// writes the converted manifests to stdout (or --output) and the report of what could not be expressed
// to stderr (or --report). Exit 0 when nothing is an error, 3 when some object needs a person, 2 on bad
// input or usage.
import { readFile, writeFile } from 'node:fs/promises';
import { Option } from 'commander';
import { createProgram, loadKubeConfig, runProgram, VaultClient } from '@vaultbridge/core';
import { readNamespace } from './cluster.ts';
import { formatManifests, ManifestError, parseManifests, type Manifest } from './manifests.ts';
import { migrate, TARGETS, type Target } from './migrate.ts';
import { readMounts, vaultPathsOf } from './vault-mounts.ts';
import { formatFindings } from './report.ts';

export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

export const EXIT_NEEDS_REVIEW = 3;

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function readInputs(files: readonly string[], io: CliIo): Promise<Manifest[]> {
  const sources = files.length === 0 ? ['-'] : files;
  const manifests: Manifest[] = [];
  for (const file of sources) {
    const text = file === '-' ? await readStream(io.stdin) : await readFile(file, 'utf8');
    manifests.push(...parseManifests(text, file === '-' ? 'stdin' : file));
  }
  return manifests;
}

interface Options {
  to: Target;
  namespace?: string;
  vaultAddress?: string;
  authPath?: string;
  providerVaultAddress?: string;
  fromNamespace?: string;
  askVault?: boolean;
  kubeconfig?: string;
  output?: string;
  report?: string;
  format: 'text' | 'json';
}

export async function runMigrateCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = createProgram(
    'vaultbridge-migrate',
    'Converts Vault secret delivery between methods: vault.hashicorp.com injector annotations, SecretProviderClass (vault provider), VSO (secrets.hashicorp.com) and Vaultbridge operator objects (secrets.vaultbridge.dev).',
    io,
  )
    .argument('[files...]', 'manifest files (multi-document YAML or JSON); none or "-" reads stdin')
    .addOption(new Option('--to <method>', 'target method').choices(TARGETS).makeOptionMandatory())
    .option(
      '--from-namespace <ns>',
      'read the namespace through the API server instead of files (workloads, SecretProviderClasses, VSO and Vaultbridge objects)',
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig for --from-namespace (default $KUBECONFIG, ~/.kube/config, in-cluster)',
      io.env.KUBECONFIG || undefined,
    )
    .option(
      '--ask-vault',
      "ask Vault (VAULT_ADDR, VAULT_TOKEN) which engine serves each path instead of reading it from the path's shape",
    )
    .option('-n, --namespace <ns>', 'namespace for documents that name none (default: default)')
    .option(
      '--vault-address <url>',
      "the injector's Vault address (its --vault-addr, AGENT_INJECT_VAULT_ADDR) for pods without vault.hashicorp.com/service",
      io.env.AGENT_INJECT_VAULT_ADDR || undefined,
    )
    .option(
      '--auth-path <path>',
      "the injector's auth path (AGENT_INJECT_VAULT_AUTH_PATH) for pods without vault.hashicorp.com/auth-path",
      io.env.AGENT_INJECT_VAULT_AUTH_PATH || undefined,
    )
    .option(
      '--provider-vault-address <url>',
      "the CSI provider's -vault-addr, for SecretProviderClasses without vaultAddress",
    )
    .option('-o, --output <file>', 'write the converted manifests here instead of stdout')
    .option('--report <file>', 'write the report here instead of stderr')
    .addOption(
      new Option('--report-format <format>', 'report as text or json').choices(['text', 'json']).default('text'),
    )
    .action(async (files: string[], raw: Omit<Options, 'format'> & { reportFormat: 'text' | 'json' }) => {
      const options: Options = { ...raw, format: raw.reportFormat };
      let input: Manifest[];
      let namespace = options.namespace;
      if (options.fromNamespace !== undefined) {
        // A usage error: said here, since runProgram answers commander's own errors with 2 and no text.
        if (files.length > 0) throw new ManifestError('give files or --from-namespace, not both');
        input = (await readNamespace(loadKubeConfig(options.kubeconfig), options.fromNamespace)).manifests;
        namespace = options.fromNamespace;
      } else {
        input = await readInputs(files, io);
      }
      const injectorDefaults = {
        ...(options.vaultAddress ? { vaultAddress: options.vaultAddress } : {}),
        ...(options.authPath ? { authPath: options.authPath } : {}),
      };
      const mounts = options.askVault
        ? await readMounts(VaultClient.fromEnv({}, io.env), vaultPathsOf(input))
        : undefined;
      const result = migrate(input, {
        ...(mounts ? { mounts } : {}),
        to: options.to,
        injectorDefaults,
        ...(namespace ? { namespace } : {}),
        ...(options.providerVaultAddress ? { providerVaultAddress: options.providerVaultAddress } : {}),
      });
      const manifests = formatManifests(result.manifests);
      const report =
        options.format === 'json' ? `${JSON.stringify(result.findings, null, 2)}\n` : formatFindings(result.findings);
      if (options.output) await writeFile(options.output, manifests);
      else io.stdout.write(manifests);
      if (options.report) await writeFile(options.report, report);
      else io.stderr.write(report);
      code = result.findings.some((finding) => finding.severity === 'error') ? EXIT_NEEDS_REVIEW : 0;
    });
  return runProgram(program, argv, () => code, {
    onError: (error) => {
      if (error instanceof ManifestError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
        io.stderr.write(`vaultbridge-migrate: ${(error as Error).message}\n`);
        return 2;
      }
      throw error;
    },
  });
}

// Run when this file is the entry point (the esbuild bundle, or `node src/cli.ts`).
if (import.meta.main) {
  process.exitCode = await runMigrateCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
}
