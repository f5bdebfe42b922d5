import fs from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '@vaultbridge/core';
import { generateHmacKey } from './mount.ts';

const keyField = 'key';
const minimumKeyBytes = 32;

/** The namespace the provider runs in: NAMESPACE, else its service account's, else `default`. */
export function providerNamespace(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.NAMESPACE) return env.NAMESPACE;
  try {
    return fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

function keyFrom(secret: k8s.V1Secret, where: string): Buffer {
  const key = Buffer.from(secret.data?.[keyField] ?? '', 'base64');
  if (key.length < minimumKeyBytes) {
    throw new Error(`the HMAC key Secret ${where} has no "${keyField}" of at least ${minimumKeyBytes} bytes; delete it and the provider writes a new one`);
  }
  return key;
}

/**
 * The key object versions are HMAC'd with, kept in a Secret (as vault-csi-provider does) so every
 * replica and every restart computes the same versions and the driver never re-mounts for nothing.
 * Created on first use; when two providers race, the one whose create fails reads the winner's key.
 */
export async function loadOrCreateHmacKey(kubeConfig: k8s.KubeConfig, namespace: string, name: string, logger?: Logger): Promise<Buffer> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const where = `${namespace}/${name}`;
  try {
    return keyFrom(await core.readNamespacedSecret({ namespace, name }), where);
  } catch (error) {
    if (!(error instanceof k8s.ApiException) || error.code !== 404) throw error;
  }
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'vaultbridge-csi-provider' } },
        type: 'Opaque',
        data: { [keyField]: generateHmacKey().toString('base64') },
      },
    });
    logger?.info({ secret: where }, 'created the HMAC key Secret for object versions');
  } catch (error) {
    if (!(error instanceof k8s.ApiException) || error.code !== 409) throw error;
  }
  return keyFrom(await core.readNamespacedSecret({ namespace, name }), where);
}
