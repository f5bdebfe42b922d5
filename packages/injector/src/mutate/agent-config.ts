// The configuration the webhook hands `vaultbridge-agent`: JSON, base64 in the env var
// VAULTBRIDGE_AGENT_CONFIG (as vault-k8s does with VAULT_CONFIG). This type is the schema; the agent
// parses it at start-up. Durations are milliseconds, file modes numbers, paths absolute.

import path from 'node:path/posix';
import { isAuthType, type AuthType, type AgentFeature, type AgentLogFormat, type AgentLogLevel, type AgentSpec, type CacheAutoAuthToken, type DefaultTemplate, type VaultConnectionSpec } from '../annotations/spec.ts';
import { CACHE_PATH, PID_FILE, READY_FILE, SECRETS_PATH, TOKEN_FILE } from './names.ts';

/** Env var holding base64(JSON(AgentConfig)). */
export const AGENT_CONFIG_ENV = 'VAULTBRIDGE_AGENT_CONFIG';
/** Env var naming a JSON AgentConfig file instead (set with `agent-configmap`). */
export const AGENT_CONFIG_FILE_ENV = 'VAULTBRIDGE_AGENT_CONFIG_FILE';
export const AGENT_CONFIG_VERSION = 1;

export type AgentMode = 'init' | 'sidecar';

export interface AgentSecretConfig {
  /** secret name (the file name unless `agent-inject-file`); for logs and metrics */
  readonly name: string;
  /** Vault path to read when rendering with the default template */
  readonly path?: string;
  /** inline template (handlebars in the vaultbridge agent) */
  readonly template?: string;
  /** template file on the agent's file system, when there is no inline template */
  readonly templateFile?: string;
  /** with no template: `map` = sorted `key: value` lines (KV v2 unwrapped), `json` = one JSON object */
  readonly defaultTemplate: DefaultTemplate;
  /** absolute file to write, atomically */
  readonly destination: string;
  /** the volume the file is in (its secret-volume-path), when not /vault/secrets: the agent never
   *  follows a symlink below it */
  readonly volume?: string;
  /** file mode, e.g. 256 (= 0o400); agent default when absent */
  readonly perms?: number;
  /** command line to run after the file changed */
  readonly command?: string;
  readonly leftDelimiter: string;
  readonly rightDelimiter: string;
  readonly errorOnMissingKey: boolean;
  /** `go` or `handlebars`; unset: the template text decides (see agent/render.ts) */
  readonly templateEngine?: 'go' | 'handlebars';
}

export interface AgentConfig {
  readonly version: typeof AGENT_CONFIG_VERSION;
  /** init: log in, render every secret once, exit 0 (non-zero after the retry budget).
   *  sidecar: keep the token alive, renew leases, re-render on change, run commands. */
  readonly mode: AgentMode;
  /** The pod's Vault connection, as parsed from its annotations (one definition: `VaultConnectionSpec`). */
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
  /** sidecar: on SIGTERM wait `graceSeconds`, then revoke the token */
  readonly revokeOnShutdown?: { readonly graceSeconds: number };
  /** localhost cache listener (agent-cache-enable) */
  readonly cache?: {
    readonly listenerAddress: string;
    readonly useAutoAuthToken: CacheAutoAuthToken;
    /** shared init → sidecar through the `vault-agent-cache` volume */
    readonly persist?: { readonly path: string; readonly exitOnError: boolean };
  };
  /** `POST /agent/v1/quit` on this localhost listener (agent-enable-quit) */
  readonly quit?: { readonly listenerAddress: string };
  /** metrics listener on localhost (agent-metrics-listener-port) */
  readonly metrics?: { readonly listenerAddress: string };
  readonly log: { readonly level: AgentLogLevel; readonly format: AgentLogFormat };
  readonly telemetry?: Readonly<Record<string, unknown>>;
  readonly disableIdleConnections?: readonly AgentFeature[];
  readonly disableKeepAlives?: readonly AgentFeature[];
}

function localhost(port: number): string {
  return `127.0.0.1:${port}`;
}

/** Persistent cache only makes sense when an init agent fills it and a sidecar reads it (as upstream). */
export function usesPersistentCache(spec: AgentSpec): boolean {
  return spec.cache.enabled && spec.prePopulate && !spec.prePopulateOnly && !spec.nativeSidecar;
}

export function buildAgentConfig(spec: AgentSpec, mode: AgentMode): AgentConfig {
  // Admission only lets other methods through with agent-kind vault, whose config is built elsewhere.
  const authType = spec.auth.type;
  if (!isAuthType(authType)) throw new Error(`auth-type ${authType} is not implemented by vaultbridge-agent (use agent-kind vault)`);
  const persist = usesPersistentCache(spec);
  const cacheListener = spec.cache.enabled && (persist || (mode === 'sidecar' && !spec.prePopulateOnly));
  const config: AgentConfig = {
    version: AGENT_CONFIG_VERSION,
    mode,
    vault: spec.vault,
    auth: {
      type: authType,
      mountPath: spec.auth.mountPath,
      ...(spec.auth.role === undefined ? {} : { role: spec.auth.role }),
      serviceAccountTokenPath: spec.serviceAccountToken.tokenPath,
      config: spec.auth.config,
      ...(spec.auth.minBackoffMs === undefined ? {} : { minBackoffMs: spec.auth.minBackoffMs }),
      ...(spec.auth.maxBackoffMs === undefined ? {} : { maxBackoffMs: spec.auth.maxBackoffMs }),
      exitOnError: spec.auth.exitOnError,
    },
    tokenSinks: spec.injectToken ? [TOKEN_FILE, path.join(spec.secretVolumePath, 'token')] : [TOKEN_FILE],
    secrets: spec.secrets.map((secret) => ({
      name: secret.name,
      ...(secret.vaultPath === undefined ? {} : { path: secret.vaultPath }),
      ...(secret.template === undefined ? {} : { template: secret.template }),
      ...(secret.templateFile === undefined ? {} : { templateFile: secret.templateFile }),
      defaultTemplate: secret.defaultTemplate,
      destination: secret.destination,
      ...(secret.mountPath === SECRETS_PATH ? {} : { volume: secret.mountPath }),
      ...(secret.perms === undefined ? {} : { perms: secret.perms }),
      ...(secret.command === undefined ? {} : { command: secret.command }),
      leftDelimiter: secret.leftDelimiter,
      rightDelimiter: secret.rightDelimiter,
      errorOnMissingKey: secret.errorOnMissingKey,
      ...(secret.templateEngine === undefined ? {} : { templateEngine: secret.templateEngine }),
    })),
    templateConfig: spec.templateConfig,
    pidFile: PID_FILE,
    ...(mode === 'sidecar' ? { readyFile: READY_FILE } : {}),
    ...(mode === 'sidecar' && spec.revokeOnShutdown ? { revokeOnShutdown: { graceSeconds: spec.revokeGraceSeconds } } : {}),
    ...(cacheListener
      ? {
          cache: {
            listenerAddress: localhost(spec.cache.listenerPort),
            useAutoAuthToken: spec.cache.useAutoAuthToken,
            ...(persist ? { persist: { path: CACHE_PATH, exitOnError: spec.cache.exitOnError } } : {}),
          },
        }
      : {}),
    ...(spec.enableQuit ? { quit: { listenerAddress: localhost(spec.cache.listenerPort) } } : {}),
    ...(spec.metricsListenerPort === undefined ? {} : { metrics: { listenerAddress: localhost(spec.metricsListenerPort) } }),
    log: spec.log,
    ...(Object.keys(spec.telemetry).length === 0 ? {} : { telemetry: spec.telemetry }),
    ...(spec.disableIdleConnections.length === 0 ? {} : { disableIdleConnections: spec.disableIdleConnections }),
    ...(spec.disableKeepAlives.length === 0 ? {} : { disableKeepAlives: spec.disableKeepAlives }),
  };
  return config;
}

/**
 * What the agent assumes for a field the encoded config leaves out. The webhook leaves out every field
 * that equals these, so the env var of a typical pod is about half as long (it is in the pod object,
 * stored in etcd, sent to every watcher, twice per pod); `expandAgentConfig` puts them back.
 */
export const AGENT_CONFIG_DEFAULTS = {
  tlsSkipVerify: false,
  authConfig: {},
  authExitOnError: false,
  tokenSinks: [TOKEN_FILE],
  secret: { defaultTemplate: 'map', leftDelimiter: '{{', rightDelimiter: '}}', errorOnMissingKey: false },
  exitOnRetryFailure: true,
  pidFile: PID_FILE,
  log: { level: 'info', format: 'standard' },
} as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` is the default: primitives by value, lists element-wise, `{}` only as `{}`. */
function isDefault(value: unknown, fallback: unknown): boolean {
  if (typeof fallback !== 'object' || fallback === null) return value === fallback;
  if (Array.isArray(fallback)) return Array.isArray(value) && value.length === fallback.length && value.every((item, i) => item === fallback[i]);
  return isObject(value) && Object.keys(value).length === 0 && Object.keys(fallback).length === 0;
}

/** `record` without the keys whose value is the default (this runs for every review: no JSON round trips). */
function without(record: Json, defaults: Record<string, unknown>): Json {
  const out: Json = {};
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (Object.hasOwn(defaults, key) && isDefault(value, defaults[key])) continue;
    out[key] = value;
  }
  return out;
}

/** The config with every default-valued field left out (see AGENT_CONFIG_DEFAULTS). */
export function compactAgentConfig(config: AgentConfig): Json {
  const d = AGENT_CONFIG_DEFAULTS;
  const templateConfig = without(config.templateConfig as Json, { exitOnRetryFailure: d.exitOnRetryFailure });
  const log = without(config.log as Json, d.log);
  const out: Json = {
    ...without(config as unknown as Json, { tokenSinks: d.tokenSinks, pidFile: d.pidFile }),
    vault: without(config.vault as unknown as Json, { tlsSkipVerify: d.tlsSkipVerify }),
    auth: without(config.auth as Json, { config: d.authConfig, exitOnError: d.authExitOnError }),
    secrets: config.secrets.map((secret) => without(secret as unknown as Json, d.secret)),
    templateConfig,
    log,
  };
  if (Object.keys(templateConfig).length === 0) delete out.templateConfig;
  if (Object.keys(log).length === 0) delete out.log;
  return out;
}

/** A config as encoded (or hand-written in a ConfigMap) with the defaults filled in; anything else untouched. */
export function expandAgentConfig(value: unknown): unknown {
  if (!isObject(value)) return value;
  const d = AGENT_CONFIG_DEFAULTS;
  return {
    ...value,
    ...(isObject(value.vault) ? { vault: { tlsSkipVerify: d.tlsSkipVerify, ...value.vault } } : {}),
    ...(isObject(value.auth) ? { auth: { config: {}, exitOnError: d.authExitOnError, ...value.auth } } : {}),
    tokenSinks: value.tokenSinks ?? [...d.tokenSinks],
    ...(Array.isArray(value.secrets) ? { secrets: value.secrets.map((secret: unknown) => (isObject(secret) ? { ...d.secret, ...secret } : secret)) } : {}),
    templateConfig: value.templateConfig === undefined ? { exitOnRetryFailure: d.exitOnRetryFailure } : isObject(value.templateConfig) ? { exitOnRetryFailure: d.exitOnRetryFailure, ...value.templateConfig } : value.templateConfig,
    pidFile: value.pidFile ?? d.pidFile,
    log: value.log === undefined ? { ...d.log } : isObject(value.log) ? { ...d.log, ...value.log } : value.log,
  };
}

export function encodeAgentConfig(config: AgentConfig): string {
  return Buffer.from(JSON.stringify(compactAgentConfig(config)), 'utf8').toString('base64');
}
