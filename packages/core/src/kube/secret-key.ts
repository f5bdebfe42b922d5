import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.ts';

export interface SecretKeyOptions {
  /** Key length; a stored key shorter than this is refused. Default 32. */
  bytes?: number;
  /** The Secret's data field. Default `key`. */
  field?: string;
  /** Value of the `app.kubernetes.io/managed-by` label on a created Secret. */
  managedBy?: string;
  logger?: Logger;
}

/**
 * A random key kept in a Kubernetes Secret (created on first use), so every replica and every restart
 * of a service uses the same one: the CSI provider's object versions and the operator's secret MACs.
 * When two processes race to create it, the one whose create fails reads the winner's key.
 */
export async function loadOrCreateSecretKey(
  kubeConfig: k8s.KubeConfig,
  namespace: string,
  name: string,
  options: SecretKeyOptions = {},
): Promise<Buffer> {
  const bytes = options.bytes ?? 32;
  const field = options.field ?? 'key';
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const where = `${namespace}/${name}`;
  const keyFrom = (secret: k8s.V1Secret): Buffer => {
    const key = Buffer.from(secret.data?.[field] ?? '', 'base64');
    if (key.length < bytes) {
      throw new Error(
        `the key Secret ${where} has no "${field}" of at least ${bytes} bytes; delete it and a new one is written`,
      );
    }
    return key;
  };
  try {
    return keyFrom(await core.readNamespacedSecret({ namespace, name }));
  } catch (error) {
    if (!(error instanceof k8s.ApiException) || error.code !== 404) throw error;
  }
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name,
          namespace,
          ...(options.managedBy ? { labels: { 'app.kubernetes.io/managed-by': options.managedBy } } : {}),
        },
        type: 'Opaque',
        data: { [field]: randomBytes(bytes).toString('base64') },
      },
    });
    options.logger?.info({ secret: where }, 'created the key Secret');
  } catch (error) {
    if (!(error instanceof k8s.ApiException) || error.code !== 409) throw error;
  }
  return keyFrom(await core.readNamespacedSecret({ namespace, name }));
}
