#!/usr/bin/env node
// `vaultbridge-csi-provider`: flags (same names as vault-csi-provider's) → ProviderServer + health/metrics
// server + SIGTERM handling. Only wiring lives here.
import { Option, type Command } from 'commander';
import { loadOrCreateHmacKey } from './hmac-key.ts';
import { connectProviderKube, providerNamespace } from './kube-access.ts';
import {
  createHealthServer,
  createLogger,
  createMetricsRegistry,
  countIdleMemoryTrims,
  createProgram,
  createShutdown,
  LOG_LEVELS,
  parseBoolean,
  runProgram,
  type LogLevel,
  startServiceMemoryTrim,
} from '@vaultbridge/core';
import { defaultMaxObjectsPerMount, type ProviderFlags } from './config.ts';
import { defaultEndpoint, ProviderServer, runtimeName, runtimeVersion } from './server.ts';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

interface CliOptions {
  endpoint: string;
  healthAddr: string;
  vaultAddr?: string;
  vaultMount: string;
  vaultNamespace?: string;
  vaultTlsCaCert?: string;
  vaultTlsCaDirectory?: string;
  vaultTlsServerName?: string;
  vaultTlsClientCert?: string;
  vaultTlsClientKey?: string;
  vaultTlsSkipVerify?: string | boolean;
  cacheSize: string;
  concurrency: string;
  logLevel: string;
  kubeconfig?: string;
  hmacSecretName: string;
  allowedVaultAddresses?: string;
  maxObjectsPerMount: string;
  warmUp: boolean;
  version?: boolean;
}

const longFlags = new Set([
  'endpoint',
  'health-addr',
  'vault-addr',
  'vault-mount',
  'vault-namespace',
  'vault-tls-ca-cert',
  'vault-tls-ca-directory',
  'vault-tls-server-name',
  'vault-tls-client-cert',
  'vault-tls-client-key',
  'vault-tls-skip-verify',
  'cache-size',
  'concurrency',
  'log-level',
  'kubeconfig',
  'hmac-secret-name',
  'allowed-vault-addresses',
  'max-objects-per-mount',
  'no-warm-up',
  'version',
  'debug',
]);

/** Go's flag package accepts `-endpoint=…` as well as `--endpoint=…`; existing manifests use the single dash. */
export function normalizeGoFlags(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const match = /^-([a-z][a-z-]*)(=.*)?$/.exec(arg);
    return match && longFlags.has(match[1] as string) ? `-${arg}` : arg;
  });
}

/** `:8080` → port 8080 on all interfaces. */
function parseHealthAddr(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const port = Number(text.slice(at + 1));
  if (at === -1 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--health-addr: expected [host]:port such as ":8080", got "${text}"`);
  return { host: text.slice(0, at) || '0.0.0.0', port };
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value)) throw new Error(`${flag}: expected an integer, got "${text}"`);
  return value;
}

/** `https://vault-a:8200, https://vault-b` → the addresses, each checked to be a URL Vault could be at. */
export function parseAllowedVaultAddresses(text: string | undefined, name = '--allowed-vault-addresses'): string[] {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:', 'unix:'].includes(url.protocol)) {
      throw new Error(
        `${name}: "${entry}" is not a Vault address; expected comma-separated http(s)://host[:port] or unix:///path entries`,
      );
    }
  }
  return entries;
}

/** Options a variable fills when its flag is not given (read from io.env, so tests and the process agree). */
const OPTION_VARIABLES = {
  vaultAddr: 'VAULT_ADDR',
  vaultNamespace: 'VAULT_NAMESPACE',
  logLevel: 'LOG_LEVEL',
  allowedVaultAddresses: 'VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES',
} as const satisfies Partial<Record<keyof CliOptions, string>>;

type SettingNames = Record<keyof typeof OPTION_VARIABLES, string>;

/**
 * Fills unset flags from their variables (empty counts as unset) and returns, for each, the name the
 * value came in under, so a bad value is refused naming what the user wrote: `LOG_LEVEL` or `--log-level`.
 */
function applyEnvironment(command: Command, env: NodeJS.ProcessEnv): SettingNames {
  const names = {} as SettingNames;
  for (const [key, variable] of Object.entries(OPTION_VARIABLES) as [keyof typeof OPTION_VARIABLES, string][]) {
    const value = env[variable];
    const fromEnv = command.getOptionValueSource(key) !== 'cli' && value !== undefined && value !== '';
    if (fromEnv) command.setOptionValueWithSource(key, value, 'env');
    names[key] = fromEnv ? variable : `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
  }
  return names;
}

async function serve(options: CliOptions, io: CliIo, names: SettingNames): Promise<number> {
  const level = (
    options.logLevel === 'trace' ? 'trace' : options.logLevel === 'off' ? 'silent' : options.logLevel
  ) as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    const fix = names.logLevel === '--log-level' ? 'fix the flag' : 'fix or unset the variable (default info)';
    throw new Error(
      `${names.logLevel}: expected one of trace, debug, info, warn, error, off, got ${JSON.stringify(options.logLevel)}; ${fix}`,
    );
  }
  const logger = createLogger({ name: runtimeName, level });
  const skipVerify =
    options.vaultTlsSkipVerify === undefined
      ? undefined
      : options.vaultTlsSkipVerify === true || parseBoolean(options.vaultTlsSkipVerify) === true;
  const flags: ProviderFlags = {
    vaultAddr: options.vaultAddr,
    vaultNamespace: options.vaultNamespace,
    vaultMount: options.vaultMount,
    tls: Object.fromEntries(
      Object.entries({
        caFile: options.vaultTlsCaCert,
        caPath: options.vaultTlsCaDirectory,
        tlsServerName: options.vaultTlsServerName,
        clientCert: options.vaultTlsClientCert,
        clientKey: options.vaultTlsClientKey,
        skipVerify,
      }).filter(([, value]) => value !== undefined),
    ),
    allowedVaultAddresses: parseAllowedVaultAddresses(options.allowedVaultAddresses, names.allowedVaultAddresses),
    maxObjectsPerMount: Math.max(1, positiveInt(options.maxObjectsPerMount, '--max-objects-per-mount')),
  };
  // One Kubernetes client for the HMAC key and the TokenRequest fallback: in a pod the service account
  // over node:https, client-node only for a kubeconfig (kube-access.ts).
  const namespace = providerNamespace(io.env);
  const kube = await connectProviderKube(options.kubeconfig, io.env).catch((error: unknown) => {
    // Kubernetes is only needed for TokenRequest when the driver sends no pod token.
    logger.warn({ err: error }, 'no Kubernetes access: mounts need CSIDriver tokenRequests (audience vault)');
    logger.warn(
      'no Kubernetes access: object versions use a per-process HMAC key and change when the provider restarts',
    );
    return undefined;
  });
  let hmacKey: Buffer | undefined;
  if (kube) {
    try {
      hmacKey = await loadOrCreateHmacKey(kube, namespace, options.hmacSecretName, logger);
    } catch (error) {
      // Mounting matters more than stable versions: serve with a per-process key and say so.
      logger.warn(
        { err: error, secret: `${namespace}/${options.hmacSecretName}` },
        'cannot read or create the HMAC key Secret; object versions use a per-process key',
      );
    }
  }
  const metrics = createMetricsRegistry({ defaultMetrics: true, defaultLabels: { service: 'csi-provider' } });
  const server = new ProviderServer({
    logger,
    flags,
    metrics,
    ...(kube ? { kube } : {}),
    env: io.env,
    ...(hmacKey ? { hmacKey } : {}),
    cacheSize: positiveInt(options.cacheSize, '--cache-size'),
    concurrency: Math.max(1, positiveInt(options.concurrency, '--concurrency')),
    warmUp: options.warmUp,
  });
  const health = createHealthServer({ metrics, logger });
  const shutdown = createShutdown({ logger }).listen();
  shutdown.onShutdown('health not ready', () => health.setShuttingDown(), { order: 0 });
  shutdown.onShutdown('grpc server', () => server.close(), { order: 10 });
  shutdown.onShutdown('health server', () => health.close(), { order: 100 });
  if (kube) shutdown.onShutdown('kubernetes client', () => kube.close(), { order: 100 });
  await server.listen(options.endpoint);
  const { host, port } = parseHealthAddr(options.healthAddr);
  const bound = await health.listen(port, host);
  logger.info({ health: bound.url }, 'health and metrics listening');
  // What start-up and a burst of mounts grew is given back once the provider is quiet.
  const memoryTrim = startServiceMemoryTrim({ logger, onTrim: countIdleMemoryTrims(metrics.registry) });
  shutdown.onShutdown('idle memory trim', () => memoryTrim?.stop(), { order: 0 });
  await new Promise<void>((resolve) => shutdown.signal.addEventListener('abort', () => resolve(), { once: true }));
  return 0;
}

export function createCliProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const env = io.env;
  return createProgram(
    runtimeName,
    'Vault secrets for the Secrets Store CSI Driver: a drop-in for hashicorp/vault-csi-provider',
    io,
  )
    .option('--endpoint <path>', 'unix socket to serve the driver on', defaultEndpoint)
    .option('--health-addr <addr>', 'health (/healthz, /readyz) and /metrics listen address', ':8080')
    .addOption(new Option('--vault-addr <url>', 'default Vault address (SPC vaultAddress wins) (env VAULT_ADDR)'))
    .option(
      '--vault-mount <path>',
      'default Kubernetes/JWT auth mount (SPC vaultKubernetesMountPath wins)',
      'kubernetes',
    )
    .addOption(new Option('--vault-namespace <ns>', 'default Vault namespace (env VAULT_NAMESPACE)'))
    .option('--vault-tls-ca-cert <file>', 'CA PEM file for Vault (VAULT_CACERT)')
    .option('--vault-tls-ca-directory <dir>', 'directory of CA PEM files (VAULT_CAPATH)')
    .option('--vault-tls-server-name <name>', 'TLS server name (VAULT_TLS_SERVER_NAME)')
    .option('--vault-tls-client-cert <file>', 'client certificate PEM (VAULT_CLIENT_CERT)')
    .option('--vault-tls-client-key <file>', 'client key PEM (VAULT_CLIENT_KEY)')
    .option('--vault-tls-skip-verify [bool]', 'skip Vault TLS verification (VAULT_SKIP_VERIFY)')
    .option('--cache-size <n>', 'Vault identities (tokens) kept', '1000')
    .option('--concurrency <n>', 'objects of one mount read from Vault at once', '4')
    .addOption(
      new Option('--log-level <level>', 'trace, debug, info, warn, error, off (env LOG_LEVEL)').default('info'),
    )
    .option('--kubeconfig <file>', 'kubeconfig for TokenRequest (default $KUBECONFIG, ~/.kube/config, in-cluster)')
    .addOption(
      new Option(
        '--allowed-vault-addresses <list>',
        "comma-separated Vault addresses a SecretProviderClass may name besides --vault-addr; the provider's own TokenRequest goes only to these (env VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES)",
      ),
    )
    .option(
      '--max-objects-per-mount <n>',
      'objects one SecretProviderClass may mount',
      String(defaultMaxObjectsPerMount),
    )
    .option(
      '--hmac-secret-name <name>',
      "Secret (in $NAMESPACE or the service account's namespace) holding the HMAC key for object versions; created when absent",
      'vault-csi-provider-hmac-key',
    )
    .option('--no-warm-up', 'serve without running the mount path once first (the first mount is then slower)')
    .option('--debug', 'deprecated upstream; ignored')
    .option('--version', 'print the version and exit')
    .action(async (options: CliOptions, command: Command) => {
      const names = applyEnvironment(command, env);
      if (options.version) {
        io.stdout.write(`${JSON.stringify({ runtimeName, gitVersion: runtimeVersion, minDriverVersion: 'v1.0.0' })}\n`);
        setExitCode(0);
        return;
      }
      setExitCode(await serve(options, { ...io, env }, names));
    });
}

/** Runs with `argv` (after the program name); resolves to the exit code once shut down. */
export async function runCsiProviderCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = createCliProgram(io, (code) => (exitCode = code));
  return runProgram(program, normalizeGoFlags(argv), () => exitCode, {
    onError: (error) => {
      io.stderr.write(`${runtimeName}: ${(error as Error).message}\n`);
      return 1;
    },
  });
}

if (import.meta.main) {
  process.exitCode = await runCsiProviderCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
}
