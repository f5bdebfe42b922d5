// The webhook as it runs in its pod: a service account with the chart's RBAC (charts/vaultbridge/charts/
// injector/templates/rbac.yaml: its own webhook configuration, its own certificate Secret and Lease), a
// projected-token directory (token, ca.crt, namespace) and KUBERNETES_SERVICE_HOST/PORT, read by
// KubeHttp.inCluster exactly as in the pod, against the stack's real API server.
import fs from 'node:fs';
import { KubeHttp } from '@vaultbridge/core';
import type { TestStack } from '@vaultbridge/testenv';

export interface InClusterWebhookAccess {
  /** A client of its own for one replica (each pod reads its own service-account files). */
  connect(): KubeHttp;
  root: string;
  /** KUBERNETES_SERVICE_HOST/PORT of the stack's API server, for a process run as the pod. */
  env: { KUBERNETES_SERVICE_HOST: string; KUBERNETES_SERVICE_PORT: string };
  cleanup(): Promise<void>;
}

/** A service account `<ns>-injector` in `ns` with the chart's injector rules for `secretName` and `webhookConfigName`. */
export async function inClusterWebhookAccess(
  stack: TestStack,
  ns: string,
  secretName: string,
  webhookConfigName: string,
): Promise<InClusterWebhookAccess> {
  const account = `${ns}-injector`;
  const { root, env } = await stack.serviceAccountRoot(ns, account);
  const rbac = stack.kube.rbac;
  await rbac.createClusterRole({
    body: {
      metadata: { name: account },
      rules: [
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['mutatingwebhookconfigurations'],
          resourceNames: [webhookConfigName],
          verbs: ['get', 'list', 'watch', 'patch'],
        },
      ],
    },
  });
  await stack.kube.bindClusterRole(account, account, ns, account);
  await rbac.createNamespacedRole({
    namespace: ns,
    body: {
      metadata: { name: account, namespace: ns },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [secretName],
          verbs: ['get', 'list', 'watch', 'update', 'patch'],
        },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: [`${secretName}-leader`],
          verbs: ['get', 'update', 'patch'],
        },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: account, namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace: ns }],
    },
  });

  const clients: KubeHttp[] = [];
  return {
    connect() {
      const kube = KubeHttp.inCluster({ root, env });
      clients.push(kube);
      return kube;
    },
    root,
    env,
    async cleanup() {
      for (const kube of clients) kube.close();
      fs.rmSync(root, { recursive: true, force: true });
      await rbac.deleteClusterRoleBinding({ name: account }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: account }).catch(() => undefined);
    },
  };
}
