import * as k8s from '@kubernetes/client-node';
import { isNotFound } from '@vaultbridge/core';

/**
 * Patches `caBundle` into every webhook of a MutatingWebhookConfiguration that does not have it yet
 * (vault-k8s patches only `webhooks[0]`). A configuration that is not installed yet is left alone.
 */
export async function publishCaBundle(admission: k8s.AdmissionregistrationV1Api, webhookConfigName: string, caBundle: string): Promise<void> {
  let config: k8s.V1MutatingWebhookConfiguration;
  try {
    config = await admission.readMutatingWebhookConfiguration({ name: webhookConfigName });
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const wanted = Buffer.from(caBundle).toString('base64');
  const patch = (config.webhooks ?? []).flatMap((webhook, index) =>
    webhook.clientConfig.caBundle === wanted ? [] : [{ op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: wanted }],
  );
  if (patch.length === 0) return;
  await admission.patchMutatingWebhookConfiguration({ name: webhookConfigName, body: patch }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
}
