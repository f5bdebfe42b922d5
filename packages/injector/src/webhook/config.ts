import { Option, type Command } from 'commander';
import { parseBoolean, parseDuration } from '@vaultbridge/core';
import type { InjectorDefaults, ResourceDefaults } from '../annotations/defaults.ts';

/**
 * The webhook's flags, with upstream's `AGENT_INJECT_*` environment names so an existing
 * vault-k8s Deployment keeps working. A flag given on the command line wins over its env var.
 */
interface FlagSpec {
  flag: string;
  env: string;
  description: string;
  defaultValue?: string;
}

const flags = {
  listen: { flag: '--listen <addr>', env: 'AGENT_INJECT_LISTEN', description: 'address to serve HTTPS on', defaultValue: ':8080' },
  logLevel: { flag: '--log-level <level>', env: 'AGENT_INJECT_LOG_LEVEL', description: 'trace|debug|info|warn|error', defaultValue: 'info' },
  vaultAddress: { flag: '--vault-address <url>', env: 'AGENT_INJECT_VAULT_ADDR', description: 'Vault address the agents use' },
  vaultCACertBytes: { flag: '--vault-cacert-bytes <pem>', env: 'AGENT_INJECT_VAULT_CACERT_BYTES', description: 'CA (PEM or base64 PEM) the agents trust for Vault' },
  proxyAddress: { flag: '--proxy-address <url>', env: 'AGENT_INJECT_PROXY_ADDR', description: 'HTTP proxy the agents use' },
  agentImage: { flag: '--agent-image <image>', env: 'AGENT_INJECT_VAULT_IMAGE', description: 'agent image (vaultbridge-agent)' },
  authType: { flag: '--vault-auth-type <type>', env: 'AGENT_INJECT_VAULT_AUTH_TYPE', description: 'auth method', defaultValue: 'kubernetes' },
  authPath: { flag: '--vault-auth-path <path>', env: 'AGENT_INJECT_VAULT_AUTH_PATH', description: 'auth mount path', defaultValue: 'auth/kubernetes' },
  vaultNamespace: { flag: '--vault-namespace <ns>', env: 'AGENT_INJECT_VAULT_NAMESPACE', description: 'Vault Enterprise namespace' },
  revokeOnShutdown: { flag: '--revoke-on-shutdown <bool>', env: 'AGENT_INJECT_REVOKE_ON_SHUTDOWN', description: 'agents revoke their token on exit' },
  runAsUser: { flag: '--run-as-user <uid>', env: 'AGENT_INJECT_RUN_AS_USER', description: 'agent user id' },
  runAsGroup: { flag: '--run-as-group <gid>', env: 'AGENT_INJECT_RUN_AS_GROUP', description: 'agent group id' },
  runAsSameUser: { flag: '--run-as-same-user <bool>', env: 'AGENT_INJECT_RUN_AS_SAME_USER', description: 'agents run as the app container user' },
  setSecurityContext: { flag: '--set-security-context <bool>', env: 'AGENT_INJECT_SET_SECURITY_CONTEXT', description: 'set the agents security context' },
  defaultTemplate: { flag: '--default-template <map|json>', env: 'AGENT_INJECT_DEFAULT_TEMPLATE', description: 'default template for secrets without one' },
  cpuRequest: { flag: '--cpu-request <q>', env: 'AGENT_INJECT_CPU_REQUEST', description: 'agent CPU request' },
  memRequest: { flag: '--memory-request <q>', env: 'AGENT_INJECT_MEM_REQUEST', description: 'agent memory request' },
  cpuLimit: { flag: '--cpu-limit <q>', env: 'AGENT_INJECT_CPU_LIMIT', description: 'agent CPU limit' },
  memLimit: { flag: '--memory-limit <q>', env: 'AGENT_INJECT_MEM_LIMIT', description: 'agent memory limit' },
  ephemeralRequest: { flag: '--ephemeral-storage-request <q>', env: 'AGENT_INJECT_EPHEMERAL_REQUEST', description: 'agent ephemeral-storage request' },
  ephemeralLimit: { flag: '--ephemeral-storage-limit <q>', env: 'AGENT_INJECT_EPHEMERAL_LIMIT', description: 'agent ephemeral-storage limit' },
  initCpuRequest: { flag: '--init-cpu-request <q>', env: 'AGENT_INJECT_INIT_CPU_REQUEST', description: 'init agent CPU request (ours; default: the agent one)' },
  initMemRequest: { flag: '--init-memory-request <q>', env: 'AGENT_INJECT_INIT_MEM_REQUEST', description: 'init agent memory request (ours)' },
  initCpuLimit: { flag: '--init-cpu-limit <q>', env: 'AGENT_INJECT_INIT_CPU_LIMIT', description: 'init agent CPU limit (ours)' },
  initMemLimit: { flag: '--init-memory-limit <q>', env: 'AGENT_INJECT_INIT_MEM_LIMIT', description: 'init agent memory limit (ours)' },
  exitOnRetryFailure: { flag: '--template-config-exit-on-retry-failure <bool>', env: 'AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE', description: 'agents exit when rendering keeps failing' },
  staticSecretRenderInterval: { flag: '--template-static-secret-render-interval <dur>', env: 'AGENT_INJECT_TEMPLATE_STATIC_SECRET_RENDER_INTERVAL', description: 'how often agents re-read KV secrets' },
  authMinBackoff: { flag: '--auth-min-backoff <dur>', env: 'AGENT_INJECT_AUTH_MIN_BACKOFF', description: 'agent auth retry minimum backoff' },
  authMaxBackoff: { flag: '--auth-max-backoff <dur>', env: 'AGENT_INJECT_AUTH_MAX_BACKOFF', description: 'agent auth retry maximum backoff' },
  nativeSidecar: { flag: '--native-sidecar <bool>', env: 'AGENT_INJECT_NATIVE_SIDECAR', description: 'inject the sidecar as a native sidecar (init container, restartPolicy Always) by default' },
  annotationDefaults: { flag: '--annotation-defaults <json>', env: 'AGENT_INJECT_ANNOTATION_DEFAULTS', description: 'cluster-wide annotation defaults as a JSON object' },
  annotationDefaultsConfigMap: { flag: '--annotation-defaults-configmap <name>', env: 'AGENT_INJECT_ANNOTATION_DEFAULTS_CONFIGMAP', description: 'ConfigMap in $NAMESPACE whose data are cluster-wide annotation defaults' },
  tlsCertFile: { flag: '--tls-cert-file <file>', env: 'AGENT_INJECT_TLS_CERT_FILE', description: 'serving certificate (reloaded on change)' },
  tlsKeyFile: { flag: '--tls-key-file <file>', env: 'AGENT_INJECT_TLS_KEY_FILE', description: 'serving key (reloaded on change)' },
  tlsAuto: { flag: '--tls-auto <mwc-name>', env: 'AGENT_INJECT_TLS_AUTO', description: 'MutatingWebhookConfiguration whose webhooks get the generated CA' },
  tlsAutoHosts: { flag: '--tls-auto-hosts <hosts>', env: 'AGENT_INJECT_TLS_AUTO_HOSTS', description: 'comma-separated SANs of the generated certificate' },
  tlsSecretName: { flag: '--tls-secret-name <name>', env: 'AGENT_INJECT_TLS_SECRET_NAME', description: 'Secret in $NAMESPACE holding the shared CA and certificate', defaultValue: 'vaultbridge-injector-certs' },
  tlsMinVersion: { flag: '--tls-min-version <tls12|tls13>', env: 'AGENT_INJECT_TLS_MIN_VERSION', description: 'minimum TLS version', defaultValue: 'tls12' },
  namespace: { flag: '--namespace <ns>', env: 'NAMESPACE', description: 'namespace of the injector (TLS Secret, Lease, ConfigMap)', defaultValue: 'default' },
  workers: { flag: '--workers <n|auto>', env: 'AGENT_INJECT_WORKERS', description: 'worker threads that answer reviews (ours): auto = one per CPU beyond the first, up to 4; 0 = on the event loop', defaultValue: 'auto' },
  podName: { flag: '--pod-name <name>', env: 'POD_NAME', description: 'this replica identity for leader election' },
} satisfies Record<string, FlagSpec>;

export type ServeFlags = { [K in keyof typeof flags]?: string };

export function addServeOptions(command: Command): Command {
  for (const spec of Object.values(flags) as FlagSpec[]) {
    const option = new Option(spec.flag, spec.description).env(spec.env);
    if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
    command.addOption(option);
  }
  return command;
}

/** A flag with a bad value: the message names the flag, its env var and the accepted form. */
export class ServeConfigError extends Error {
  readonly code = 'INVALID_FLAG';
  constructor(key: keyof typeof flags, expected: string, given: string) {
    const spec = flags[key];
    super(`${spec.flag.split(' ')[0]} (${spec.env}): expected ${expected}, got ${JSON.stringify(given)}`);
    this.name = 'ServeConfigError';
  }
}

export interface ServeConfig {
  host: string;
  port: number;
  logLevel: string;
  defaults: InjectorDefaults;
  annotationDefaultsConfigMap?: string;
  tls:
    | { mode: 'files'; certFile: string; keyFile: string }
    | { mode: 'auto'; webhookConfigName: string; hosts: string[]; secretName: string };
  tlsMinVersion: 'TLSv1.2' | 'TLSv1.3';
  namespace: string;
  podName: string;
  /** admission worker threads, or `auto` (see resolveWorkerCount) */
  workers: number | 'auto';
}

function bool(key: keyof typeof flags, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = parseBoolean(value);
  if (parsed === undefined) throw new ServeConfigError(key, 'true or false', value);
  return parsed;
}

function int(key: keyof typeof flags, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new ServeConfigError(key, 'a non-negative integer', value);
  return Number(value);
}

function duration(key: keyof typeof flags, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (parseDuration(value) === undefined) throw new ServeConfigError(key, 'a duration like 5s or 1m30s', value);
  return value;
}

/** Enough threads for any node; more would only be a typo. */
const MAX_WORKERS = 64;

function workerSetting(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  if (!/^\d+$/.test(value) || Number(value) > MAX_WORKERS) throw new ServeConfigError('workers', `auto, or a number of worker threads from 0 to ${MAX_WORKERS}`, value);
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
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) throw new Error();
      annotations = parsed as Record<string, string>;
    } catch {
      throw new ServeConfigError('annotationDefaults', 'a JSON object of annotation name to string value', raw.annotationDefaults);
    }
  }
  if (raw.defaultTemplate && raw.defaultTemplate !== 'map' && raw.defaultTemplate !== 'json') {
    throw new ServeConfigError('defaultTemplate', '"map" or "json"', raw.defaultTemplate);
  }
  const defaults: InjectorDefaults = compact({
    vaultAddress: raw.vaultAddress,
    vaultCACertBytes: raw.vaultCACertBytes,
    proxyAddress: raw.proxyAddress,
    agentImage: raw.agentImage,
    authType: raw.authType,
    authPath: raw.authPath,
    vaultNamespace: raw.vaultNamespace,
    revokeOnShutdown: bool('revokeOnShutdown', raw.revokeOnShutdown),
    runAsUser: int('runAsUser', raw.runAsUser),
    runAsGroup: int('runAsGroup', raw.runAsGroup),
    runAsSameUser: bool('runAsSameUser', raw.runAsSameUser),
    setSecurityContext: bool('setSecurityContext', raw.setSecurityContext),
    defaultTemplate: raw.defaultTemplate,
    resources: Object.keys(resources).length > 0 ? resources : undefined,
    initResources: Object.keys(initResources).length > 0 ? initResources : undefined,
    exitOnRetryFailure: bool('exitOnRetryFailure', raw.exitOnRetryFailure),
    staticSecretRenderInterval: duration('staticSecretRenderInterval', raw.staticSecretRenderInterval),
    authMinBackoff: duration('authMinBackoff', raw.authMinBackoff),
    authMaxBackoff: duration('authMaxBackoff', raw.authMaxBackoff),
    nativeSidecar: bool('nativeSidecar', raw.nativeSidecar),
    annotations,
  });

  let tls: ServeConfig['tls'];
  if (raw.tlsCertFile || raw.tlsKeyFile) {
    if (!raw.tlsCertFile || !raw.tlsKeyFile) throw new ServeConfigError(raw.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile', 'both --tls-cert-file and --tls-key-file', '');
    tls = { mode: 'files', certFile: raw.tlsCertFile, keyFile: raw.tlsKeyFile };
  } else {
    if (!raw.tlsAuto) throw new ServeConfigError('tlsAuto', 'the MutatingWebhookConfiguration name (or give --tls-cert-file and --tls-key-file)', '');
    const hosts = (raw.tlsAutoHosts ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    if (hosts.length === 0) throw new ServeConfigError('tlsAutoHosts', 'comma-separated DNS names or IPs, e.g. vaultbridge-injector.vault.svc', raw.tlsAutoHosts ?? '');
    tls = { mode: 'auto', webhookConfigName: raw.tlsAuto, hosts, secretName: raw.tlsSecretName ?? 'vaultbridge-injector-certs' };
  }
  const minVersion = raw.tlsMinVersion ?? 'tls12';
  if (minVersion !== 'tls12' && minVersion !== 'tls13') throw new ServeConfigError('tlsMinVersion', '"tls12" or "tls13"', minVersion);
  return {
    ...listenAddress(raw.listen ?? ':8080'),
    logLevel: raw.logLevel ?? 'info',
    defaults,
    ...(raw.annotationDefaultsConfigMap ? { annotationDefaultsConfigMap: raw.annotationDefaultsConfigMap } : {}),
    tls,
    tlsMinVersion: minVersion === 'tls13' ? 'TLSv1.3' : 'TLSv1.2',
    namespace: raw.namespace ?? 'default',
    podName: raw.podName ?? `vaultbridge-injector-${process.pid}`,
    workers: workerSetting(raw.workers ?? 'auto'),
  };
}
