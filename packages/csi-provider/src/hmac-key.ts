import fs from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { loadOrCreateSecretKey, type Logger } from '@vaultbridge/core';

/** The namespace the provider runs in: NAMESPACE, else its service account's, else `default`. */
export function providerNamespace(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.NAMESPACE) return env.NAMESPACE;
  try {
    return fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

/**
 * The key object versions are HMAC'd with, kept in a Secret (as vault-csi-provider does) so every
 * replica and every restart computes the same versions and the driver never re-mounts for nothing.
 */
export function loadOrCreateHmacKey(
  kubeConfig: k8s.KubeConfig,
  namespace: string,
  name: string,
  logger?: Logger,
): Promise<Buffer> {
  return loadOrCreateSecretKey(kubeConfig, namespace, name, {
    bytes: 32,
    field: 'key',
    managedBy: 'vaultbridge-csi-provider',
    ...(logger ? { logger } : {}),
  });
}
