// Env-var secrets (`agent-inject-env-<secret>`, ours): the agent writes an env file into the secrets
// volume (memory-backed, pod-local); each app container's command is run by /bin/sh, which reads that
// file and then execs the original command. The values never enter the pod spec (so not etcd, not
// `kubectl get pod -o yaml`, not the API server's watchers); they live in the process's environment.

import type { V1Container } from '@kubernetes/client-node';
import type { AgentSpec } from '../annotations/spec.ts';

/** In the pod-wide secrets directory; a dot file, so `ls` and a glob over the secrets skip it. */
export const ENV_FILE_NAME = '.vaultbridge-env';
/** `$0` of the wrapper shell: what `ps` shows before the exec. */
const WRAPPER_NAME = 'vaultbridge-env';

export function envFilePath(spec: Pick<AgentSpec, 'secretVolumePath'>): string {
  return `${spec.secretVolumePath}/${ENV_FILE_NAME}`;
}

export function usesEnvSecrets(spec: Pick<AgentSpec, 'secrets'>): boolean {
  return spec.secrets.some((secret) => secret.env !== undefined);
}

/**
 * The container with its command run through the env file: `/bin/sh -c '<read env file>; exec "$@"'
 * vaultbridge-env <command…> <args…>`. A missing or unreadable file stops the container (set -e), so the
 * app never starts without its variables. Kubernetes expands `$(VAR)` in command and args alike, so
 * moving the command into args keeps its meaning. The file's path is single-quoted (it is an absolute
 * path the webhook checked, but quoting costs nothing).
 */
export function wrapWithEnvFile(container: V1Container, envFile: string): V1Container {
  const quoted = `'${envFile.replaceAll("'", "'\\''")}'`;
  return {
    ...container,
    command: ['/bin/sh', '-c', `set -e; . ${quoted}; exec "$@"`, WRAPPER_NAME],
    args: [...(container.command ?? []), ...(container.args ?? [])],
  };
}
