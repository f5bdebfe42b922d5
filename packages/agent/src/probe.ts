// `vaultbridge-agent probe`: the native sidecar's startup probe. Ready once the sidecar wrote its ready
// file after the first complete render.

import fs from 'node:fs';
import type { AgentPaths } from './paths.ts';

export function probeReady(readyFile: string, paths: AgentPaths): boolean {
  return fs.existsSync(paths.hostPath(readyFile));
}
