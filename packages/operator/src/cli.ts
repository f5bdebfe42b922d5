// `vaultbridge-operator`: runs the controllers against a cluster from a kubeconfig (flag, $KUBECONFIG,
// ~/.kube/config, in-cluster). Flags fall back to VSO_-style environment variables; both are checked
// alike by settings.ts.
import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import {
  ConfigError,
  connectKube,
  createHealthServer,
  createLogger,
  createMetricsRegistry,
  countIdleMemoryTrims,
  createProgram,
  createShutdown,
  LeaseLock,
  LOG_LEVELS,
  startServiceMemoryTrim,
} from '@vaultbridge/core';
import { addConvertCommand } from './convert/convert-command.ts';
import { installCrds } from './install-crds.ts';
import { KubeJson } from './runtime/kube-json.ts';
import { startOperator, type RunningOperator } from './operator.ts';
import { DEFAULT_SETTINGS, readOperatorSettings } from './settings.ts';

export interface CliIo {
  /** for `convert -` (files otherwise) */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

function readNamespaceFile(): string | undefined {
  try {
    return fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8');
  } catch {
    return undefined;
  }
}

export function createOperatorProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const env = io.env;
  const program = createProgram(
    'vaultbridge-operator',
    'Syncs Vault KV secrets into Kubernetes Secrets (VaultStaticSecret, secrets.vaultbridge.dev/v1beta1).',
    io,
  )
    .option('--kubeconfig <path>', 'kubeconfig file (env KUBECONFIG; default ~/.kube/config, then in-cluster)')
    .option(
      '--operator-namespace <ns>',
      "namespace of default VaultAuth/VaultConnection and the leader lease (default: the pod's namespace, env OPERATOR_NAMESPACE, default)",
    )
    .option('--install-crds', 'create or update the CRDs at start, for local runs (env VSO_INSTALL_CRDS)')
    .option(
      '--max-concurrent-reconciles <n>',
      `objects of each kind reconciled at once (env VSO_MAX_CONCURRENT_RECONCILES; default ${DEFAULT_SETTINGS.maxConcurrentReconciles})`,
    )
    .option(
      '--health-probe-bind-address <addr>',
      `health and metrics server, host:port (env VSO_HEALTH_PROBE_BIND_ADDRESS; default ${DEFAULT_SETTINGS.healthProbeBindAddress})`,
    )
    .option('--leader-elect', 'elect one active replica through a coordination.k8s.io Lease (env VSO_LEADER_ELECT)')
    .option(
      '--allowed-vault-addresses <list>',
      'comma-separated Vault addresses VaultConnections may name; others are refused (env VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES; default: any)',
    )
    .option(
      '--serve-vso-api-group',
      "serve VSO's API group secrets.hashicorp.com/v1beta1 instead of ours, for a cluster moving off VSO; refused while VSO's controller runs (env VAULTBRIDGE_SERVE_VSO_API_GROUP)",
    )
    .option(
      '--vso-hmac-key-secret <[namespace/]name>',
      "with --serve-vso-api-group: VSO's HMAC key Secret, so VaultDynamicSecrets VSO synced are taken over without new credentials (env VAULTBRIDGE_VSO_HMAC_KEY_SECRET; default: the one Secret labelled as VSO's, vso-cc-storage-hmac-key)",
    )
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')} (env LOG_LEVEL; default ${DEFAULT_SETTINGS.logLevel})`)
    .action(async (_options: unknown, command: Command) => {
      // Only what was typed counts as a flag; the environment fills the rest, through the same checks.
      const flags = Object.fromEntries(
        Object.entries(command.opts()).filter(([name]) => command.getOptionValueSource(name) === 'cli'),
      );
      const namespaceFile = readNamespaceFile();
      const options = readOperatorSettings({ flags, env, ...(namespaceFile === undefined ? {} : { namespaceFile }) });
      const logger = createLogger({ name: 'vaultbridge-operator', level: options.logLevel });
      const shutdown = createShutdown({ logger }).listen();
      // In a pod: the service account, read by KubeHttp itself. client-node is loaded only to read a
      // kubeconfig file (--kubeconfig, $KUBECONFIG, ~/.kube/config), from a bundle of its own (core's kube/connect.ts).
      const kube = new KubeJson(await connectKube(options.kubeconfig, KubeJson.poolOptions));
      const metrics = createMetricsRegistry({ defaultMetrics: true, defaultLabels: { service: 'operator' } });
      const health = createHealthServer({ metrics, logger });
      const { url } = await health.listen(options.healthProbeBind.port, options.healthProbeBind.host);
      logger.info({ url }, 'health and metrics server listening');
      shutdown.onShutdown('health', () => health.setShuttingDown(), { order: 0 });
      shutdown.onShutdown('health close', () => health.close(), { order: 100 });
      // What a sync burst grew (V8 keeps its young generation at the largest size it reached) is given
      // back once the operator is quiet between refreshes.
      const memoryTrim = startServiceMemoryTrim({ logger, onTrim: countIdleMemoryTrims(metrics.registry) });
      shutdown.onShutdown('idle memory trim', () => memoryTrim?.stop(), { order: 0 });

      if (options.installCrds) {
        await installCrds(kube, undefined, { vsoGroup: options.serveVsoApiGroup });
        logger.info('CRDs installed');
      }
      let operator: RunningOperator | undefined;
      health.addReadinessCheck('informers', () => operator?.ready() ?? options.leaderElect);
      const run = async (): Promise<void> => {
        operator = await startOperator({
          kube,
          logger,
          operatorNamespace: options.operatorNamespace,
          concurrency: options.maxConcurrentReconciles,
          metrics,
          ...(options.podUid ? { runtimePodUid: options.podUid } : {}),
          allowedVaultAddresses: options.allowedVaultAddresses,
          serveVsoApiGroup: options.serveVsoApiGroup,
          ...(options.vsoHmacKeySecret ? { vsoHmacKeySecret: options.vsoHmacKeySecret } : {}),
        });
        // Said once: every object the informers listed has been reconciled (every work queue drained).
        void operator.initialSync.then(() => logger.info('first sync done'));
      };
      shutdown.onShutdown('operator', () => operator?.stop(), { order: 10 });
      if (options.leaderElect) {
        const lock = new LeaseLock({
          // Its own pool: a renewal must not wait behind a sync's writes for one of their sockets.
          kube: kube.http.withPool({ maxSockets: 2, maxFreeSockets: 1 }),
          namespace: options.operatorNamespace,
          name: 'vaultbridge-operator-leader',
          identity: options.podName ?? os.hostname(),
        });
        lock.on(
          'leading',
          () =>
            void run().catch((error: unknown) => {
              logger.error({ err: error }, 'operator failed to start');
              void shutdown.shutdown('start failed', 1);
            }),
        );
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

const SETTINGS_HINT: Record<string, string> = {
  environment:
    'fix or unset the variable (unset, the default applies; a flag of the same name wins over it); --help lists each setting',
  flags: 'fix the flag; --help lists each setting and its form',
};

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
    if (error instanceof ConfigError) io.stderr.write(`${SETTINGS_HINT[error.source] ?? ''}\n`);
    return 1;
  }
}

// Run when this file is the entry point (the esbuild bundle, or `node src/cli.ts`).
if (import.meta.main) {
  const code = await runOperatorCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  if (code !== 0) process.exit(code);
}
