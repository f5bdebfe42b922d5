// Where init leaves its token and leases for the sidecar, decided from the agent's own config so the
// webhook writes nothing new into default pods (their shape and config stay vault-k8s's):
// - agent-cache-enable: the persistent cache on the `vault-agent-cache` volume (`cache.persist`), as
//   vault-k8s configures Vault Agent;
// - otherwise, by default (ours): a hidden file on the secrets volume both agents already mount, so a
//   dynamic secret is issued once per pod without the cache too. `handover: false` turns it off
//   (annotation agent-handover "false"; the webhook also sets it for a pre-populate-only pod's init,
//   where no sidecar would take the file).

import path from 'node:path/posix';
import { SECRETS_PATH } from '../contract/paths.ts';
import type { AgentConfig } from '../contract/types.ts';
import { HANDOVER_FILE, PERSIST_FILE, type HandoverIdentity } from './persist.ts';

export interface HandoverLocation {
  /** absolute path in the pod */
  readonly file: string;
  /** agent-cache-exit-on-err: a handover that cannot be restored ends the sidecar */
  readonly exitOnError: boolean;
  /** on the volume the app mounts too: the key is wrapped for minutes, not the token's life */
  readonly shared: boolean;
  /** whose token the sidecar may adopt */
  readonly identity: HandoverIdentity;
}

/** How long the key of a file on the shared volume can be unwrapped: the sidecar starts right after init. */
export const SHARED_WRAP_TTL_SECONDS = 15 * 60;

export function handoverLocation(config: AgentConfig): HandoverLocation | undefined {
  const identity: HandoverIdentity = {
    mountPath: config.auth.mountPath,
    ...(config.auth.role === undefined ? {} : { role: config.auth.role }),
  };
  const persist = config.cache?.persist;
  if (persist !== undefined)
    return { file: path.join(persist.path, PERSIST_FILE), exitOnError: persist.exitOnError, shared: false, identity };
  if (config.handover === false) return undefined;
  return { file: path.join(SECRETS_PATH, HANDOVER_FILE), exitOnError: false, shared: true, identity };
}
