// The configuration the webhook hands `vaultbridge-agent`, as TypeScript types. The zod schema in
// schema.ts is held to these types by `satisfies`, so the two cannot drift. Durations are
// milliseconds, file modes numbers, paths absolute.

import type { AGENT_CONFIG_VERSION } from './env.ts';

export type DefaultTemplate = 'map' | 'json';
export type AgentLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type AgentLogFormat = 'standard' | 'json';
export type AgentFeature = 'auto-auth' | 'caching' | 'templating';
/** Vault's `tls_min_version` values. */
export type TlsMinVersion = 'tls10' | 'tls11' | 'tls12' | 'tls13';

export type CacheAutoAuthToken = 'true' | 'false' | 'force';
/** The auto-auth methods `vaultbridge-agent` implements. */
export const AUTH_TYPES = ['kubernetes', 'jwt', 'approle', 'cert', 'aws', 'gcp', 'azure'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];
export type AgentMode = 'init' | 'sidecar';

/** The pod's Vault connection, as parsed from its annotations; the agent connects with it unchanged. */
export interface VaultConnectionSpec {
  readonly address: string;
  readonly namespace?: string;
  readonly proxyAddress?: string;
  readonly caCert?: string;
  /** upstream's `ca-key` annotation, which is really a CA directory */
  readonly caPath?: string;
  /** CA PEM from the injector flag `--vault-cacert-bytes` */
  readonly caCertPem?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly tlsSkipVerify: boolean;
  readonly tlsServerName?: string;
  readonly maxRetries?: number;
  readonly timeoutMs?: number;
}

/**
 * How one secret file is rendered: the fields the webhook's parsed annotations (SecretSpec) and the
 * agent's config (AgentSecretConfig) share, defined once here.
 */
export interface SecretRendering {
  /** secret name (the file name unless `agent-inject-file`); for logs and metrics */
  readonly name: string;
  /** inline template (Go, or handlebars in the vaultbridge agent) */
  readonly template?: string;
  /** template file on the agent's file system, when there is no inline template */
  readonly templateFile?: string;
  /** with no template: `map` = sorted `key: value` lines (KV v2 unwrapped), `json` = one JSON object */
  readonly defaultTemplate: DefaultTemplate;
  /** absolute file to write, atomically */
  readonly destination: string;
  /** file mode, e.g. 256 (= 0o400); agent default when absent */
  readonly perms?: number;
  /** command line to run after the file changed */
  readonly command?: string;
  readonly leftDelimiter: string;
  readonly rightDelimiter: string;
  readonly errorOnMissingKey: boolean;
  /** `go` or `handlebars`; unset: the template text decides (see the agent's render.ts) */
  readonly templateEngine?: 'go' | 'handlebars';
  /** `agent-inject-env-<secret>` (ours): also the environment variable of this name, through `envFile` */
  readonly env?: string;
}

export interface AgentSecretConfig extends SecretRendering {
  /** Vault path to read when rendering with the default template */
  readonly path?: string;
  /** the volume the file is in (its secret-volume-path), when not /vault/secrets: the agent never
   *  follows a symlink below it */
  readonly volume?: string;
}

export interface AgentConfig {
  readonly version: typeof AGENT_CONFIG_VERSION;
  /** init: log in, render every secret once, exit 0 (non-zero after the retry budget).
   *  sidecar: keep the token alive, renew leases, re-render on change, run commands. */
  readonly mode: AgentMode;
  readonly vault: VaultConnectionSpec;
  readonly auth: {
    /** kubernetes and jwt log in with `role` and the JWT file; approle with the files in `config` */
    readonly type: AuthType;
    /** as in vault-k8s: `auth/kubernetes`; login at `<mountPath>/login` */
    readonly mountPath: string;
    readonly role?: string;
    /** service-account JWT file, re-read on every login (projected tokens rotate) */
    readonly serviceAccountTokenPath: string;
    /** extra `auth-config-*` parameters, sent with the login */
    readonly config: Readonly<Record<string, string>>;
    readonly minBackoffMs?: number;
    readonly maxBackoffMs?: number;
    /** exit instead of retrying forever when login fails */
    readonly exitOnError: boolean;
  };
  /** files the Vault token is written to (the agent's home, plus the secrets volume with agent-inject-token) */
  readonly tokenSinks: readonly string[];
  readonly secrets: readonly AgentSecretConfig[];
  readonly templateConfig: {
    readonly exitOnRetryFailure: boolean;
    readonly staticSecretRenderIntervalMs?: number;
    readonly maxConnectionsPerHost?: number;
    readonly leaseRenewalThreshold?: number;
  };
  readonly pidFile: string;
  /** sidecar: touched after the first complete render (native-sidecar startup probe) */
  readonly readyFile?: string;
  /** with env secrets: the file of `export NAME='value'` lines the app containers' exec wrapper reads
   *  before exec'ing the app; written once every env secret has rendered, rewritten when one changes */
  readonly envFile?: string;
  /** with env secrets: where the agent copies its image's static exec wrapper (EXEC_WRAPPER_IN_IMAGE),
   *  the app containers' entrypoint; absent for pods whose command a shell wraps (older webhooks) */
  readonly execWrapper?: string;
  /** sidecar: on SIGTERM wait `graceSeconds`, then revoke the token */
  readonly revokeOnShutdown?: { readonly graceSeconds: number };
  /** localhost cache listener (agent-cache-enable) */
  readonly cache?: {
    readonly listenerAddress: string;
    readonly useAutoAuthToken: CacheAutoAuthToken;
    /** shared init → sidecar through the `vault-agent-cache` volume */
    readonly persist?: { readonly path: string; readonly exitOnError: boolean };
    /** agent-configmap's `listener "tcp"` with `tls_cert_file`/`tls_key_file`: the listener serves HTTPS
     *  (PEM files, read when the listener starts; `minVersion` as Vault's tls_min_version, default tls12) */
    readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly minVersion?: TlsMinVersion };
  };
  /** init → sidecar handover through the secrets volume when there is no persistent cache (ours):
   *  absent means on; false (agent-handover: "false", and init of a pre-populate-only pod) means off */
  readonly handover?: boolean;
  /** `POST /agent/v1/quit` on this localhost listener (agent-enable-quit) */
  readonly quit?: { readonly listenerAddress: string };
  /** metrics listener on localhost (agent-metrics-listener-port) */
  readonly metrics?: { readonly listenerAddress: string };
  readonly log: { readonly level: AgentLogLevel; readonly format: AgentLogFormat };
  readonly telemetry?: Readonly<Record<string, unknown>>;
  readonly disableIdleConnections?: readonly AgentFeature[];
  readonly disableKeepAlives?: readonly AgentFeature[];
}
