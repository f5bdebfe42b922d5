// Reading a kubeconfig file, as a module of its own: bundled into a file of its own
// (dist/bundle/kube-config-client.mjs, next to cli.mjs; the image ships both) and imported by
// runtime/kube-connect.ts at run time by a path the bundler does not follow. client-node reads the file
// (exec plugins, OIDC, token files, proxies); a pod, which has no kubeconfig, never loads it, and V8 no
// longer keeps its and undici's ~1.35 MB of source in the operator's heap (it keeps a script's whole
// source for as long as the script lives, evaluated or not).
// What crosses to the operator's bundle is plain data (a credentials function returning server, TLS
// material and headers): this file has its own copies of core's classes.
import { kubeConfigCredentials, loadKubeConfig, type KubeCredentials } from '@vaultbridge/core/kube';

export interface KubeConfigConnection {
  credentials: () => Promise<KubeCredentials>;
  /** The current context's namespace, when it names one. */
  namespace: string | undefined;
}

/** The kubeconfig `path` (else $KUBECONFIG, else ~/.kube/config), as core's loadKubeConfig reads it. */
export function kubeConfigConnection(path: string | undefined): KubeConfigConnection {
  const config = loadKubeConfig(path);
  return {
    credentials: kubeConfigCredentials(config),
    namespace: config.getContextObject(config.getCurrentContext())?.namespace,
  };
}
