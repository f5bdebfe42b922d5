// Reading a kubeconfig file with client-node, as an entry of its own: every service's bundle step bundles
// it into kube-config-client.mjs beside the service's bundle (the images ship both), and connect.ts
// imports it at run time by a path the bundler does not follow. A pod has no kubeconfig and never loads
// it, so client-node and its undici (~1.4 MB of source V8 would keep for the script's life, evaluated or
// not) stay out of the service's heap.
// What crosses to the service's bundle is plain data (a credentials function returning server, TLS
// material and headers); this bundle has its own copies of core's classes (connect.ts maps its errors).
import { kubeConfigCredentials, type KubeCredentials } from './kube-http.ts';
import { loadKubeConfig } from './kubeconfig.ts';

export interface KubeConfigConnection {
  credentials: () => Promise<KubeCredentials>;
  /** The current context's namespace, when it names one. */
  namespace: string | undefined;
}

/** The kubeconfig `path` (else client-node's default order), as loadKubeConfig reads it. */
export function kubeConfigConnection(path: string | undefined): KubeConfigConnection {
  const config = loadKubeConfig(path);
  return {
    credentials: kubeConfigCredentials(config),
    namespace: config.getContextObject(config.getCurrentContext())?.namespace,
  };
}
