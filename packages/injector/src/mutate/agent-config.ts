// The webhook's half of the agent contract: a pod's parsed annotations (AgentSpec) → the AgentConfig
// each agent container gets. The contract itself (types, schema, env names, encoding, paths) is
// @vaultbridge/agent/contract, which the agent validates its input with.

import path from 'node:path/posix';
import {
  AGENT_CONFIG_VERSION,
  CACHE_PATH,
  EXEC_WRAPPER,
  PID_FILE,
  READY_FILE,
  SECRETS_PATH,
  TOKEN_FILE,
  type AgentConfig,
  type AgentMode,
  type AgentSecretConfig,
} from '@vaultbridge/agent/contract';
import { isAuthType, type AgentSpec, type SecretSpec } from '../annotations/spec.ts';
import { envFilePath, usesEnvSecrets } from './env-wrapper.ts';

function localhost(port: number): string {
  return `127.0.0.1:${port}`;
}

/** Persistent cache only makes sense when an init agent fills it and a sidecar reads it (as upstream). */
export function usesPersistentCache(spec: AgentSpec): boolean {
  return spec.cache.enabled && spec.prePopulate && !spec.prePopulateOnly && !spec.nativeSidecar;
}

/**
 * The handover without the cache is the agent's default (decided from its config, so default pods carry
 * nothing new); the config only says when it is off: agent-handover "false", or a pre-populate-only
 * pod's init, whose file no sidecar would take.
 */
function handoverOff(spec: AgentSpec, mode: AgentMode): boolean {
  return !spec.handover || (mode === 'init' && spec.prePopulateOnly);
}

/**
 * One secret's entry. Optional fields are written as they are, undefined included, instead of spread in
 * when set: a review builds this twice for every secret and each conditional spread allocated an object
 * (issue 14, bytes per review); the config is only ever serialised, and JSON leaves undefined out.
 */
function agentSecret(secret: SecretSpec): AgentSecretConfig {
  return {
    name: secret.name,
    path: secret.vaultPath,
    template: secret.template,
    templateFile: secret.templateFile,
    defaultTemplate: secret.defaultTemplate,
    destination: secret.destination,
    volume: secret.mountPath === SECRETS_PATH ? undefined : secret.mountPath,
    perms: secret.perms,
    command: secret.command,
    leftDelimiter: secret.leftDelimiter,
    rightDelimiter: secret.rightDelimiter,
    errorOnMissingKey: secret.errorOnMissingKey,
    templateEngine: secret.templateEngine,
    env: secret.env,
  };
}

export function buildAgentConfig(spec: AgentSpec, mode: AgentMode): AgentConfig {
  // Admission only lets other methods through with agent-kind vault, whose config is built elsewhere.
  const authType = spec.auth.type;
  if (!isAuthType(authType))
    throw new Error(`auth-type ${authType} is not implemented by vaultbridge-agent (use agent-kind vault)`);
  const persist = usesPersistentCache(spec);
  const envSecrets = usesEnvSecrets(spec);
  const cacheListener = spec.cache.enabled && (persist || (mode === 'sidecar' && !spec.prePopulateOnly));
  // Optional fields undefined rather than spread in, as in agentSecret (JSON leaves them out).
  const config: AgentConfig = {
    version: AGENT_CONFIG_VERSION,
    mode,
    vault: spec.vault,
    auth: {
      type: authType,
      mountPath: spec.auth.mountPath,
      role: spec.auth.role,
      serviceAccountTokenPath: spec.serviceAccountToken.tokenPath,
      config: spec.auth.config,
      minBackoffMs: spec.auth.minBackoffMs,
      maxBackoffMs: spec.auth.maxBackoffMs,
      exitOnError: spec.auth.exitOnError,
    },
    tokenSinks: spec.injectToken ? [TOKEN_FILE, path.join(spec.secretVolumePath, 'token')] : [TOKEN_FILE],
    secrets: spec.secrets.map(agentSecret),
    templateConfig: spec.templateConfig,
    pidFile: PID_FILE,
    readyFile: mode === 'sidecar' ? READY_FILE : undefined,
    envFile: envSecrets ? envFilePath(spec) : undefined,
    execWrapper: envSecrets ? EXEC_WRAPPER : undefined,
    revokeOnShutdown:
      mode === 'sidecar' && spec.revokeOnShutdown ? { graceSeconds: spec.revokeGraceSeconds } : undefined,
    cache: cacheListener
      ? {
          listenerAddress: localhost(spec.cache.listenerPort),
          useAutoAuthToken: spec.cache.useAutoAuthToken,
          persist: persist ? { path: CACHE_PATH, exitOnError: spec.cache.exitOnError } : undefined,
        }
      : undefined,
    handover: handoverOff(spec, mode) ? false : undefined,
    quit: spec.enableQuit ? { listenerAddress: localhost(spec.cache.listenerPort) } : undefined,
    metrics:
      spec.metricsListenerPort === undefined ? undefined : { listenerAddress: localhost(spec.metricsListenerPort) },
    log: spec.log,
    telemetry: Object.keys(spec.telemetry).length === 0 ? undefined : spec.telemetry,
    disableIdleConnections: spec.disableIdleConnections.length === 0 ? undefined : spec.disableIdleConnections,
    disableKeepAlives: spec.disableKeepAlives.length === 0 ? undefined : spec.disableKeepAlives,
  };
  return config;
}
