// Shared by the cluster tier's tests: the stack named by VAULTBRIDGE_STACK, with the helpers of
// src/cluster/workloads.ts (shared with `npm run demo`).
import { sharedStack } from '../../src/index.ts';
import { clusterEnv, type ClusterStack } from '../../src/cluster/workloads.ts';

export {
  appNamespace,
  chartNamespace,
  diagnose,
  helm,
  installChart,
  lastPrint,
  podLog,
  printingContainer,
  release,
  waitFor,
  waitForPodsReady,
  type ClusterStack,
} from '../../src/cluster/workloads.ts';

export function clusterStack(): ClusterStack {
  return clusterEnv(
    sharedStack(),
    `the stack named by VAULTBRIDGE_STACK runs no node: start it with 'vaultbridge-testenv up --cluster' (npm run test:cluster does)`,
  );
}
