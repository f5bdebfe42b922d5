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
} from '@vaultbridge/agent/contract';
import { isAuthType, type AgentSpec } from '../annotations/spec.ts';
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

export function buildAgentConfig(spec: AgentSpec, mode: AgentMode): AgentConfig {
  // Admission only lets other methods through with agent-kind vault, whose config is built elsewhere.
  const authType = spec.auth.type;
  if (!isAuthType(authType))
    throw new Error(`auth-type ${authType} is not implemented by vaultbridge-agent (use agent-kind vault)`);
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
      ...(secret.env === undefined ? {} : { env: secret.env }),
    })),
    templateConfig: spec.templateConfig,
    pidFile: PID_FILE,
    ...(mode === 'sidecar' ? { readyFile: READY_FILE } : {}),
    ...(usesEnvSecrets(spec) ? { envFile: envFilePath(spec), execWrapper: EXEC_WRAPPER } : {}),
    ...(mode === 'sidecar' && spec.revokeOnShutdown
      ? { revokeOnShutdown: { graceSeconds: spec.revokeGraceSeconds } }
      : {}),
    ...(cacheListener
      ? {
          cache: {
            listenerAddress: localhost(spec.cache.listenerPort),
            useAutoAuthToken: spec.cache.useAutoAuthToken,
            ...(persist ? { persist: { path: CACHE_PATH, exitOnError: spec.cache.exitOnError } } : {}),
          },
        }
      : {}),
    ...(handoverOff(spec, mode) ? { handover: false } : {}),
    ...(spec.enableQuit ? { quit: { listenerAddress: localhost(spec.cache.listenerPort) } } : {}),
    ...(spec.metricsListenerPort === undefined
      ? {}
      : { metrics: { listenerAddress: localhost(spec.metricsListenerPort) } }),
    log: spec.log,
    ...(Object.keys(spec.telemetry).length === 0 ? {} : { telemetry: spec.telemetry }),
    ...(spec.disableIdleConnections.length === 0 ? {} : { disableIdleConnections: spec.disableIdleConnections }),
    ...(spec.disableKeepAlives.length === 0 ? {} : { disableKeepAlives: spec.disableKeepAlives }),
  };
  return config;
}
