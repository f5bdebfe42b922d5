import { kubeStatusOf, loadOrCreateSecretKey, type KubeHttp, type Logger } from '@vaultbridge/core';

/** The HMAC key Secret could not be read or created; the message names the Secret and what to do. */
export class HmacKeyError extends Error {
  override readonly name = 'HmacKeyError';
}

/**
 * Each API call has KubeHttp's deadline, but a kubeconfig's exec credential plugin runs before it starts
 * and has none: this bounds the whole read, so a hung plugin costs the start a minute, not forever.
 */
const hmacKeyDeadlineMs = 60_000;

/** What to change, for the API server's answers an admin can act on. */
function fixFor(status: number | undefined, namespace: string, name: string): string {
  if (status === 401)
    return "; the API server does not accept the provider's credentials (an expired service-account token or kubeconfig user)";
  if (status === 403)
    return `; the provider's service account needs "get" on the Secret ${name} and "create" on secrets in ${namespace} (the chart's Role grants both)`;
  if (status === 404)
    return `; the namespace ${namespace} does not exist: set NAMESPACE to the provider's own namespace`;
  return '';
}

/**
 * The key object versions are HMAC'd with, kept in a Secret (as vault-csi-provider does) so every
 * replica and every restart computes the same versions and the driver never re-mounts for nothing.
 * Read (or created, 32 random bytes) in this process over `kube`: two or three small JSON calls, each
 * with KubeHttp's deadline. Errors never carry the key: only the Secret's name, the API server's answer
 * and the fix.
 */
export async function loadOrCreateHmacKey(
  kube: KubeHttp,
  namespace: string,
  name: string,
  logger?: Logger,
): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      loadOrCreateSecretKey(kube, namespace, name, {
        bytes: 32,
        field: 'key',
        managedBy: 'vaultbridge-csi-provider',
        ...(logger ? { logger } : {}),
      }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer from the Kubernetes API within ${hmacKeyDeadlineMs / 1000} s`)),
          hmacKeyDeadlineMs,
        );
      }),
    ]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new HmacKeyError(
      `cannot read or create the HMAC key Secret ${namespace}/${name}: ${message}${fixFor(kubeStatusOf(error), namespace, name)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}
