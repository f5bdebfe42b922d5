// The provider as it runs in its pod: a service account with the chart's RBAC (charts/vaultbridge/charts/
// csi-provider/templates/rbac.yaml: create serviceaccounts/token anywhere; create secrets and get the HMAC
// key Secret in its own namespace) and a projected-token directory (token, ca.crt, namespace) with
// KUBERNETES_SERVICE_HOST/PORT, read by KubeHttp.inCluster exactly as in the pod, on the real API server.
import fs from 'node:fs';
import type { TestStack } from '@vaultbridge/testenv';

export interface ProviderAccount {
  /** VAULTBRIDGE_SERVICE_ACCOUNT_ROOT for the provider. */
  root: string;
  /** KUBERNETES_SERVICE_HOST/PORT of the stack's API server. */
  env: { KUBERNETES_SERVICE_HOST: string; KUBERNETES_SERVICE_PORT: string };
  cleanup(): Promise<void>;
}

/** A service account `csi-provider` in `namespace` with the chart's rules for the HMAC key Secret `hmacSecretName`. */
export async function providerAccount(
  stack: TestStack,
  namespace: string,
  hmacSecretName: string,
): Promise<ProviderAccount> {
  const account = 'csi-provider';
  const clusterRole = `${namespace}-csi-provider`;
  const { root, env } = await stack.serviceAccountRoot(namespace, account);
  const rbac = stack.kube.rbac;
  await rbac.createClusterRole({
    body: {
      metadata: { name: clusterRole },
      rules: [{ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }],
    },
  });
  await stack.kube.bindClusterRole(clusterRole, clusterRole, namespace, account);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: account, namespace },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [hmacSecretName], verbs: ['get'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: account, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
    },
  });
  return {
    root,
    env,
    async cleanup() {
      fs.rmSync(root, { recursive: true, force: true });
      await rbac.deleteClusterRoleBinding({ name: clusterRole }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: clusterRole }).catch(() => undefined);
    },
  };
}
