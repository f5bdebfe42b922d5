// The provider's one Kubernetes client, chosen once at start. It needs the API server for two things:
// the HMAC key Secret at start and the TokenRequest fallback when the driver sends no pod token (every
// mount in a cluster whose CSIDriver has no tokenRequests, the upstream default). In a pod that is core's
// KubeHttp on the service account (node:https, no @kubernetes/client-node): client-node with the undici it
// brings cost ~10 MiB RSS once loaded, and the fallback loaded it on the first mount. client-node is
// loaded only to read a kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config), from kube-client.mjs,
// a bundle of its own, so cli.mjs does not carry its source either.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeHttp, serviceAccountDir } from '@vaultbridge/core';

type KubeClient = typeof import('./kube-client.ts');

/** Where the provider's Kubernetes credentials come from, in client-node's loadFromDefault order. */
export type KubeAccessChoice =
  /** `path` given, or client-node's default search ($KUBECONFIG, ~/.kube/config, http://localhost:8080 last). */
  | { kind: 'kubeconfig'; path: string | undefined }
  /** The pod's service account under `root` (VAULTBRIDGE_SERVICE_ACCOUNT_ROOT; '' in a pod). */
  | { kind: 'in-cluster'; root: string };

/**
 * `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config, else the service account when its token file
 * exists: the order client-node's loadFromDefault follows, which the provider used before, so a flag or
 * variable that chose a kubeconfig still does. When none of them exists, the kubeconfig path stays too
 * (client-node's last resort, http://localhost:8080), as before. VAULTBRIDGE_SERVICE_ACCOUNT_ROOT
 * prefixes the service-account paths (client-node's pathPrefix), so benchmarks and tests run the pod's
 * path outside a pod.
 */
export function chooseKubeAccess(
  kubeconfigPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): KubeAccessChoice {
  if (kubeconfigPath) return { kind: 'kubeconfig', path: kubeconfigPath };
  if (env.KUBECONFIG) return { kind: 'kubeconfig', path: undefined };
  if (env.HOME && fs.existsSync(path.join(env.HOME, '.kube', 'config'))) return { kind: 'kubeconfig', path: undefined };
  const root = env.VAULTBRIDGE_SERVICE_ACCOUNT_ROOT ?? '';
  if (fs.existsSync(`${root}${serviceAccountDir}/token`)) return { kind: 'in-cluster', root };
  return { kind: 'kubeconfig', path: undefined };
}

/**
 * kube-client.mjs next to the bundle (cli.mjs; the image ships both), else the module beside this one:
 * its TypeScript source (tests, `--conditions=@vaultbridge/source`) or tsc's output. A computed
 * specifier, so esbuild leaves the import to run time (it bundles only literal ones).
 */
function clientEntry(): string {
  for (const name of ['kube-client.mjs', 'kube-client.ts']) {
    const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
    if (fs.existsSync(file)) return file;
  }
  return fileURLToPath(new URL('./kube-client.js', import.meta.url));
}

/**
 * The client for `choice`. A kubeconfig is read by client-node (imported here, once) and then used
 * through its own applyToHTTPSOptions on every call (exec and token-file auth, client certificates), so
 * the calls themselves are KubeHttp's either way. Throws when the kubeconfig cannot be loaded or the
 * pod's service account is incomplete (KUBERNETES_SERVICE_HOST/PORT unset), saying which.
 */
export async function connectKube(
  choice: KubeAccessChoice,
  env: Readonly<Record<string, string | undefined>>,
): Promise<KubeHttp> {
  if (choice.kind === 'in-cluster') return KubeHttp.inCluster({ root: choice.root, env: env as NodeJS.ProcessEnv });
  const { loadKubeConfig } = (await import(clientEntry())) as KubeClient;
  return KubeHttp.fromKubeConfig(loadKubeConfig(choice.path));
}

/** The namespace the provider runs in: NAMESPACE, else its service account's, else `default`. */
export function providerNamespace(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.NAMESPACE) return env.NAMESPACE;
  try {
    const file = `${env.VAULTBRIDGE_SERVICE_ACCOUNT_ROOT ?? ''}${serviceAccountDir}/namespace`;
    return fs.readFileSync(file, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}
