// Every absolute path the agent touches goes through `hostPath`, so VAULTBRIDGE_AGENT_ROOT can move the
// whole file system view into a temporary directory (tests, local runs). In a pod the root is unset.

import path from 'node:path';

export interface AgentPaths {
  /** the prefix, or undefined in a pod */
  readonly root: string | undefined;
  /** the file the agent really opens for an absolute path of the configuration */
  hostPath(absolute: string): string;
}

export function agentPaths(root: string | undefined): AgentPaths {
  const prefix = root === undefined || root.trim() === '' ? undefined : path.resolve(root);
  return {
    root: prefix,
    hostPath: (absolute) => (prefix === undefined ? absolute : path.join(prefix, absolute)),
  };
}
