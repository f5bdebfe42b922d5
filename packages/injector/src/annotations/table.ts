// The one table of every `vault.hashicorp.com/*` annotation the injector reads, with its built-in
// default. Names and defaults match hashicorp/vault-k8s (agent-inject/agent/annotations.go) so existing
// manifests keep working; rows marked `vaultbridge` are our additions. The parser, the cluster-default
// checks, the unknown-annotation warnings and the README table are all driven from here.

export const ANNOTATION_PREFIX = 'vault.hashicorp.com/';

/** Upstream's agent image is `hashicorp/vault`; ours runs `vaultbridge-agent` from the agent image (packages/agent). */
export const DEFAULT_AGENT_IMAGE = 'vaultbridge/agent:0.1.0';
/** The agent image with `agent-kind: vault` when none is set: upstream's default (OpenBao users set `openbao/openbao`). */
export const DEFAULT_VAULT_AGENT_IMAGE = 'hashicorp/vault:1.13.3';

export type AnnotationScope =
  /** one value for the whole pod */
  | 'pod'
  /** `<name>-<secret>`: one value per secret, keyed by the secret's raw name */
  | 'secret'
  /** `<name>-<param>`: free-form parameters (auth-config-*, agent-telemetry-*) */
  | 'param';

export interface AnnotationEntry {
  /** the part after `vault.hashicorp.com/` (for `secret`/`param` scope: before the `-<suffix>`) */
  readonly name: string;
  readonly scope: AnnotationScope;
  /** built-in default as the annotation string, parsed like a user value; undefined = unset */
  readonly default: string | undefined;
  /** the injector env var (upstream `AGENT_INJECT_*` name) that can change the default, or how it is computed */
  readonly defaultNote?: string;
  readonly origin: 'upstream' | 'vaultbridge';
  /** cluster-wide annotation defaults may set it (control annotations and per-secret ones may not) */
  readonly clusterDefault: boolean;
  readonly summary: string;
}

function entry(
  name: string,
  scope: AnnotationScope,
  defaultValue: string | undefined,
  summary: string,
  extra: { origin?: 'upstream' | 'vaultbridge'; clusterDefault?: boolean; defaultNote?: string } = {},
): AnnotationEntry {
  return {
    name,
    scope,
    default: defaultValue,
    summary,
    origin: extra.origin ?? 'upstream',
    clusterDefault: extra.clusterDefault ?? scope === 'pod',
    ...(extra.defaultNote === undefined ? {} : { defaultNote: extra.defaultNote }),
  };
}

const ours = { origin: 'vaultbridge' } as const;

export const ANNOTATION_TABLE = {
  // Injection control
  agentInject: entry('agent-inject', 'pod', undefined, 'inject the agent when true; absent or false: pod left alone', {
    clusterDefault: false,
  }),
  agentInjectStatus: entry(
    'agent-inject-status',
    'pod',
    undefined,
    'set to `injected` by the webhook; `injected` skips the pod, any other value re-injects',
    { clusterDefault: false },
  ),
  agentRequestNamespace: entry(
    'agent-request-namespace',
    'pod',
    undefined,
    'upstream-internal; ignored (the request namespace is used)',
    { clusterDefault: false },
  ),

  // Lifecycle
  agentPrePopulate: entry(
    'agent-pre-populate',
    'pod',
    'true',
    'add the `vault-agent-init` init container that renders secrets before the app starts',
  ),
  agentPrePopulateOnly: entry('agent-pre-populate-only', 'pod', 'false', 'only the init container, no sidecar (Jobs)'),
  agentInitFirst: entry('agent-init-first', 'pod', 'false', 'put the agent first among the init containers'),
  agentNativeSidecar: entry(
    'agent-native-sidecar',
    'pod',
    'false',
    'run the sidecar as a native sidecar (init container with `restartPolicy: Always` and a startup probe that passes after the first render); replaces `vault-agent-init`',
    { ...ours, defaultNote: '`AGENT_INJECT_NATIVE_SIDECAR`' },
  ),
  agentKind: entry(
    'agent-kind',
    'pod',
    'vaultbridge',
    "which agent runs in the injected containers: `vaultbridge` (ours) or `vault` (HashiCorp's Vault Agent, or OpenBao's, with the config vault-k8s generates for it; image `AGENT_INJECT_VAULT_AGENT_IMAGE`, default `hashicorp/vault:1.13.3`)",
    { ...ours, defaultNote: '`AGENT_INJECT_AGENT_KIND`' },
  ),
  agentInjectContainers: entry(
    'agent-inject-containers',
    'pod',
    undefined,
    'comma list of app containers that get the secrets volume (spaces trimmed)',
    { defaultNote: 'all containers' },
  ),
  agentShareProcessNamespace: entry(
    'agent-share-process-namespace',
    'pod',
    undefined,
    'set `spec.shareProcessNamespace` (for `agent-inject-command` signals)',
  ),
  agentRevokeOnShutdown: entry(
    'agent-revoke-on-shutdown',
    'pod',
    'false',
    'sidecar revokes its Vault token on shutdown',
    { defaultNote: '`AGENT_INJECT_REVOKE_ON_SHUTDOWN`' },
  ),
  agentRevokeGrace: entry(
    'agent-revoke-grace',
    'pod',
    '5',
    'seconds to wait before revoking (integer seconds, or a duration such as `5s`)',
  ),
  agentEnableQuit: entry(
    'agent-enable-quit',
    'pod',
    'false',
    'serve `POST /agent/v1/quit` on localhost so a Job can stop the sidecar',
  ),

  // Secrets and templates
  secretVolumePath: entry(
    'secret-volume-path',
    'pod',
    '/vault/secrets',
    'mount path of the `vault-secrets` volume (absolute)',
  ),
  preserveSecretCase: entry(
    'preserve-secret-case',
    'pod',
    'false',
    'keep the secret name case in file names (otherwise lower-cased)',
  ),
  agentInjectDefaultTemplate: entry(
    'agent-inject-default-template',
    'pod',
    'map',
    '`map` (sorted `key: value` lines) or `json`',
    { defaultNote: '`AGENT_INJECT_DEFAULT_TEMPLATE`' },
  ),
  agentInjectToken: entry(
    'agent-inject-token',
    'pod',
    'false',
    'also write the Vault token to `<secret-volume-path>/token`',
  ),

  // Agent containers
  agentImage: entry(
    'agent-image',
    'pod',
    DEFAULT_AGENT_IMAGE,
    "image of both agent containers (runs `vaultbridge-agent`; with `agent-kind: vault`, Vault Agent's image)",
    { defaultNote: '`AGENT_INJECT_VAULT_IMAGE`' },
  ),
  agentLimitsCpu: entry('agent-limits-cpu', 'pod', '500m', 'CPU limit of both agents; `""` removes it', {
    defaultNote: '`AGENT_INJECT_CPU_LIMIT`',
  }),
  agentLimitsMem: entry('agent-limits-mem', 'pod', '128Mi', 'memory limit of both agents; `""` removes it', {
    defaultNote: '`AGENT_INJECT_MEM_LIMIT`',
  }),
  agentLimitsEphemeral: entry('agent-limits-ephemeral', 'pod', undefined, 'ephemeral-storage limit of both agents', {
    defaultNote: '`AGENT_INJECT_EPHEMERAL_LIMIT`',
  }),
  agentRequestsCpu: entry(
    'agent-requests-cpu',
    'pod',
    '50m',
    'CPU request of both agents (upstream 250m; the agent idles near 2m)',
    { defaultNote: '`AGENT_INJECT_CPU_REQUEST`' },
  ),
  agentRequestsMem: entry('agent-requests-mem', 'pod', '64Mi', 'memory request of both agents', {
    defaultNote: '`AGENT_INJECT_MEM_REQUEST`',
  }),
  agentRequestsEphemeral: entry(
    'agent-requests-ephemeral',
    'pod',
    undefined,
    'ephemeral-storage request of both agents',
    { defaultNote: '`AGENT_INJECT_EPHEMERAL_REQUEST`' },
  ),
  agentInitLimitsCpu: entry(
    'agent-init-limits-cpu',
    'pod',
    undefined,
    'CPU limit of `vault-agent-init` only (over `agent-limits-cpu`)',
    ours,
  ),
  agentInitLimitsMem: entry('agent-init-limits-mem', 'pod', undefined, 'memory limit of `vault-agent-init` only', ours),
  agentInitLimitsEphemeral: entry(
    'agent-init-limits-ephemeral',
    'pod',
    undefined,
    'ephemeral-storage limit of `vault-agent-init` only',
    ours,
  ),
  agentInitRequestsCpu: entry(
    'agent-init-requests-cpu',
    'pod',
    undefined,
    'CPU request of `vault-agent-init` only',
    ours,
  ),
  agentInitRequestsMem: entry(
    'agent-init-requests-mem',
    'pod',
    undefined,
    'memory request of `vault-agent-init` only',
    ours,
  ),
  agentInitRequestsEphemeral: entry(
    'agent-init-requests-ephemeral',
    'pod',
    undefined,
    'ephemeral-storage request of `vault-agent-init` only',
    ours,
  ),
  agentSetSecurityContext: entry(
    'agent-set-security-context',
    'pod',
    'true',
    "set the agents' securityContext (non-root, read-only root fs, drop ALL); turned on when a run-as annotation is set",
    { defaultNote: '`AGENT_INJECT_SET_SECURITY_CONTEXT`' },
  ),
  agentRunAsUser: entry('agent-run-as-user', 'pod', '100', 'agent uid', { defaultNote: '`AGENT_INJECT_RUN_AS_USER`' }),
  agentRunAsGroup: entry('agent-run-as-group', 'pod', '1000', 'agent gid', {
    defaultNote: '`AGENT_INJECT_RUN_AS_GROUP`',
  }),
  agentRunAsSameUser: entry(
    'agent-run-as-same-user',
    'pod',
    'false',
    "run the agents as `containers[0]`'s runAsUser (never root)",
    { defaultNote: '`AGENT_INJECT_RUN_AS_SAME_USER`' },
  ),
  agentCopyVolumeMounts: entry(
    'agent-copy-volume-mounts',
    'pod',
    undefined,
    "copy this container's volume mounts (except service-account ones) into the agents",
  ),
  agentServiceAccountTokenVolumeName: entry(
    'agent-service-account-token-volume-name',
    'pod',
    undefined,
    'projected volume with the service-account token (for `automountServiceAccountToken: false`)',
  ),
  agentExtraSecret: entry(
    'agent-extra-secret',
    'pod',
    undefined,
    'Secret mounted read-only at `/vault/custom` in the agents',
  ),
  agentConfigmap: entry(
    'agent-configmap',
    'pod',
    undefined,
    "ConfigMap at `/vault/configs`; the agents read Vault Agent's own `config-init.hcl` / `config.hcl` (HCL or JSON, every `template {}` stanza as it is) or our `config-init.json` / `config.json` from it instead of the generated config",
  ),
  agentJsonPatch: entry(
    'agent-json-patch',
    'pod',
    undefined,
    'RFC 6902 patch applied to the generated `vault-agent` container',
  ),
  agentInitJsonPatch: entry(
    'agent-init-json-patch',
    'pod',
    undefined,
    'RFC 6902 patch applied to the generated `vault-agent-init` container',
  ),
  goMaxProcs: entry(
    'go-max-procs',
    'pod',
    undefined,
    'env `GOMAXPROCS` on the agents (kept for compatibility; the Node agent ignores it)',
  ),
  logLevel: entry(
    'log-level',
    'pod',
    'info',
    "agent log level, Vault's spellings: trace, debug, info (notice), warn (warning), error (err); case and blanks ignored",
  ),
  logFormat: entry('log-format', 'pod', 'standard', 'agent log format: standard or json'),

  // Vault connection and auth
  service: entry('service', 'pod', undefined, 'Vault address (http or https URL)', {
    defaultNote: '`AGENT_INJECT_VAULT_ADDR` (required)',
  }),
  role: entry(
    'role',
    'pod',
    undefined,
    'Vault role for Kubernetes auth (required unless `auth-config-role` or `agent-configmap`)',
  ),
  authType: entry(
    'auth-type',
    'pod',
    'kubernetes',
    "auto-auth method: `kubernetes`, `jwt` (the JWT from `auth-config-path`, default the service-account token), `approle` (`auth-config-role-id-file-path`, `auth-config-secret-id-file-path`), `cert` (the client-cert/client-key TLS certificate, or `auth-config-client-cert`/`-client-key`; role `auth-config-name`), `aws` (`auth-config-type` iam or ec2), `gcp` (iam or gce) or `azure` (`auth-config-resource`), with Vault Agent's `auth-config-*` parameters (see *Cloud auth methods*); with `agent-kind: vault` any Vault Agent 1.13 method",
    { defaultNote: '`AGENT_INJECT_VAULT_AUTH_TYPE`' },
  ),
  authPath: entry('auth-path', 'pod', 'auth/kubernetes', 'mount path of the auth method', {
    defaultNote: '`AGENT_INJECT_VAULT_AUTH_PATH`',
  }),
  authConfig: entry(
    'auth-config',
    'param',
    undefined,
    'auth method parameter `<param>` (`-` becomes `_`); `auth-config-token-path` is the token file the agent reads (not sent as a parameter)',
  ),
  authMinBackoff: entry('auth-min-backoff', 'pod', undefined, 'minimum auth retry backoff (Go duration)', {
    defaultNote: '`AGENT_INJECT_AUTH_MIN_BACKOFF`',
  }),
  authMaxBackoff: entry('auth-max-backoff', 'pod', undefined, 'maximum auth retry backoff (Go duration)', {
    defaultNote: '`AGENT_INJECT_AUTH_MAX_BACKOFF`',
  }),
  agentAutoAuthExitOnErr: entry(
    'agent-auto-auth-exit-on-err',
    'pod',
    'false',
    'exit when auth fails instead of retrying forever',
  ),
  namespace: entry('namespace', 'pod', undefined, 'Vault Enterprise / OpenBao namespace', {
    defaultNote: '`AGENT_INJECT_VAULT_NAMESPACE`',
  }),
  proxyAddress: entry(
    'proxy-address',
    'pod',
    undefined,
    'HTTP(S) proxy the agent reaches Vault through (CONNECT tunnel; also env `HTTPS_PROXY` as upstream)',
    { defaultNote: '`AGENT_INJECT_PROXY_ADDR`' },
  ),
  caCert: entry('ca-cert', 'pod', undefined, 'CA certificate file to verify Vault'),
  caKey: entry('ca-key', 'pod', undefined, 'CA directory to verify Vault (upstream name; becomes `caPath`)'),
  clientCert: entry('client-cert', 'pod', undefined, 'client certificate file for Vault TLS'),
  clientKey: entry('client-key', 'pod', undefined, 'client key file for Vault TLS'),
  tlsSkipVerify: entry('tls-skip-verify', 'pod', 'false', 'skip Vault certificate verification'),
  tlsServerName: entry('tls-server-name', 'pod', undefined, "server name to verify Vault's certificate against"),
  tlsSecret: entry('tls-secret', 'pod', undefined, 'Secret mounted read-only at `/vault/tls` in the agents'),
  clientMaxRetries: entry('client-max-retries', 'pod', undefined, 'retries on 5xx/429/network errors'),
  clientTimeout: entry('client-timeout', 'pod', undefined, 'Vault request timeout (Go duration or seconds)'),

  // Agent-global settings
  templateConfigExitOnRetryFailure: entry(
    'template-config-exit-on-retry-failure',
    'pod',
    'true',
    'exit when rendering fails after all retries',
    { defaultNote: '`AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE`' },
  ),
  templateStaticSecretRenderInterval: entry(
    'template-static-secret-render-interval',
    'pod',
    undefined,
    're-read non-leased secrets (KV) this often (Go duration; agent default 5m)',
    { defaultNote: '`AGENT_INJECT_TEMPLATE_STATIC_SECRET_RENDER_INTERVAL`' },
  ),
  templateMaxConnectionsPerHost: entry(
    'template-max-connections-per-host',
    'pod',
    undefined,
    'connection limit to Vault (0 = unlimited)',
    { defaultNote: '`AGENT_INJECT_TEMPLATE_MAX_CONNECTIONS_PER_HOST`' },
  ),
  templateLeaseRenewalThreshold: entry(
    'template-lease-renewal-threshold',
    'pod',
    undefined,
    'fraction of a lease after which it is renewed (0–1); upstream reads the flag but never applies it',
    { defaultNote: '`AGENT_INJECT_TEMPLATE_LEASE_RENEWAL_THRESHOLD`' },
  ),
  agentDisableIdleConnections: entry(
    'agent-disable-idle-connections',
    'pod',
    undefined,
    'comma list of auto-auth, caching, templating',
    { defaultNote: '`AGENT_INJECT_DISABLE_IDLE_CONNECTIONS`' },
  ),
  agentDisableKeepAlives: entry(
    'agent-disable-keep-alives',
    'pod',
    undefined,
    'comma list of auto-auth, caching, templating',
    { defaultNote: '`AGENT_INJECT_DISABLE_KEEP_ALIVES`' },
  ),
  agentMetricsListenerPort: entry(
    'agent-metrics-listener-port',
    'pod',
    undefined,
    "port of the agent's metrics listener on localhost (in no vault-k8s release)",
    ours,
  ),
  agentTelemetry: entry(
    'agent-telemetry',
    'param',
    undefined,
    'agent telemetry parameter `<param>` (`-` becomes `_`; JSON values parsed)',
  ),

  // Cache
  agentCacheEnable: entry(
    'agent-cache-enable',
    'pod',
    'false',
    'agent cache listener on localhost; persistent (shared init → sidecar) when pre-populating with a sidecar',
  ),
  agentCacheUseAutoAuthToken: entry('agent-cache-use-auto-auth-token', 'pod', 'true', '`true`, `false` or `force`'),
  agentCacheListenerPort: entry('agent-cache-listener-port', 'pod', '8200', 'cache listener port'),
  agentCacheExitOnErr: entry(
    'agent-cache-exit-on-err',
    'pod',
    'false',
    'exit when restoring the persistent cache fails',
  ),
  agentHandover: entry(
    'agent-handover',
    'pod',
    'true',
    'without `agent-cache-enable`, `vault-agent-init` hands its token and leases to the sidecar through a hidden file on the secrets volume, so a dynamic secret is issued once per pod; `false`: the sidecar logs in and issues its own (see the agent README, *Handover without the cache*)',
    ours,
  ),

  // Per secret: `<name>-<secret>`
  agentInjectSecret: entry(
    'agent-inject-secret',
    'secret',
    undefined,
    'Vault path of secret `<secret>`; defines a secret',
  ),
  agentInjectTemplate: entry(
    'agent-inject-template',
    'secret',
    undefined,
    'inline template; defines a secret on its own',
  ),
  agentInjectTemplateFile: entry(
    'agent-inject-template-file',
    'secret',
    undefined,
    "template file on the agent's file system (used when no inline template); defines a secret",
  ),
  agentInjectFile: entry(
    'agent-inject-file',
    'secret',
    undefined,
    'file name (may contain sub-directories) under the mount path; `..` and absolute paths are rejected',
    { defaultNote: 'the secret name' },
  ),
  agentInjectPerms: entry('agent-inject-perms', 'secret', undefined, 'octal file mode such as `0400`'),
  agentInjectCommand: entry(
    'agent-inject-command',
    'secret',
    undefined,
    'command the agent runs after the file changes',
  ),
  agentTemplateLeftDelim: entry('agent-template-left-delim', 'secret', '{{', 'left template delimiter'),
  agentTemplateRightDelim: entry('agent-template-right-delim', 'secret', '}}', 'right template delimiter'),
  errorOnMissingKey: entry(
    'error-on-missing-key',
    'secret',
    'false',
    'fail the render when the template reads a missing key',
  ),
  templateEngineSecret: entry(
    'template-engine',
    'secret',
    undefined,
    "`go` (vault-k8s's consul-template dialect) or `handlebars` for this secret's template",
    { ...ours, defaultNote: 'told apart from the template text' },
  ),
  secretVolumePathSecret: entry(
    'secret-volume-path',
    'secret',
    undefined,
    'directory of this secret; each distinct one gets its own `vault-secrets-custom-<i>` volume',
    { defaultNote: '`secret-volume-path`' },
  ),
  preserveSecretCaseSecret: entry('preserve-secret-case', 'secret', undefined, "keep this secret name's case", {
    defaultNote: '`preserve-secret-case`',
  }),
  agentInjectEnv: entry(
    'agent-inject-env',
    'secret',
    undefined,
    "also give the app's process this secret's rendered content as the environment variable named by the value (e.g. `DB_PASSWORD`): the app containers' command runs through `vaultbridge-exec`, a static wrapper the agent copies into the pod (no shell needed in the app image), which reads the agent's env file from the secrets volume; see *Env-var secrets* for the trade-offs",
    ours,
  ),
  agentInjectDefaultTemplateSecret: entry(
    'agent-inject-default-template',
    'secret',
    undefined,
    '`map` or `json` for this secret',
    { ...ours, defaultNote: '`agent-inject-default-template`' },
  ),
} as const satisfies Record<string, AnnotationEntry>;

export type AnnotationKey = keyof typeof ANNOTATION_TABLE;

/** Full annotation names by key: `A.agentInject` === 'vault.hashicorp.com/agent-inject'. */
export const A = Object.fromEntries(
  Object.entries(ANNOTATION_TABLE).map(([key, value]) => [key, ANNOTATION_PREFIX + value.name]),
) as { readonly [K in AnnotationKey]: string };

/** The secret-defining families, in upstream's matching order (the longer template-file prefix first). */
export const SECRET_DEFINING: readonly AnnotationKey[] = [
  'agentInjectSecret',
  'agentInjectTemplateFile',
  'agentInjectTemplate',
];

/** `vault.hashicorp.com/<family>-<suffix>` for a per-secret or parameter annotation. */
export function annotationFor(key: AnnotationKey, suffix: string): string {
  return `${A[key]}-${suffix}`;
}

const POD_WIDE = new Set(
  Object.values(ANNOTATION_TABLE)
    .filter((e) => e.scope === 'pod')
    .map((e) => ANNOTATION_PREFIX + e.name),
);
/** The per-secret and parameter families, each with its `vault.hashicorp.com/<family>-` prefix. */
export const ANNOTATION_FAMILIES: readonly { readonly key: AnnotationKey; readonly prefix: string }[] = (
  Object.keys(ANNOTATION_TABLE) as AnnotationKey[]
)
  .filter((key) => ANNOTATION_TABLE[key].scope !== 'pod')
  .map((key) => ({ key, prefix: `${A[key]}-` }));

/** Whether a full annotation name is one we read (pod-wide, per-secret or parameter). */
export function isKnownAnnotation(name: string): boolean {
  return (
    POD_WIDE.has(name) ||
    ANNOTATION_FAMILIES.some(({ prefix }) => name.startsWith(prefix) && name.length > prefix.length)
  );
}

/** The table entry of a pod-wide annotation by full name. */
export function podWideEntry(name: string): AnnotationEntry | undefined {
  if (!POD_WIDE.has(name)) return undefined;
  return Object.values(ANNOTATION_TABLE).find((e) => e.scope === 'pod' && ANNOTATION_PREFIX + e.name === name);
}
