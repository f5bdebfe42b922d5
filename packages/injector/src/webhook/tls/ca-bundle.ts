import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { isNotFound, type KubeHttp } from '@vaultbridge/core';
import { isSignedBy, splitPemBundle } from './certificates.ts';

function configurationPath(name: string): string {
  return `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${encodeURIComponent(name)}`;
}

/**
 * Patches `caBundle` into every webhook of a MutatingWebhookConfiguration that does not have it yet
 * (vault-k8s patches only `webhooks[0]`). A configuration that is not installed yet is left alone.
 */
export async function publishCaBundle(kube: KubeHttp, webhookConfigName: string, caBundle: string): Promise<void> {
  let config: V1MutatingWebhookConfiguration;
  try {
    config = await kube.get<V1MutatingWebhookConfiguration>(configurationPath(webhookConfigName));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const wanted = Buffer.from(caBundle).toString('base64');
  const patch = (config.webhooks ?? []).flatMap((webhook, index) =>
    webhook.clientConfig.caBundle === wanted
      ? []
      : [{ op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: wanted }],
  );
  if (patch.length === 0) return;
  await kube.request('PATCH', configurationPath(webhookConfigName), {
    body: patch,
    contentType: 'application/json-patch+json',
  });
}

/**
 * Whether every webhook of the configuration has a caBundle holding a CA that signed `leafPem`, i.e.
 * the API server can verify it. A configuration that is missing or has no webhooks cannot call anyone.
 */
export async function caBundleTrusts(kube: KubeHttp, webhookConfigName: string, leafPem: string): Promise<boolean> {
  let config: V1MutatingWebhookConfiguration;
  try {
    config = await kube.get<V1MutatingWebhookConfiguration>(configurationPath(webhookConfigName));
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const webhooks = config.webhooks ?? [];
  return (
    webhooks.length > 0 &&
    webhooks.every((webhook) => {
      const bundle = Buffer.from(webhook.clientConfig.caBundle ?? '', 'base64').toString('utf8');
      return splitPemBundle(bundle).some((ca) => isSignedBy(leafPem, ca));
    })
  );
}
