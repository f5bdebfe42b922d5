import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { crds as ourCrds, vsoGroupCrds, type CustomResourceDefinition } from './api/crds.ts';
import { isNotFound } from '@vaultbridge/core';
import { KubeJson } from './runtime/kube-json.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** Creates or replaces the CRDs and waits until the API server serves them. */
export async function installCrds(
  kube: KubeJson | KubeConfig,
  timeoutMs = 30_000,
  options: { vsoGroup?: boolean } = {},
): Promise<void> {
  const crds: CustomResourceDefinition[] = options.vsoGroup ? vsoGroupCrds() : ourCrds();
  const json = kube instanceof KubeJson ? kube : KubeJson.fromKubeConfig(kube);
  const read = (name: string) => json.get<V1CustomResourceDefinition>(`${CRDS}/${encodeURIComponent(name)}`);
  try {
    await installAndWait(json, read, crds, timeoutMs);
  } finally {
    // Only the client made here: a caller's stays open.
    if (json !== kube) json.close();
  }
}

async function installAndWait(
  json: KubeJson,
  read: (name: string) => Promise<V1CustomResourceDefinition>,
  crds: CustomResourceDefinition[],
  timeoutMs: number,
): Promise<void> {
  for (const definition of crds) {
    const body = definition as unknown as V1CustomResourceDefinition;
    try {
      const existing = await read(definition.metadata.name);
      await json.request('PUT', `${CRDS}/${encodeURIComponent(definition.metadata.name)}`, {
        ...body,
        metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await json.request('POST', CRDS, body);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const definition of crds) {
    for (;;) {
      const current = await read(definition.metadata.name);
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
