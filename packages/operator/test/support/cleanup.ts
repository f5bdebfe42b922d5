// Each e2e file starts an operator that watches every namespace, and the files run one after another
// against one stack: objects left behind would be reconciled (and retried) by the next file's operator.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { OUR_API, type ApiGroup } from '../../src/api/common.ts';

// Secrets first (their finalizers may need the VaultAuth), then what they use.
const PLURALS = [
  'vaultstaticsecrets',
  'vaultdynamicsecrets',
  'vaultpkisecrets',
  'secrettransformations',
  'vaultauths',
  'vaultauthglobals',
  'vaultconnections',
];

/** Deletes this file's synced objects while its operator still runs (finalizers are handled), then waits for them to go. */
export async function deleteSyncedObjects(
  custom: CustomObjectsApi,
  namespace: string,
  timeoutMs = 10_000,
  api: ApiGroup = OUR_API,
): Promise<void> {
  const { group, version } = api;
  const deadline = Date.now() + timeoutMs;
  for (const plural of PLURALS) {
    const list = (await custom.listNamespacedCustomObject({ group, version, namespace, plural })) as {
      items: { metadata: { name: string } }[];
    };
    await Promise.all(
      list.items.map((item) =>
        custom
          .deleteNamespacedCustomObject({ group, version, namespace, plural, name: item.metadata.name })
          .catch(() => undefined),
      ),
    );
    while (Date.now() < deadline) {
      const remaining = (await custom.listNamespacedCustomObject({ group, version, namespace, plural })) as {
        items: unknown[];
      };
      if (remaining.items.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
