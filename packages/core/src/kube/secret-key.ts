import { randomBytes } from 'node:crypto';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound } from './api-errors.ts';
import { KubeHttp } from './kube-http.ts';
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
  kube: KubeHttp | KubeConfig,
  namespace: string,
  name: string,
  options: SecretKeyOptions = {},
): Promise<Buffer> {
  const bytes = options.bytes ?? 32;
  const field = options.field ?? 'key';
  // Plain JSON over KubeHttp: a service in a pod need not load client-node for two calls.
  const http = kube instanceof KubeHttp ? kube : KubeHttp.fromKubeConfig(kube);
  const secrets = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const read = () => http.get<V1Secret>(`${secrets}/${encodeURIComponent(name)}`);
  try {
    return await loadOrCreate(http, read, secrets, namespace, name, bytes, field, options);
  } finally {
    if (http !== kube) http.close();
  }
}

async function loadOrCreate(
  http: KubeHttp,
  read: () => Promise<V1Secret>,
  secrets: string,
  namespace: string,
  name: string,
  bytes: number,
  field: string,
  options: SecretKeyOptions,
): Promise<Buffer> {
  const where = `${namespace}/${name}`;
  const keyFrom = (secret: V1Secret): Buffer => {
    const key = Buffer.from(secret.data?.[field] ?? '', 'base64');
    if (key.length < bytes) {
      throw new Error(
        `the key Secret ${where} has no "${field}" of at least ${bytes} bytes; delete it and a new one is written`,
      );
    }
    return key;
  };
  try {
    return keyFrom(await read());
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await http.request('POST', secrets, {
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
    if (!isConflict(error)) throw error;
  }
  return keyFrom(await read());
}
