import fs from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { reuseKubeConnections } from './connection-reuse.ts';
import { KubeConfigError } from './errors.ts';

/**
 * A KubeConfig from `path` when given, else client-node's default order: $KUBECONFIG, ~/.kube/config,
 * then the in-cluster service account. Fails here, not on the first API call, when none is usable.
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const config = new KubeConfig();
  if (path) {
    if (!fs.existsSync(path))
      throw new KubeConfigError(
        `the kubeconfig file ${path} does not exist; pass an existing file or unset it to use $KUBECONFIG, ~/.kube/config or the in-cluster account`,
      );
    try {
      config.loadFromFile(path);
    } catch (error) {
      throw new KubeConfigError(`the kubeconfig file ${path} cannot be loaded: ${(error as Error).message}`);
    }
  } else {
    try {
      config.loadFromDefault();
    } catch (error) {
      throw new KubeConfigError(
        `no kubeconfig could be loaded from $KUBECONFIG, ~/.kube/config or the in-cluster account: ${(error as Error).message}`,
      );
    }
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) {
    const where = path ?? 'the default kubeconfig ($KUBECONFIG, ~/.kube/config, in-cluster)';
    throw new KubeConfigError(
      `${where} has no current cluster with a server URL; set current-context or pass a kubeconfig path`,
    );
  }
  return reuseKubeConnections(config);
}
