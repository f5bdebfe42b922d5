// What the API-tier e2e files that end in the operator share: the namespace they migrate into (service
// account `app`, Vault policy and kubernetes role, a KV secret) and the operator run in-process on it.
// The cluster tier has its own (test/cluster/support.ts): its namespaces hold real pods.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { startOperator, type RunningOperator } from '@vaultbridge/operator';
import type { TestStack } from '@vaultbridge/testenv';
import { deleteOperatorObjects } from './apply.ts';

export interface AppNamespace {
  /** The Vault policy; the role and the policy are both named after the namespace. */
  policy: string;
  /** The role's bound audience; none binds the API server's default audience. */
  audience?: string;
  /** The KV v2 secret the app reads: its API path (`<mount>/data/...`) and data. */
  secret: { path: string; data: Record<string, string> };
}

/** Namespace, service account `app`, policy and kubernetes role `<namespace>`, and the app's KV secret. */
export async function setUpAppNamespace(stack: TestStack, namespace: string, app: AppNamespace): Promise<void> {
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(namespace, app.policy);
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    ...(app.audience ? { audience: app.audience } : {}),
  });
  await stack.vaultAdmin.write(app.secret.path, { data: app.secret.data });
}

/** The operator in-process, watching `namespace`, with a short back-off so the proofs do not wait on retries. */
export function startNamespaceOperator(
  stack: TestStack,
  namespace: string,
  loggerName: string,
): Promise<RunningOperator> {
  return startOperator({
    kubeConfig: stack.kube.config,
    logger: createLogger({ name: loggerName, level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
  });
}

/** Deletes the namespace's operator objects while the operator still runs (their finalizers need it), then stops it. */
export async function stopNamespaceOperator(
  operator: RunningOperator | undefined,
  custom: CustomObjectsApi,
  namespace: string,
): Promise<void> {
  if (operator) await deleteOperatorObjects(custom, namespace);
  await operator?.stop();
}
