// `vaultbridge-operator`: runs the controllers against a cluster from a kubeconfig (flag, $KUBECONFIG,
// ~/.kube/config, in-cluster). Flags fall back to VSO_-style environment variables.
import fs from 'node:fs';
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { createHealthServer, createLogger, createMetricsRegistry, createShutdown, LeaseLock, loadKubeConfig, LOG_LEVELS, type LogLevel } from '@vaultbridge/core';
import { VaultAddressPolicy } from './guards/vault-address.ts';
import { addConvertCommand } from './convert/convert-command.ts';
import { installCrds } from './install-crds.ts';
import { startOperator, type RunningOperator } from './operator.ts';

export interface CliIo {
  /** for `convert -` (files otherwise) */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

function logLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value.toLowerCase())) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
  return value.toLowerCase() as LogLevel;
}

/** The operator's namespace, as VSO finds it: in-cluster namespace file, then OPERATOR_NAMESPACE, then `default`. */
function defaultOperatorNamespace(env: NodeJS.ProcessEnv): string {
  try {
    return fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return env.OPERATOR_NAMESPACE || 'default';
  }
}

export function createOperatorProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const env = io.env;
  const program = new Command('vaultbridge-operator')
    .description('Syncs Vault KV secrets into Kubernetes Secrets (VaultStaticSecret, secrets.vaultbridge.dev/v1beta1).')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)', env.KUBECONFIG || undefined)
    .option('--operator-namespace <ns>', 'namespace of default VaultAuth/VaultConnection and the leader lease (env OPERATOR_NAMESPACE)', defaultOperatorNamespace(env))
    .option('--install-crds', 'create or update the CRDs at start (local runs)', env.VSO_INSTALL_CRDS === 'true')
    .option('--max-concurrent-reconciles <n>', 'objects of each kind reconciled at once (env VSO_MAX_CONCURRENT_RECONCILES)', positiveInteger, Number(env.VSO_MAX_CONCURRENT_RECONCILES) || 100)
    .option('--health-probe-bind-address <addr>', 'health and metrics server, host:port', env.VSO_HEALTH_PROBE_BIND_ADDRESS || '0.0.0.0:8081')
    .option('--leader-elect', 'elect one active replica through a coordination.k8s.io Lease', env.VSO_LEADER_ELECT === 'true')
    .option('--allowed-vault-addresses <list>', 'comma-separated Vault addresses VaultConnections may name; others are refused (env VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES; default: any)', addressList, addressList(env.VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES ?? ''))
    .option('--log-level <level>', 'debug, info, warn, error (env LOG_LEVEL)', logLevel, (env.LOG_LEVEL as LogLevel | undefined) ?? 'info')
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride()
    .action(async (options: {
      kubeconfig?: string; operatorNamespace: string; installCrds: boolean; maxConcurrentReconciles: number;
      healthProbeBindAddress: string; leaderElect: boolean; logLevel: LogLevel; allowedVaultAddresses: string[];
    }) => {
      const logger = createLogger({ name: 'vaultbridge-operator', level: options.logLevel });
      const shutdown = createShutdown({ logger }).listen();
      const kubeConfig = loadKubeConfig(options.kubeconfig);
      const metrics = createMetricsRegistry({ defaultMetrics: true, defaultLabels: { service: 'operator' } });
      const health = createHealthServer({ metrics, logger });
      const [host, port] = splitHostPort(options.healthProbeBindAddress);
      const { url } = await health.listen(port, host);
      logger.info({ url }, 'health and metrics server listening');
      shutdown.onShutdown('health', () => health.setShuttingDown(), { order: 0 });
      shutdown.onShutdown('health close', () => health.close(), { order: 100 });

      if (options.installCrds) {
        await installCrds(kubeConfig);
        logger.info('CRDs installed');
      }
      let operator: RunningOperator | undefined;
      health.addReadinessCheck('informers', () => operator?.ready() ?? options.leaderElect);
      const run = async (): Promise<void> => {
        operator = await startOperator({
          kubeConfig, logger, operatorNamespace: options.operatorNamespace, concurrency: options.maxConcurrentReconciles, metrics,
          ...(env.OPERATOR_POD_UID ? { runtimePodUid: env.OPERATOR_POD_UID } : {}),
          allowedVaultAddresses: options.allowedVaultAddresses,
        });
      };
      shutdown.onShutdown('operator', () => operator?.stop(), { order: 10 });
      if (options.leaderElect) {
        const lock = new LeaseLock({ kubeConfig, namespace: options.operatorNamespace, name: 'vaultbridge-operator-leader', identity: env.POD_NAME || os.hostname() });
        lock.on('leading', () => void run().catch((error: unknown) => {
          logger.error({ err: error }, 'operator failed to start');
          void shutdown.shutdown('start failed', 1);
        }));
        // Losing the lease means another replica may be writing: stop at once and let the pod restart.
        lock.on('lost', () => void shutdown.shutdown('leader lease lost', 1));
        lock.on('error', (error) => logger.warn({ err: error }, 'leader election error'));
        shutdown.onShutdown('leader lease', () => lock.stop(), { order: 20 });
        lock.start();
      } else {
        await run();
      }
      setExitCode(0);
    });
  addConvertCommand(program, io, setExitCode);
  return program;
}

/** `a, b` → ['a', 'b'], each a valid Vault address (checked here so a typo stops the start). */
function addressList(value: string): string[] {
  const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  try {
    new VaultAddressPolicy(entries);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return entries;
}

function splitHostPort(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  const port = Number(address.slice(index + 1));
  if (index < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`--health-probe-bind-address: "${address}" is not host:port`);
  return [address.slice(0, index) || '0.0.0.0', port];
}

/** Runs the CLI; resolves once the operator runs (the process then lives until SIGTERM). */
export async function runOperatorCli(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = createOperatorProgram(io, (value) => {
    code = value;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    const commanderCode = (error as { code?: string; exitCode?: number }).code;
    if (commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version') return 0;
    if (commanderCode?.startsWith('commander.')) return (error as { exitCode?: number }).exitCode ?? 2;
    io.stderr.write(`vaultbridge-operator: ${(error as Error).message}\n`);
    return 1;
  }
}

// Run when this file is the entry point (the esbuild bundle, or `node src/cli.ts`).
if (import.meta.main) {
  const code = await runOperatorCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
  if (code !== 0) process.exit(code);
}
