// Env-var secrets (`agent-inject-env-<secret>`, ours): the agent writes an env file into the secrets
// volume (memory-backed, pod-local) and copies its static exec wrapper (tools/images/vaultbridge-exec.c)
// into the `vault-exec` volume; each app container's command is run by that wrapper, which reads the
// file, sets the variables and execs the original command. No shell in the app image is needed. The values never enter the pod spec (so not etcd, not
// `kubectl get pod -o yaml`, not the API server's watchers); they live in the process's environment.

import type { V1Container } from '@kubernetes/client-node';
import type { AgentSpec } from '../annotations/spec.ts';
import { EXEC_PATH, EXEC_VOLUME, EXEC_WRAPPER } from './names.ts';

/** In the pod-wide secrets directory; a dot file, so `ls` and a glob over the secrets skip it. */
export const ENV_FILE_NAME = '.vaultbridge-env';

export function envFilePath(spec: Pick<AgentSpec, 'secretVolumePath'>): string {
  return `${spec.secretVolumePath}/${ENV_FILE_NAME}`;
}

export function usesEnvSecrets(spec: Pick<AgentSpec, 'secrets'>): boolean {
  return spec.secrets.some((secret) => secret.env !== undefined);
}

/** Kubernetes expands `$(VAR)` in command and args; `$$` is its escape for a literal `$`. */
function literal(value: string): string {
  return value.replaceAll('$', '$$$$');
}

/**
 * The container with its command run through the env file: `vaultbridge-exec <env file> -- <command…>
 * <args…>`, the wrapper mounted read-only from the `vault-exec` volume. A missing or malformed file
 * stops the container with a message naming it, so the app never starts without its variables.
 * Kubernetes expands `$(VAR)` in command and args alike, so moving the command into args keeps its
 * meaning; the file's path is escaped so it stays as the webhook wrote it.
 */
export function wrapWithEnvFile(container: V1Container, envFile: string): V1Container {
  const mounts = container.volumeMounts ?? [];
  return {
    ...container,
    command: [EXEC_WRAPPER, literal(envFile), '--'],
    args: [...(container.command ?? []), ...(container.args ?? [])],
    volumeMounts: mounts.some((m) => m.name === EXEC_VOLUME)
      ? mounts
      : [...mounts, { name: EXEC_VOLUME, mountPath: EXEC_PATH, readOnly: true }],
  };
}
