// The configuration vault-k8s generates for HashiCorp's Vault Agent (agent-inject/agent/config.go),
// for `agent-kind: vault`: JSON, base64 in the env var VAULT_CONFIG, decoded by the container's shell
// command into a file that `vault agent -config=` reads. Same AgentSpec as ours, so a user can switch
// the webhook first and the agent later.

import type { AgentSpec } from '../annotations/spec.ts';
import type { AgentMode } from '@vaultbridge/agent/contract';
import { usesPersistentCache } from './agent-config.ts';
import { CACHE_PATH, HOME_PATH, PID_FILE, TOKEN_FILE } from './names.ts';

export const VAULT_CONFIG_ENV = 'VAULT_CONFIG';
/** Where the container's shell writes the decoded config (upstream: `/home/vault/config.json`). */
export const VAULT_AGENT_CONFIG_FILE = `${HOME_PATH}/config.json`;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** vault-k8s's default templates (agent/template.go): `map` = `key: value` lines, `json` = .Data as JSON. */
function defaultContents(vaultPath: string, kind: 'map' | 'json'): string {
  const quoted = JSON.stringify(vaultPath);
  return kind === 'json'
    ? `{{ with secret ${quoted} }}{{ .Data | toJSON }}\n{{ end }}`
    : `{{ with secret ${quoted} }}{{ range $k, $v := .Data }}{{ $k }}: {{ $v }}\n{{ end }}{{ end }}`;
}

function templates(spec: AgentSpec): Json[] {
  return spec.secrets.map((secret) => {
    const t: Record<string, Json> = { destination: secret.destination };
    if (secret.template !== undefined) t.contents = secret.template;
    else if (secret.templateFile !== undefined) t.source = secret.templateFile;
    else t.contents = defaultContents(secret.vaultPath ?? '', secret.defaultTemplate);
    t.left_delimiter = secret.leftDelimiter;
    t.right_delimiter = secret.rightDelimiter;
    if (secret.command !== undefined) t.command = secret.command;
    if (secret.perms !== undefined) t.perms = `0${secret.perms.toString(8)}`;
    t.error_on_missing_key = secret.errorOnMissingKey;
    return t;
  });
}

/** The Vault Agent config for one container; `exit_after_auth` makes the init agent render once and exit. */
export function buildVaultAgentConfig(spec: AgentSpec, mode: AgentMode): Record<string, Json> {
  const v = spec.vault;
  const vault: Record<string, Json> = { address: v.address };
  if (v.caCert !== undefined) vault.ca_cert = v.caCert;
  if (v.caPath !== undefined) vault.ca_path = v.caPath;
  if (v.clientCert !== undefined) vault.client_cert = v.clientCert;
  if (v.clientKey !== undefined) vault.client_key = v.clientKey;
  if (v.tlsSkipVerify) vault.tls_skip_verify = true;
  if (v.tlsServerName !== undefined) vault.tls_server_name = v.tlsServerName;

  const methodConfig: Record<string, Json> = { ...spec.auth.config };
  if (spec.auth.role !== undefined) methodConfig.role = spec.auth.role;
  if (spec.auth.type === 'kubernetes' && methodConfig.token_path === undefined)
    methodConfig.token_path = spec.serviceAccountToken.tokenPath;
  if (spec.auth.type === 'jwt' && methodConfig.path === undefined)
    methodConfig.path = spec.serviceAccountToken.tokenPath;
  const method: Record<string, Json> = { type: spec.auth.type, mount_path: spec.auth.mountPath, config: methodConfig };
  if (v.namespace !== undefined) method.namespace = v.namespace;
  if (spec.auth.minBackoffMs !== undefined) method.min_backoff = goDuration(spec.auth.minBackoffMs);
  if (spec.auth.maxBackoffMs !== undefined) method.max_backoff = goDuration(spec.auth.maxBackoffMs);
  if (spec.auth.exitOnError) method.exit_on_err = true;

  const templateConfig: Record<string, Json> = { exit_on_retry_failure: spec.templateConfig.exitOnRetryFailure };
  if (spec.templateConfig.staticSecretRenderIntervalMs !== undefined)
    templateConfig.static_secret_render_interval = goDuration(spec.templateConfig.staticSecretRenderIntervalMs);
  if (spec.templateConfig.maxConnectionsPerHost !== undefined)
    templateConfig.max_connections_per_host = spec.templateConfig.maxConnectionsPerHost;
  if (spec.templateConfig.leaseRenewalThreshold !== undefined)
    templateConfig.lease_renewal_threshold = spec.templateConfig.leaseRenewalThreshold;

  const sinks: Json[] = [{ type: 'file', config: { path: TOKEN_FILE } }];
  if (spec.injectToken) sinks.push({ type: 'file', config: { path: `${spec.secretVolumePath}/token` } });

  const config: Record<string, Json> = {
    auto_auth: { method, sink: sinks },
    exit_after_auth: mode === 'init',
    pid_file: PID_FILE,
    vault,
    template: templates(spec),
    template_config: templateConfig,
  };
  if (Object.keys(spec.telemetry).length > 0) config.telemetry = spec.telemetry as Json;
  Object.assign(config, cacheStanzas(spec, mode));
  if (spec.disableIdleConnections.length > 0) config.disable_idle_connections = [...spec.disableIdleConnections];
  if (spec.disableKeepAlives.length > 0) config.disable_keep_alives = [...spec.disableKeepAlives];
  return config;
}

/**
 * The cache listener as vault-k8s sets it: a persistent cache (init fills it, sidecar reads it) on both
 * containers, else a plain cache in the sidecar unless pre-populate-only; `agent_api.enable_quit` on the
 * listener (a cache stanza is then required).
 */
function cacheStanzas(spec: AgentSpec, mode: AgentMode): Record<string, Json> {
  const out: Record<string, Json> = {};
  const listener: Record<string, Json> = {
    type: 'tcp',
    address: `127.0.0.1:${spec.cache.listenerPort}`,
    tls_disable: true,
  };
  const useToken = spec.cache.useAutoAuthToken;
  if (usesPersistentCache(spec)) {
    out.cache = {
      use_auto_auth_token: useToken,
      persist: { type: 'kubernetes', path: CACHE_PATH, ...(spec.cache.exitOnError ? { exit_on_err: true } : {}) },
    };
  } else if (spec.cache.enabled && !spec.prePopulateOnly && mode === 'sidecar') {
    out.cache = { use_auto_auth_token: useToken };
  }
  if (spec.enableQuit) {
    listener.agent_api = { enable_quit: true };
    out.cache ??= {};
  }
  if (out.cache !== undefined) out.listener = [listener];
  return out;
}

export function encodeVaultAgentConfig(config: Record<string, Json>): string {
  return Buffer.from(JSON.stringify(config), 'utf8').toString('base64');
}

/**
 * The container command vault-k8s uses: decode VAULT_CONFIG into a file, then run the agent on it; with
 * `agent-configmap`, run the agent on the ConfigMap's file.
 */
export function vaultAgentCommand(configFile?: string): { command: string[]; args: string[] } {
  if (configFile !== undefined)
    return { command: ['/bin/sh', '-ec'], args: [`touch ${TOKEN_FILE} && vault agent -config=${configFile}`] };
  return {
    command: ['/bin/sh', '-ec'],
    args: [
      `echo \${${VAULT_CONFIG_ENV}?} | base64 -d > ${VAULT_AGENT_CONFIG_FILE} && vault agent -config=${VAULT_AGENT_CONFIG_FILE}`,
    ],
  };
}
