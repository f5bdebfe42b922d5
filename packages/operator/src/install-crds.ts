import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { crds as ourCrds, vsoGroupCrds, type CustomResourceDefinition } from './api/crds.ts';
import { isNotFound } from '@vaultbridge/core';

/** Creates or replaces the CRDs and waits until the API server serves them. */
export async function installCrds(
  kubeConfig: KubeConfig,
  timeoutMs = 30_000,
  options: { vsoGroup?: boolean } = {},
): Promise<void> {
  const crds: CustomResourceDefinition[] = options.vsoGroup ? vsoGroupCrds() : ourCrds;
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const definition of crds) {
    const body = definition as unknown as V1CustomResourceDefinition;
    try {
      const existing = await api.readCustomResourceDefinition({ name: definition.metadata.name });
      await api.replaceCustomResourceDefinition({
        name: definition.metadata.name,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await api.createCustomResourceDefinition({ body });
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const definition of crds) {
    for (;;) {
      const current = await api.readCustomResourceDefinition({ name: definition.metadata.name });
      if (
        current.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True')
      )
        break;
      if (Date.now() > deadline)
        throw new Error(`CRD ${definition.metadata.name} was not established within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
