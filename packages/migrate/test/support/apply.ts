// Creating converted manifests in the real API server, and the operator's CRDs from the files the
// operator ships (packages/operator/crds), as a user would `kubectl apply` them.
import fs from 'node:fs';
import path from 'node:path';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { API_VERSION, crds } from '@vaultbridge/operator';
import { parse } from 'yaml';
import type { Manifest } from '../../src/manifests.ts';

const CRD_DIR = path.join(import.meta.dirname, '../../../operator/crds');

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Create or replace every CRD file of packages/operator/crds and wait until each is served. */
export async function installShippedCrds(kubeConfig: KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const files = fs.readdirSync(CRD_DIR).filter((file) => file.endsWith('.yaml'));
  if (files.length !== crds().length)
    throw new Error(
      `packages/operator/crds holds ${files.length} CRDs, the operator defines ${crds().length}: run npm run crds -w @vaultbridge/operator`,
    );
  for (const file of files) {
    const body = parse(fs.readFileSync(path.join(CRD_DIR, file), 'utf8')) as V1CustomResourceDefinition;
    const name = body.metadata!.name!;
    const existing = await api.readCustomResourceDefinition({ name }).catch(() => undefined);
    if (existing)
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } },
      });
    else await api.createCustomResourceDefinition({ body });
    await waitFor(`CRD ${name} established`, async () => {
      const current = await api.readCustomResourceDefinition({ name });
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

/**
 * Put each manifest in place as `kubectl replace -f` does for objects that exist (the whole object is the
 * output's, so removed annotations go) and `kubectl create -f` for new ones; the API server validates
 * and defaults it. Server-side apply is not used: fields another field manager wrote (the injector
 * annotations) would stay. Returns what the server stored.
 */
export async function applyManifests(
  kubeConfig: KubeConfig,
  manifests: readonly Manifest[],
): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const stored: KubernetesObject[] = [];
  for (const manifest of manifests) {
    const object = manifest as KubernetesObject;
    const existing = await api
      .read({
        apiVersion: object.apiVersion!,
        kind: object.kind!,
        metadata: { name: object.metadata!.name!, namespace: object.metadata!.namespace! },
      })
      .catch(() => undefined);
    if (existing === undefined) stored.push(await api.create(object));
    else
      stored.push(
        await api.replace({
          ...object,
          metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion },
        }),
      );
  }
  return stored;
}

const PLURALS = ['vaultstaticsecrets', 'vaultdynamicsecrets', 'vaultpkisecrets', 'vaultauths', 'vaultconnections'];

/** Deletes the namespace's operator objects while the operator still runs (finalizers are handled). */
export async function deleteOperatorObjects(custom: CustomObjectsApi, namespace: string): Promise<void> {
  const [group, version] = API_VERSION.split('/') as [string, string];
  for (const plural of PLURALS) {
    const list = (await custom.listNamespacedCustomObject({ group, version, namespace, plural })) as {
      items: Array<{ metadata: { name: string } }>;
    };
    await Promise.all(
      list.items.map((item) =>
        custom
          .deleteNamespacedCustomObject({ group, version, namespace, plural, name: item.metadata.name })
          .catch(() => undefined),
      ),
    );
    await waitFor(
      `${plural} deleted`,
      async () =>
        ((await custom.listNamespacedCustomObject({ group, version, namespace, plural })) as { items: unknown[] }).items
          .length === 0,
      10_000,
    ).catch(() => undefined);
  }
}
