// The provider's one Kubernetes client, chosen once at start. It needs the API server for two things:
// the HMAC key Secret at start and the TokenRequest fallback when the driver sends no pod token (every
// mount in a cluster whose CSIDriver has no tokenRequests, the upstream default). core's connectKube
// (kube/connect.ts) makes it: in a pod, KubeHttp on the service account (node:https, no
// @kubernetes/client-node, which with its undici cost ~10 MiB RSS once loaded); client-node only to read
// a kubeconfig, from kube-config-client.mjs, a bundle of its own beside cli.mjs.
import {
  chooseKubeAccess as chooseAccess,
  connectKube,
  inClusterNamespace,
  type KubeAccessChoice,
  type KubeHttp,
} from '@vaultbridge/core';

/**
 * client-node's loadFromDefault order, which the provider used before: `--kubeconfig`, $KUBECONFIG,
 * ~/.kube/config, the service account; with none of them, client-node's own last resort
 * (http://localhost:8080), as before, rather than an error.
 */
export function chooseKubeAccess(
  kubeconfigPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): KubeAccessChoice {
  return chooseAccess(kubeconfigPath, env, { clientNodeLastResort: true });
}

/** The client for chooseKubeAccess's choice; throws when the kubeconfig or service account is unusable, saying which. */
export function connectProviderKube(
  kubeconfigPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<KubeHttp> {
  return connectKube(kubeconfigPath, { env, clientNodeLastResort: true });
}

/** The namespace the provider runs in: NAMESPACE, else its service account's, else `default`. */
export function providerNamespace(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.NAMESPACE || inClusterNamespace(env.VAULTBRIDGE_SERVICE_ACCOUNT_ROOT ?? '') || 'default';
}
