// Shared by the cluster tier's tests: the stack named by VAULTBRIDGE_STACK, with the helpers of
// src/cluster/workloads.ts and src/cluster/apps.ts (shared with the migration proofs and `npm run demo`).
import pg from 'pg';
import { sharedStack } from '../../src/index.ts';
import { clusterEnv, installChart, type ClusterStack } from '../../src/cluster/workloads.ts';

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
export * from '../../src/cluster/apps.ts';

export function clusterStack(): ClusterStack {
  return clusterEnv(
    sharedStack(),
    `the stack named by VAULTBRIDGE_STACK runs no node: start it with 'vaultbridge-testenv up --cluster' (npm run test:cluster does)`,
  );
}

/**
 * The stack with the chart installed before the calling file's tests (a beforeAll): every service pod
 * Ready, so the webhook is trusted by the API server (injector webhook/tls/auto-source.ts).
 */
export function clusterStackWithChart(): ClusterStack {
  const env = clusterStack();
  beforeAll(async () => {
    await installChart(env);
  });
  return env;
}

/** Database credentials are new on every read: what a test checks is that they log in as themselves. */
export async function logsIn(env: ClusterStack, user: string, password: string | undefined): Promise<void> {
  const { host, port, database } = env.stack.postgres;
  const client = new pg.Client({ host, port, database, user, password });
  await client.connect();
  try {
    expect((await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user).toBe(user);
  } finally {
    await client.end();
  }
}
