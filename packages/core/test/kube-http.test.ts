// KubeHttp against the real API server, authenticated the way it is in a pod: a service account's
// projected token and the API server's CA under a service-account root, KUBERNETES_SERVICE_HOST/PORT.
import fs from 'node:fs';
import type { V1Secret } from '@kubernetes/client-node';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { isConflict, isNotFound } from '../src/kube/api-errors.ts';
import { KubeApiError, KubeHttp } from '../src/kube/kube-http.ts';

let stack: TestStack;
beforeAll(() => {
  stack = sharedStack();
});

async function inCluster(ns: string, account: string): Promise<{ kube: KubeHttp; root: string }> {
  const { root, env } = await stack.serviceAccountRoot(ns, account);
  return { kube: KubeHttp.inCluster({ root, env }), root };
}

it('reads, creates, replaces and patches with the service account, and reports what RBAC refuses', async () => {
  const ns = stack.uniqueName('kubehttp');
  const { kube, root } = await inCluster(ns, 'writer');
  try {
    expect(kube.namespace).toBe(ns);
    const secrets = `/api/v1/namespaces/${ns}/secrets`;
    // No RBAC yet: the API server's 403 comes back as a KubeApiError naming the status and reason.
    const refused = await kube.get(`${secrets}/s`).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect([(refused as KubeApiError).status, (refused as KubeApiError).reason]).toEqual([403, 'Forbidden']);

    await stack.kube.rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'writer' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update', 'patch'] }],
      },
    });
    await stack.kube.rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'writer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'writer' },
        subjects: [{ kind: 'ServiceAccount', name: 'writer', namespace: ns }],
      },
    });
    expect(isNotFound(await kube.get(`${secrets}/s`).catch((error: unknown) => error))).toBe(true);
    const created = await kube.request<V1Secret>('POST', secrets, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { a: '1' } },
    });
    // AlreadyExists is a 409 too.
    const again = await kube
      .request('POST', secrets, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } } })
      .catch((error: unknown) => error);
    expect([isConflict(again), (again as KubeApiError).reason]).toEqual([true, 'AlreadyExists']);
    const replaced = await kube.request<V1Secret>('PUT', `${secrets}/s`, {
      body: { ...created, data: { a: Buffer.from('2').toString('base64') } },
    });
    // A stale resourceVersion is a conflict, as client-node's typed replace reports it.
    expect(
      isConflict(await kube.request('PUT', `${secrets}/s`, { body: created }).catch((error: unknown) => error)),
    ).toBe(true);
    await kube.request('PATCH', `${secrets}/s`, {
      body: { metadata: { labels: { patched: 'yes' } } },
      contentType: 'application/merge-patch+json',
    });
    const read = await kube.get<V1Secret>(`${secrets}/s`);
    expect([read.data?.a, read.metadata?.labels?.patched, replaced.metadata?.name]).toEqual([
      Buffer.from('2').toString('base64'),
      'yes',
      's',
    ]);
  } finally {
    kube.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
