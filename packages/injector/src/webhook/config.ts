import { Option, type Command } from 'commander';
import { parseBoolean, parseDuration } from '@vaultbridge/core';
import type { InjectorDefaults, ResourceDefaults } from '../annotations/defaults.ts';
import { DEFAULT_REVIEW_LIMITS, type ReviewLimits } from '../admission/limits.ts';
import { parseAgentLogLevel } from '@vaultbridge/agent/contract';
import { goCipherSuites } from './tls/ciphers.ts';
import { AGENT_KINDS, type AgentKind } from '../annotations/spec.ts';

/**
 * The webhook's flags, with vault-k8s's names and `AGENT_INJECT_*` environment names, so an existing
 * vault-k8s Deployment (vault-helm's chart sets only env) keeps working. A flag given on the command
 * line wins over its env var (vault-k8s lets a non-empty env var win; with vault-helm only env is set,
 * so the two agree). Every value is read from commander's result by the option's own attribute name
 * (`readServeFlags`), so a flag's key here and the name commander stores it under cannot drift apart
 * (they did: `--memory-request` was stored as `memoryRequest` and read as `memRequest`).
 */
interface FlagSpec {
  /** commander syntax: `--name <value>`, or `--name [bool]` for Go-style booleans */
  readonly flag: string;
  /** upstream environment name; absent for our aliases */
  readonly env?: string;
  readonly description: string;
  readonly defaultValue?: string;
}

const flags = {
  listen: {
    flag: '--listen <addr>',
    env: 'AGENT_INJECT_LISTEN',
    description: 'address to serve HTTPS on',
    defaultValue: ':8080',
  },
  logLevel: {
    flag: '--log-level <level>',
    env: 'AGENT_INJECT_LOG_LEVEL',
    description: 'trace, debug, info (notice), warn (warning) or error (err)',
    defaultValue: 'info',
  },
  logFormat: {
    flag: '--log-format <format>',
    env: 'AGENT_INJECT_LOG_FORMAT',
    description: 'standard or json (both write JSON lines, see README)',
    defaultValue: 'standard',
  },
  vaultAddress: {
    flag: '--vault-address <url>',
    env: 'AGENT_INJECT_VAULT_ADDR',
    description: 'Vault address the agents use',
  },
  vaultCACertBytes: {
    flag: '--vault-cacert-bytes <pem>',
    env: 'AGENT_INJECT_VAULT_CACERT_BYTES',
    description: 'CA (PEM or base64 PEM) the agents trust for Vault',
  },
  proxyAddress: {
    flag: '--proxy-address <url>',
    env: 'AGENT_INJECT_PROXY_ADDR',
    description: 'HTTP proxy the agents use to reach Vault',
  },
  agentImage: {
    flag: '--vault-image <image>',
    env: 'AGENT_INJECT_VAULT_IMAGE',
    description: 'agent image (runs vaultbridge-agent)',
  },
  agentImageAlias: { flag: '--agent-image <image>', description: 'same as --vault-image (ours)' },
  vaultAgentImage: {
    flag: '--vault-agent-image <image>',
    env: 'AGENT_INJECT_VAULT_AGENT_IMAGE',
    description:
      "image of agent-kind vault pods that set no agent-image: HashiCorp's or OpenBao's Vault Agent (ours; default: --vault-image unless it is the vaultbridge agent's default, else hashicorp/vault:1.13.3)",
  },
  authType: {
    flag: '--vault-auth-type <type>',
    env: 'AGENT_INJECT_VAULT_AUTH_TYPE',
    description: 'auth method',
    defaultValue: 'kubernetes',
  },
  authPath: {
    flag: '--vault-auth-path <path>',
    env: 'AGENT_INJECT_VAULT_AUTH_PATH',
    description: 'auth mount path',
    defaultValue: 'auth/kubernetes',
  },
  vaultNamespace: {
    flag: '--vault-namespace <ns>',
    env: 'AGENT_INJECT_VAULT_NAMESPACE',
    description: 'Vault Enterprise / OpenBao namespace',
  },
  revokeOnShutdown: {
    flag: '--revoke-on-shutdown [bool]',
    env: 'AGENT_INJECT_REVOKE_ON_SHUTDOWN',
    description: 'agents revoke their token on exit',
  },
  runAsUser: { flag: '--run-as-user <uid>', env: 'AGENT_INJECT_RUN_AS_USER', description: 'agent user id' },
  runAsGroup: { flag: '--run-as-group <gid>', env: 'AGENT_INJECT_RUN_AS_GROUP', description: 'agent group id' },
  runAsSameUser: {
    flag: '--run-as-same-user [bool]',
    env: 'AGENT_INJECT_RUN_AS_SAME_USER',
    description: 'agents run as the app container user',
  },
  setSecurityContext: {
    flag: '--set-security-context [bool]',
    env: 'AGENT_INJECT_SET_SECURITY_CONTEXT',
    description: 'set the agents security context',
  },
  defaultTemplate: {
    flag: '--default-template <map|json>',
    env: 'AGENT_INJECT_DEFAULT_TEMPLATE',
    description: 'default template for secrets without one',
  },
  cpuRequest: { flag: '--cpu-request <q>', env: 'AGENT_INJECT_CPU_REQUEST', description: 'agent CPU request' },
  memRequest: { flag: '--memory-request <q>', env: 'AGENT_INJECT_MEM_REQUEST', description: 'agent memory request' },
  cpuLimit: { flag: '--cpu-limit <q>', env: 'AGENT_INJECT_CPU_LIMIT', description: 'agent CPU limit' },
  memLimit: { flag: '--memory-limit <q>', env: 'AGENT_INJECT_MEM_LIMIT', description: 'agent memory limit' },
  ephemeralRequest: {
    flag: '--ephemeral-storage-request <q>',
    env: 'AGENT_INJECT_EPHEMERAL_REQUEST',
    description: 'agent ephemeral-storage request',
  },
  ephemeralLimit: {
    flag: '--ephemeral-storage-limit <q>',
    env: 'AGENT_INJECT_EPHEMERAL_LIMIT',
    description: 'agent ephemeral-storage limit',
  },
  initCpuRequest: {
    flag: '--init-cpu-request <q>',
    env: 'AGENT_INJECT_INIT_CPU_REQUEST',
    description: 'init agent CPU request (ours; default: the agent one)',
  },
  initMemRequest: {
    flag: '--init-memory-request <q>',
    env: 'AGENT_INJECT_INIT_MEM_REQUEST',
    description: 'init agent memory request (ours)',
  },
  initCpuLimit: {
    flag: '--init-cpu-limit <q>',
    env: 'AGENT_INJECT_INIT_CPU_LIMIT',
    description: 'init agent CPU limit (ours)',
  },
  initMemLimit: {
    flag: '--init-memory-limit <q>',
    env: 'AGENT_INJECT_INIT_MEM_LIMIT',
    description: 'init agent memory limit (ours)',
  },
  exitOnRetryFailure: {
    flag: '--template-config-exit-on-retry-failure [bool]',
    env: 'AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE',
    description: 'agents exit when rendering keeps failing',
  },
  staticSecretRenderInterval: {
    flag: '--template-static-secret-render-interval <dur>',
    env: 'AGENT_INJECT_TEMPLATE_STATIC_SECRET_RENDER_INTERVAL',
    description: 'how often agents re-read KV secrets',
  },
  maxConnectionsPerHost: {
    flag: '--template-max-connections-per-host <n>',
    env: 'AGENT_INJECT_TEMPLATE_MAX_CONNECTIONS_PER_HOST',
    description: "agents' connection limit to Vault (0 = unlimited; upstream has only the env var)",
  },
  leaseRenewalThreshold: {
    flag: '--template-lease-renewal-threshold <fraction>',
    env: 'AGENT_INJECT_TEMPLATE_LEASE_RENEWAL_THRESHOLD',
    description:
      'fraction of a lease after which agents renew it (upstream has only the env var, and never applies it)',
  },
  authMinBackoff: {
    flag: '--auth-min-backoff <dur>',
    env: 'AGENT_INJECT_AUTH_MIN_BACKOFF',
    description: 'agent auth retry minimum backoff',
  },
  authMaxBackoff: {
    flag: '--auth-max-backoff <dur>',
    env: 'AGENT_INJECT_AUTH_MAX_BACKOFF',
    description: 'agent auth retry maximum backoff',
  },
  disableIdleConnections: {
    flag: '--disable-idle-connections <list>',
    env: 'AGENT_INJECT_DISABLE_IDLE_CONNECTIONS',
    description: 'comma list of auto-auth, caching, templating',
  },
  disableKeepAlives: {
    flag: '--disable-keep-alives <list>',
    env: 'AGENT_INJECT_DISABLE_KEEP_ALIVES',
    description: 'comma list of auto-auth, caching, templating',
  },
  maxSecrets: {
    flag: '--max-secrets <n>',
    env: 'AGENT_INJECT_MAX_SECRETS',
    description: 'secrets one pod may define; a pod with more is denied before its annotations are parsed (ours)',
    defaultValue: String(DEFAULT_REVIEW_LIMITS.maxSecrets),
  },
  maxAnnotations: {
    flag: '--max-annotations <n>',
    env: 'AGENT_INJECT_MAX_ANNOTATIONS',
    description: 'vault.hashicorp.com annotations one pod may carry (ours)',
    defaultValue: String(DEFAULT_REVIEW_LIMITS.maxAnnotations),
  },
  maxAnnotationBytes: {
    flag: '--max-annotation-bytes <n>',
    env: 'AGENT_INJECT_MAX_ANNOTATION_BYTES',
    description: 'total bytes of those annotations (ours)',
    defaultValue: String(DEFAULT_REVIEW_LIMITS.maxAnnotationBytes),
  },
  agentKind: {
    flag: '--agent-kind <vaultbridge|vault>',
    env: 'AGENT_INJECT_AGENT_KIND',
    description:
      "agent the pods run: vaultbridge (ours) or vault (HashiCorp's or OpenBao's Vault Agent, with vault-k8s's config); pods may override with vault.hashicorp.com/agent-kind (ours)",
    defaultValue: 'vaultbridge',
  },
  nativeSidecar: {
    flag: '--native-sidecar [bool]',
    env: 'AGENT_INJECT_NATIVE_SIDECAR',
    description: 'inject the sidecar as a native sidecar (init container, restartPolicy Always) by default (ours)',
  },
  annotationDefaults: {
    flag: '--annotation-defaults <json>',
    env: 'AGENT_INJECT_ANNOTATION_DEFAULTS',
    description: 'cluster-wide annotation defaults as a JSON object (ours)',
  },
  annotationDefaultsConfigMap: {
    flag: '--annotation-defaults-configmap <name>',
    env: 'AGENT_INJECT_ANNOTATION_DEFAULTS_CONFIGMAP',
    description: 'ConfigMap in $NAMESPACE whose data are cluster-wide annotation defaults (ours)',
  },
  tlsCertFile: {
    flag: '--tls-cert-file <file>',
    env: 'AGENT_INJECT_TLS_CERT_FILE',
    description: 'serving certificate (reloaded on change)',
  },
  tlsKeyFile: {
    flag: '--tls-key-file <file>',
    env: 'AGENT_INJECT_TLS_KEY_FILE',
    description: 'serving key (reloaded on change)',
  },
  tlsCACertFile: {
    flag: '--tls-ca-cert-file <file>',
    env: 'AGENT_INJECT_TLS_CA_CERT_FILE',
    description: 'CA of the serving certificate; with --tls-auto it is patched into the webhook configuration',
  },
  tlsAuto: {
    flag: '--tls-auto <mwc-name>',
    env: 'AGENT_INJECT_TLS_AUTO',
    description: 'MutatingWebhookConfiguration whose webhooks get the CA bundle',
  },
  tlsAutoHosts: {
    flag: '--tls-auto-hosts <hosts>',
    env: 'AGENT_INJECT_TLS_AUTO_HOSTS',
    description: 'comma-separated SANs of the generated certificate',
  },
  tlsSecretName: {
    flag: '--tls-secret-name <name>',
    env: 'AGENT_INJECT_TLS_SECRET_NAME',
    description: 'Secret in $NAMESPACE holding the shared CA and certificate (ours)',
    defaultValue: 'vaultbridge-injector-certs',
  },
  tlsMinVersion: {
    flag: '--tls-min-version <tls12|tls13>',
    env: 'AGENT_INJECT_TLS_MIN_VERSION',
    description: 'minimum TLS version',
    defaultValue: 'tls12',
  },
  tlsCipherSuites: {
    flag: '--tls-cipher-suites <list>',
    env: 'AGENT_INJECT_TLS_CIPHER_SUITES',
    description: 'comma list of Go TLS 1.2 cipher suite names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ...)',
  },
  telemetryPath: {
    flag: '--telemetry-path <path>',
    env: 'AGENT_INJECT_TELEMETRY_PATH',
    description: 'also serve the metrics at this path (/metrics is always served)',
  },
  useLeaderElector: {
    flag: '--use-leader-elector [bool]',
    env: 'AGENT_INJECT_USE_LEADER_ELECTOR',
    description: 'accepted for vault-k8s compatibility: --tls-auto always coordinates replicas through a Lease',
  },
  namespace: {
    flag: '--namespace <ns>',
    env: 'NAMESPACE',
    description: 'namespace of the injector (TLS Secret, Lease, ConfigMap)',
    defaultValue: 'default',
  },
  workers: {
    flag: '--workers <n|auto>',
    env: 'AGENT_INJECT_WORKERS',
    description:
      'worker threads that answer reviews (ours): auto = one per CPU beyond the first, up to 4; 0 = on the event loop',
    defaultValue: 'auto',
  },
  podName: { flag: '--pod-name <name>', env: 'POD_NAME', description: 'this replica identity for leader election' },
} satisfies Record<string, FlagSpec>;

export type ServeFlagKey = keyof typeof flags;
export type ServeFlags = { [K in ServeFlagKey]?: string };

const FLAG_SPECS = flags as Record<ServeFlagKey, FlagSpec>;

/** Every environment variable `serve` reads, for the unknown-variable check and the README test. */
export const SERVE_ENV_NAMES: readonly string[] = Object.values(FLAG_SPECS).flatMap((spec) =>
  spec.env === undefined ? [] : [spec.env],
);
/** Every long flag `serve` takes, without dashes. */
export const SERVE_FLAG_NAMES: readonly string[] = Object.values(FLAG_SPECS).map((spec) => longName(spec));

function longName(spec: FlagSpec): string {
  return spec.flag.split(' ')[0]!.slice(2);
}

function optionFor(spec: FlagSpec): Option {
  const envNote = spec.env === undefined ? '' : ` [${spec.env}]`;
  const option = new Option(spec.flag, `${spec.description}${envNote}`);
  if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
  return option;
}

export function addServeOptions(command: Command): Command {
  for (const spec of Object.values(FLAG_SPECS)) command.addOption(optionFor(spec));
  return command;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * commander's parsed options (+ the environment) → ServeFlags, keyed by our names. The command line
 * wins, then a non-empty env var, then the default. A Go-style boolean given alone (`--revoke-on-shutdown`)
 * is true.
 */
export function readServeFlags(command: Command, env: Env): ServeFlags {
  const options = command.opts<Record<string, unknown>>();
  const raw: ServeFlags = {};
  for (const [key, spec] of Object.entries(FLAG_SPECS) as [ServeFlagKey, FlagSpec][]) {
    const attribute = optionFor(spec).attributeName();
    const value = options[attribute];
    const fromCli = command.getOptionValueSource(attribute) === 'cli';
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (fromCli && value !== undefined) raw[key] = value === true ? 'true' : String(value);
    else if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
    else if (value !== undefined) raw[key] = String(value);
  }
  return raw;
}

// Kubernetes service links: a Service named `agent-inject[-x]` in the injector's namespace puts
// AGENT_INJECT[_X]_SERVICE_HOST, _PORT, _PORT_443_TCP_ADDR... into the environment. Not settings.
const SERVICE_LINK = /_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT|PORT_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)$/;

/**
 * `AGENT_INJECT_*` variables that are no setting of ours: a typo would otherwise be ignored, and
 * a migrated Deployment would silently lose what it configures.
 */
export function unknownInjectorEnv(env: Env): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('AGENT_INJECT_') && !SERVE_ENV_NAMES.includes(name) && !SERVICE_LINK.test(name))
    .sort();
}

/**
 * Go's flag package accepts `-name value` and `-name=value` for long flags; vault-k8s users write
 * them that way. Rewrite a single-dash spelling of a known long flag to commander's `--name`.
 */
export function normalizeGoFlags(argv: readonly string[]): string[] {
  return argv.map((arg, index) => {
    const match = /^--?([a-z][a-z0-9-]+)(=.*)?$/s.exec(arg);
    if (!match || !SERVE_FLAG_NAMES.includes(match[1]!)) return arg;
    const [, name, value] = match;
    // A Go boolean flag never takes the next argument as its value (`-revoke-on-shutdown 2>&1`), so
    // unless that argument is a boolean it is made explicit.
    const next = argv[index + 1];
    if (
      value === undefined &&
      BOOLEAN_FLAGS.includes(name!) &&
      (next === undefined || parseBoolean(next) === undefined)
    )
      return `--${name}=true`;
    return `--${name}${value ?? ''}`;
  });
}

const BOOLEAN_FLAGS: readonly string[] = Object.values(FLAG_SPECS)
  .filter((spec) => spec.flag.endsWith('[bool]'))
  .map((spec) => longName(spec));

// vault-helm always sets AGENT_INJECT_VAULT_IMAGE to HashiCorp's Vault image (hashicorp/vault:2.0.4 in
// 0.34.1). Those images have no `vaultbridge-agent`, so a migrated Deployment that keeps the variable
// would inject agents that cannot start.
const FOREIGN_AGENT_IMAGE = /(^|\/)(hashicorp\/vault|vault|openbao\/openbao|openbao)(:|@|$)/;

/** Settings that are valid but almost certainly not meant; logged at start (see serve). */
export function serveWarnings(config: ServeConfig): string[] {
  const warnings: string[] = [];
  const image = config.defaults.agentImage;
  if (image !== undefined && FOREIGN_AGENT_IMAGE.test(image) && config.defaults.agentKind !== 'vault') {
    warnings.push(
      `the agent image ${image} (--vault-image, AGENT_INJECT_VAULT_IMAGE) looks like HashiCorp's or OpenBao's; injected agents run vaultbridge-agent, which only the vaultbridge agent image has: set it to vaultbridge/agent (chart value injector.agentImage), leave it unset, or run HashiCorp's agent with --agent-kind vault`,
    );
  }
  return warnings;
}

/** A flag with a bad value: the message names the flag, its env var and the accepted form. */
export class ServeConfigError extends Error {
  readonly code = 'INVALID_FLAG';
  constructor(key: ServeFlagKey, expected: string, given: string) {
    const spec: FlagSpec = FLAG_SPECS[key];
    const name = spec.flag.split(' ')[0];
    super(
      `${name}${spec.env === undefined ? '' : ` (${spec.env})`}: expected ${expected}, got ${JSON.stringify(given)}`,
    );
    this.name = 'ServeConfigError';
  }
}

export interface ServeConfig {
  host: string;
  port: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'standard' | 'json';
  defaults: InjectorDefaults;
  annotationDefaultsConfigMap?: string;
  tls:
    | { mode: 'files'; certFile: string; keyFile: string; caFile?: string; webhookConfigName?: string }
    | { mode: 'auto'; webhookConfigName: string; hosts: string[]; secretName: string };
  tlsMinVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for Node, from --tls-cipher-suites; absent: Node's defaults */
  tlsCiphers?: string;
  /** extra path the metrics are served at (upstream --telemetry-path) */
  telemetryPath?: string;
  namespace: string;
  podName: string;
  /** admission worker threads, or `auto` (see resolveWorkerCount) */
  workers: number | 'auto';
}

function bool(key: ServeFlagKey, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = parseBoolean(value);
  if (parsed === undefined) throw new ServeConfigError(key, 'true or false', value);
  return parsed;
}

function agentKind(value: string | undefined): AgentKind | undefined {
  if (value === undefined || value === '') return undefined;
  const kind = AGENT_KINDS.find((k) => k === value.toLowerCase());
  if (kind === undefined) throw new ServeConfigError('agentKind', AGENT_KINDS.join(' or '), value);
  return kind;
}

function int(key: ServeFlagKey, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new ServeConfigError(key, 'a non-negative integer', value);
  return Number(value);
}

function fraction(key: ServeFlagKey, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= 0 && parsed <= 1)) throw new ServeConfigError(key, 'a number from 0 to 1, such as 0.9', value);
  return parsed;
}

function duration(key: ServeFlagKey, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (parseDuration(value) === undefined) throw new ServeConfigError(key, 'a duration like 5s or 1m30s', value);
  return value;
}

const FEATURES = ['auto-auth', 'caching', 'templating'];

function featureList(key: ServeFlagKey, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (!items.every((item) => FEATURES.includes(item)))
    throw new ServeConfigError(key, `a comma list of ${FEATURES.join(', ')}`, value);
  return items.join(',');
}

/** Enough threads for any node; more would only be a typo. */
const MAX_WORKERS = 64;

function workerSetting(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  if (!/^\d+$/.test(value) || Number(value) > MAX_WORKERS)
    throw new ServeConfigError('workers', `auto, or a number of worker threads from 0 to ${MAX_WORKERS}`, value);
  return Number(value);
}

function listenAddress(value: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  if (!match) throw new ServeConfigError('listen', 'host:port or :port', value);
  return { host: match[1] || '0.0.0.0', port: Number(match[2]) };
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function logLevel(value: string): ServeConfig['logLevel'] {
  const level = parseAgentLogLevel(value);
  if (typeof level !== 'string') throw new ServeConfigError('logLevel', level.expected, value);
  return level;
}

function logFormat(value: string): ServeConfig['logFormat'] {
  const format = value.trim().toLowerCase();
  if (format !== 'standard' && format !== 'json')
    throw new ServeConfigError('logFormat', '"standard" or "json"', value);
  return format;
}

function tlsSettings(raw: ServeFlags): ServeConfig['tls'] {
  if (raw.tlsCertFile || raw.tlsKeyFile) {
    if (!raw.tlsCertFile || !raw.tlsKeyFile)
      throw new ServeConfigError(
        raw.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile',
        'both --tls-cert-file and --tls-key-file',
        '',
      );
    return compact({
      mode: 'files' as const,
      certFile: raw.tlsCertFile,
      keyFile: raw.tlsKeyFile,
      caFile: raw.tlsCACertFile || undefined,
      webhookConfigName: raw.tlsAuto || undefined,
    });
  }
  if (raw.tlsCACertFile)
    throw new ServeConfigError(
      'tlsCACertFile',
      'to be given with --tls-cert-file and --tls-key-file (it is the CA of that certificate)',
      raw.tlsCACertFile,
    );
  if (!raw.tlsAuto)
    throw new ServeConfigError(
      'tlsAuto',
      'the MutatingWebhookConfiguration name (or give --tls-cert-file and --tls-key-file)',
      '',
    );
  const hosts = (raw.tlsAutoHosts ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  if (hosts.length === 0)
    throw new ServeConfigError(
      'tlsAutoHosts',
      'comma-separated DNS names or IPs, e.g. vaultbridge-injector.vault.svc',
      raw.tlsAutoHosts ?? '',
    );
  return {
    mode: 'auto',
    webhookConfigName: raw.tlsAuto,
    hosts,
    secretName: raw.tlsSecretName ?? 'vaultbridge-injector-certs',
  };
}

function positive(key: ServeFlagKey, value: string | undefined): number | undefined {
  const parsed = int(key, value);
  if (parsed === 0) throw new ServeConfigError(key, 'a positive integer', value ?? '');
  return parsed;
}

function limitSettings(raw: ServeFlags): Partial<ReviewLimits> | undefined {
  const limits = compact({
    maxSecrets: positive('maxSecrets', raw.maxSecrets),
    maxAnnotations: positive('maxAnnotations', raw.maxAnnotations),
    maxAnnotationBytes: positive('maxAnnotationBytes', raw.maxAnnotationBytes),
  });
  return Object.keys(limits).length > 0 ? limits : undefined;
}

/** Flags and env → a typed configuration. Throws ServeConfigError naming the first bad flag. */
export function parseServeFlags(raw: ServeFlags): ServeConfig {
  const resources: ResourceDefaults = compact({
    requestsCpu: raw.cpuRequest,
    requestsMem: raw.memRequest,
    requestsEphemeral: raw.ephemeralRequest,
    limitsCpu: raw.cpuLimit,
    limitsMem: raw.memLimit,
    limitsEphemeral: raw.ephemeralLimit,
  });
  const initResources: ResourceDefaults = compact({
    requestsCpu: raw.initCpuRequest,
    requestsMem: raw.initMemRequest,
    limitsCpu: raw.initCpuLimit,
    limitsMem: raw.initMemLimit,
  });
  let annotations: Record<string, string> | undefined;
  if (raw.annotationDefaults) {
    try {
      const parsed: unknown = JSON.parse(raw.annotationDefaults);
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        Array.isArray(parsed) ||
        !Object.values(parsed).every((v) => typeof v === 'string')
      )
        throw new Error();
      annotations = parsed as Record<string, string>;
    } catch {
      throw new ServeConfigError(
        'annotationDefaults',
        'a JSON object of annotation name to string value',
        raw.annotationDefaults,
      );
    }
  }
  const defaultTemplate = raw.defaultTemplate?.toLowerCase();
  if (defaultTemplate && defaultTemplate !== 'map' && defaultTemplate !== 'json') {
    throw new ServeConfigError('defaultTemplate', '"map" or "json"', raw.defaultTemplate ?? '');
  }
  if (raw.agentImage && raw.agentImageAlias && raw.agentImage !== raw.agentImageAlias) {
    throw new ServeConfigError(
      'agentImageAlias',
      `the same image as --vault-image (${raw.agentImage}), or only one of the two`,
      raw.agentImageAlias,
    );
  }
  const defaults: InjectorDefaults = compact({
    vaultAddress: raw.vaultAddress,
    vaultCACertBytes: raw.vaultCACertBytes,
    proxyAddress: raw.proxyAddress,
    agentImage: raw.agentImage || raw.agentImageAlias,
    vaultAgentImage: raw.vaultAgentImage || undefined,
    authType: raw.authType,
    authPath: raw.authPath,
    vaultNamespace: raw.vaultNamespace,
    revokeOnShutdown: bool('revokeOnShutdown', raw.revokeOnShutdown),
    runAsUser: int('runAsUser', raw.runAsUser),
    runAsGroup: int('runAsGroup', raw.runAsGroup),
    runAsSameUser: bool('runAsSameUser', raw.runAsSameUser),
    setSecurityContext: bool('setSecurityContext', raw.setSecurityContext),
    defaultTemplate: defaultTemplate || undefined,
    resources: Object.keys(resources).length > 0 ? resources : undefined,
    initResources: Object.keys(initResources).length > 0 ? initResources : undefined,
    exitOnRetryFailure: bool('exitOnRetryFailure', raw.exitOnRetryFailure),
    staticSecretRenderInterval: duration('staticSecretRenderInterval', raw.staticSecretRenderInterval),
    maxConnectionsPerHost: int('maxConnectionsPerHost', raw.maxConnectionsPerHost),
    leaseRenewalThreshold: fraction('leaseRenewalThreshold', raw.leaseRenewalThreshold),
    authMinBackoff: duration('authMinBackoff', raw.authMinBackoff),
    authMaxBackoff: duration('authMaxBackoff', raw.authMaxBackoff),
    disableIdleConnections: featureList('disableIdleConnections', raw.disableIdleConnections),
    disableKeepAlives: featureList('disableKeepAlives', raw.disableKeepAlives),
    nativeSidecar: bool('nativeSidecar', raw.nativeSidecar),
    agentKind: agentKind(raw.agentKind),
    limits: limitSettings(raw),
    annotations,
  });
  bool('useLeaderElector', raw.useLeaderElector);

  const minVersion = raw.tlsMinVersion ?? 'tls12';
  if (minVersion !== 'tls12' && minVersion !== 'tls13')
    throw new ServeConfigError('tlsMinVersion', '"tls12" or "tls13"', minVersion);
  let tlsCiphers: string | undefined;
  if (raw.tlsCipherSuites) {
    const ciphers = goCipherSuites(raw.tlsCipherSuites);
    if ('unknown' in ciphers)
      throw new ServeConfigError(
        'tlsCipherSuites',
        `Go TLS cipher suite names (unknown: ${ciphers.unknown.join(', ')})`,
        raw.tlsCipherSuites,
      );
    tlsCiphers = ciphers.openssl;
  }
  if (raw.telemetryPath && (!raw.telemetryPath.startsWith('/') || /[\s?#]/.test(raw.telemetryPath))) {
    throw new ServeConfigError('telemetryPath', 'an absolute URL path such as /metrics', raw.telemetryPath);
  }
  return {
    ...listenAddress(raw.listen ?? ':8080'),
    logLevel: logLevel(raw.logLevel ?? 'info'),
    logFormat: logFormat(raw.logFormat ?? 'standard'),
    defaults,
    ...(raw.annotationDefaultsConfigMap ? { annotationDefaultsConfigMap: raw.annotationDefaultsConfigMap } : {}),
    tls: tlsSettings(raw),
    tlsMinVersion: minVersion === 'tls13' ? 'TLSv1.3' : 'TLSv1.2',
    ...(tlsCiphers === undefined ? {} : { tlsCiphers }),
    ...(raw.telemetryPath && raw.telemetryPath !== '/metrics' ? { telemetryPath: raw.telemetryPath } : {}),
    namespace: raw.namespace ?? 'default',
    podName: raw.podName ?? `vaultbridge-injector-${process.pid}`,
    workers: workerSetting(raw.workers ?? 'auto'),
  };
}
