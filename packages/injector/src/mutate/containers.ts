// The two agent containers (vault-k8s container_sidecar.go / container_init_sidecar.go), running
// `vaultbridge-agent init|sidecar` with the generated config in VAULTBRIDGE_AGENT_CONFIG.

import type {
  V1Container,
  V1EnvVar,
  V1ResourceRequirements,
  V1SecurityContext,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { AgentResources, AgentSpec } from '../annotations/spec.ts';
import {
  AGENT_CONFIG_ENV,
  AGENT_CONFIG_FILE_ENV,
  encodeAgentConfig,
  type AgentMode,
} from '@vaultbridge/agent/contract';
import { buildAgentConfig } from './agent-config.ts';
import {
  AGENT_BINARY,
  CONFIG_PATH,
  HOME_INIT_VOLUME,
  HOME_PATH,
  HOME_SIDECAR_VOLUME,
  INIT_CONTAINER_NAME,
  READY_FILE,
  SIDECAR_CONTAINER_NAME,
  TOKEN_FILE,
} from './names.ts';
import {
  buildVaultAgentConfig,
  encodeVaultAgentConfig,
  VAULT_CONFIG_ENV,
  vaultAgentCommand,
} from './vault-agent-config.ts';

export interface ContainerOptions {
  /** the agent executable in the image */
  readonly agentBinary: string;
}

export const DEFAULT_CONTAINER_OPTIONS: ContainerOptions = { agentBinary: AGENT_BINARY };

// The probe runs often while the first render is pending; 1 s keeps app start-up latency low, and
// 300 failures (5 min) leave room for auth back-off before the kubelet restarts the sidecar.
const STARTUP_PROBE_PERIOD_SECONDS = 1;
const STARTUP_PROBE_FAILURE_THRESHOLD = 300;

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

function env(spec: AgentSpec, mode: AgentMode): V1EnvVar[] {
  // NAMESPACE/HOST_IP/POD_IP first, as upstream: json-patch annotations address env entries by index.
  const vars: V1EnvVar[] = [
    fieldEnv('NAMESPACE', 'metadata.namespace'),
    fieldEnv('HOST_IP', 'status.hostIP'),
    fieldEnv('POD_IP', 'status.podIP'),
  ];
  if (spec.goMaxProcs !== undefined) vars.push({ name: 'GOMAXPROCS', value: String(spec.goMaxProcs) });
  if (spec.vault.proxyAddress !== undefined) vars.push({ name: 'HTTPS_PROXY', value: spec.vault.proxyAddress });
  for (const copied of spec.awsWebIdentity?.env ?? []) vars.push({ ...copied });
  if (spec.agentKind === 'vault' && spec.configMap === undefined) {
    // HashiCorp's agent: vault-k8s's config in VAULT_CONFIG, log settings as Vault's env (container_env.go).
    vars.push({ name: 'VAULT_LOG_LEVEL', value: spec.log.level });
    vars.push({ name: 'VAULT_LOG_FORMAT', value: spec.log.format });
    if (spec.vault.timeoutMs !== undefined)
      vars.push({ name: 'VAULT_CLIENT_TIMEOUT', value: `${spec.vault.timeoutMs}ms` });
    if (spec.vault.maxRetries !== undefined)
      vars.push({ name: 'VAULT_MAX_RETRIES', value: String(spec.vault.maxRetries) });
    if (spec.vault.caCertPem !== undefined) vars.push({ name: 'VAULT_CACERT_BYTES', value: spec.vault.caCertPem });
    vars.push({ name: VAULT_CONFIG_ENV, value: encodeVaultAgentConfig(buildVaultAgentConfig(spec, mode)) });
    return vars;
  }
  if (spec.configMap === undefined) {
    vars.push({ name: AGENT_CONFIG_ENV, value: encodeAgentConfig(buildAgentConfig(spec, mode)) });
    return vars;
  }
  // ConfigMap mode: the agent reads its config file; VAULT_* fill in what the file leaves out (GH-353).
  vars.push({
    name: AGENT_CONFIG_FILE_ENV,
    value: `${CONFIG_PATH}/${mode === 'init' ? 'config-init.json' : 'config.json'}`,
  });
  // As vault-k8s (container_env.go), the pod's log and client settings reach a hand-written config as
  // env; the agent applies VAULT_* over its file, as Vault Agent does.
  vars.push({ name: 'VAULT_LOG_LEVEL', value: spec.log.level });
  vars.push({ name: 'VAULT_LOG_FORMAT', value: spec.log.format });
  if (spec.vault.timeoutMs !== undefined)
    vars.push({ name: 'VAULT_CLIENT_TIMEOUT', value: `${spec.vault.timeoutMs}ms` });
  if (spec.vault.maxRetries !== undefined)
    vars.push({ name: 'VAULT_MAX_RETRIES', value: String(spec.vault.maxRetries) });
  if (spec.vault.caCertPem !== undefined) vars.push({ name: 'VAULT_CACERT_BYTES', value: spec.vault.caCertPem });
  vars.push({ name: 'VAULT_ADDR', value: spec.vault.address });
  if (spec.vault.caCert !== undefined) vars.push({ name: 'VAULT_CACERT', value: spec.vault.caCert });
  if (spec.vault.caPath !== undefined) vars.push({ name: 'VAULT_CAPATH', value: spec.vault.caPath });
  if (spec.vault.clientCert !== undefined) vars.push({ name: 'VAULT_CLIENT_CERT', value: spec.vault.clientCert });
  if (spec.vault.clientKey !== undefined) vars.push({ name: 'VAULT_CLIENT_KEY', value: spec.vault.clientKey });
  vars.push({ name: 'VAULT_SKIP_VERIFY', value: String(spec.vault.tlsSkipVerify) });
  if (spec.vault.tlsServerName !== undefined)
    vars.push({ name: 'VAULT_TLS_SERVER_NAME', value: spec.vault.tlsServerName });
  return vars;
}

function resources(r: AgentResources): V1ResourceRequirements {
  const out: V1ResourceRequirements = {};
  if (Object.keys(r.limits).length > 0) out.limits = { ...r.limits };
  if (Object.keys(r.requests).length > 0) out.requests = { ...r.requests };
  return out;
}

function securityContext(ids: { runAsUser: number; runAsGroup: number }): V1SecurityContext {
  return {
    runAsUser: ids.runAsUser,
    runAsGroup: ids.runAsGroup,
    runAsNonRoot: ids.runAsUser !== 0 && ids.runAsGroup !== 0,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    allowPrivilegeEscalation: false,
    // Not set upstream; required by the "restricted" Pod Security Standard.
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function tokenMount(spec: AgentSpec): V1VolumeMount {
  return { name: spec.serviceAccountToken.volumeName, mountPath: spec.serviceAccountToken.mountPath, readOnly: true };
}

/** The EKS web-identity token mount for auth-type aws, read-only (vault-k8s adds it to both agents). */
function awsTokenMounts(spec: AgentSpec): V1VolumeMount[] {
  const mount = spec.awsWebIdentity?.volumeMount;
  return mount === undefined ? [] : [{ name: mount.name, mountPath: mount.mountPath, readOnly: true }];
}

function container(spec: AgentSpec, options: ContainerOptions, mode: AgentMode, mounts: V1VolumeMount[]): V1Container {
  const built: V1Container = {
    name: mode === 'init' ? INIT_CONTAINER_NAME : SIDECAR_CONTAINER_NAME,
    image: spec.image,
    ...(spec.agentKind === 'vault'
      ? vaultAgentCommand(
          spec.configMap === undefined
            ? undefined
            : `${CONFIG_PATH}/${mode === 'init' ? 'config-init.hcl' : 'config.hcl'}`,
        )
      : { command: [options.agentBinary], args: [mode] }),
    env: env(spec, mode),
    resources: resources(mode === 'init' ? spec.resources.init : spec.resources.sidecar),
    volumeMounts: mounts,
  };
  if (spec.securityContext !== undefined) built.securityContext = securityContext(spec.securityContext);
  return built;
}

/** `vault-agent-init`: renders everything once and exits. Home mount first, as upstream. */
export function initContainer(spec: AgentSpec, options: ContainerOptions, sharedMounts: V1VolumeMount[]): V1Container {
  return container(spec, options, 'init', [
    { name: HOME_INIT_VOLUME, mountPath: HOME_PATH },
    tokenMount(spec),
    ...sharedMounts,
    ...awsTokenMounts(spec),
  ]);
}

/** A shell word: single-quoted unless it is plain (vault-k8s pastes annotation values in unquoted). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * vault-k8s's preStop hook for Vault Agent with `agent-revoke-on-shutdown` (container_sidecar.go
 * createLifecycle, vaultCliFlags): wait the grace period, then `vault token revoke -self` with the
 * token the CLI's default token helper reads, `~/.vault-token`, which is the agent's file sink. Our agent
 * revokes on SIGTERM itself and needs no hook.
 */
export function vaultAgentPreStop(spec: AgentSpec): string[] {
  const flags = [`-address=${spec.vault.address}`];
  if (spec.vault.caCert !== undefined) flags.push(`-ca-cert=${spec.vault.caCert}`);
  if (spec.vault.clientCert !== undefined) flags.push(`-client-cert=${spec.vault.clientCert}`);
  if (spec.vault.clientKey !== undefined) flags.push(`-client-key=${spec.vault.clientKey}`);
  flags.push('-self');
  return [
    '/bin/sh',
    '-c',
    `/bin/sleep ${spec.revokeGraceSeconds} && /bin/vault token revoke ${flags.map(shellWord).join(' ')}`,
  ];
}

/** `vault-agent`: keeps secrets fresh; in native mode an init container that restarts and gates start-up. */
export function sidecarContainer(
  spec: AgentSpec,
  options: ContainerOptions,
  sharedMounts: V1VolumeMount[],
): V1Container {
  const built = container(spec, options, 'sidecar', [
    tokenMount(spec),
    { name: HOME_SIDECAR_VOLUME, mountPath: HOME_PATH },
    ...sharedMounts,
    ...awsTokenMounts(spec),
  ]);
  const sidecar: V1Container =
    spec.agentKind === 'vault' && spec.revokeOnShutdown
      ? { ...built, lifecycle: { preStop: { exec: { command: vaultAgentPreStop(spec) } } } }
      : built;
  if (!spec.nativeSidecar) return sidecar;
  // Vault Agent has no ready file: a native sidecar waits for the first rendered file instead.
  const probe =
    spec.agentKind === 'vault'
      ? ['/bin/sh', '-ec', `test -e ${spec.secrets[0]?.destination ?? TOKEN_FILE}`]
      : [options.agentBinary, 'probe', '--ready-file', READY_FILE];
  return {
    ...sidecar,
    restartPolicy: 'Always',
    startupProbe: {
      exec: { command: probe },
      periodSeconds: STARTUP_PROBE_PERIOD_SECONDS,
      failureThreshold: STARTUP_PROBE_FAILURE_THRESHOLD,
    },
  };
}
