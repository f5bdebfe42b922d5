// Helpers the operator e2e files share.
import type { CoreV1Api, CustomObjectsApi, V1Secret } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import type { TestStack } from '@vaultbridge/testenv';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../src/operator.ts';
import { GROUP, VERSION } from '../../src/api/common.ts';

/** Polls `probe` until it returns something truthy; fails with what it waited for and the last error. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const decode = (secret: V1Secret, key: string): string | undefined => {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

/** Object helpers bound to one test namespace. */
export function inNamespace(custom: CustomObjectsApi, core: CoreV1Api, namespace: string) {
  return {
    readSecret: (name: string): Promise<V1Secret | undefined> =>
      core.readNamespacedSecret({ name, namespace }).catch(() => undefined),
    create: async (plural: string, kind: string, name: string, spec: object): Promise<void> => {
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec },
      });
    },
    read: <T>(plural: string, name: string): Promise<T> =>
      custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name }) as Promise<T>,
  };
}

/**
 * What every operator e2e file sets up after its Vault policy and role: a VaultConnection `vault` and a
 * VaultAuth `auth` (the namespace's `app` service account, role = namespace), then an operator in-process
 * with short back-off.
 */
export async function connectAndStartOperator(
  stack: TestStack,
  namespace: string,
  create: ReturnType<typeof inNamespace>['create'],
  loggerName: string,
  extra: Partial<OperatorOptions> = {},
): Promise<RunningOperator> {
  await create('vaultconnections', 'VaultConnection', 'vault', { address: stack.vaultAddr });
  await create('vaultauths', 'VaultAuth', 'auth', {
    vaultConnectionRef: 'vault',
    method: 'kubernetes',
    mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
  });
  return startOperator({
    kubeConfig: stack.kube.config,
    logger: createLogger({ name: loggerName, level: 'warn' }),
    operatorNamespace: namespace,
    backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
    ...extra,
  });
}

/**
 * The namespace and its `app` service account allowed (role = policy = namespace, audience `vault`) to read
 * `secret/data/e2e/<namespace>/*`, with `data` written at `secret/data/<vaultPath>`.
 */
export async function setUpAppRole(
  stack: TestStack,
  namespace: string,
  vaultPath: string,
  data: Record<string, string>,
): Promise<void> {
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(namespace, `path "secret/data/e2e/${namespace}/*" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(`secret/data/${vaultPath}`, { data });
}

/**
 * The set-up of the CLI e2e files: setUpAppRole, then a VaultConnection and VaultAuth both named `default`.
 */
export async function setUpDefaultAppAuth(
  stack: TestStack,
  namespace: string,
  create: ReturnType<typeof inNamespace>['create'],
  vaultPath: string,
  data: Record<string, string>,
): Promise<void> {
  await setUpAppRole(stack, namespace, vaultPath, data);
  await create('vaultconnections', 'VaultConnection', 'default', { address: stack.vaultAddr });
  await create('vaultauths', 'VaultAuth', 'default', {
    method: 'kubernetes',
    mount: stack.layout.kubernetesAuthMount,
    kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
  });
}
