// How a service connects to the API server. In a pod: the service account over KubeHttp (node:https, no
// client-node). With a kubeconfig file (--kubeconfig, $KUBECONFIG, ~/.kube/config: tests, benchmarks,
// running outside the cluster): kube-config-client.ts reads it with client-node, from a bundle of its own
// imported by a computed path, so esbuild leaves client-node out of the service's bundle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfigError, KubeError, ServiceAccountTokenError } from './errors.ts';
import { KubeHttp, serviceAccountDir, type KubeHttpOptions } from './kube-http.ts';

type KubeConfigClient = typeof import('./kube-config-client.ts');

/** The file every service's bundle step writes beside its bundle and every image ships next to it. */
export const kubeConfigClientFile = 'kube-config-client.mjs';

/** Where the credentials come from, in client-node's loadFromDefault order. */
export type KubeAccessChoice =
  /** `path` given, or client-node's default search ($KUBECONFIG, ~/.kube/config, ...). */
  | { kind: 'kubeconfig'; path: string | undefined }
  /** The pod's service account under `root` (VAULTBRIDGE_SERVICE_ACCOUNT_ROOT; '' in a pod). */
  | { kind: 'in-cluster'; root: string };

type Env = Readonly<Record<string, string | undefined>>;

export interface KubeAccessOptions {
  /**
   * With neither a kubeconfig nor a service-account token: client-node's own last resort
   * (loadFromDefault's http://localhost:8080) instead of an error naming both.
   */
  clientNodeLastResort?: boolean;
}

/**
 * `path`, else $KUBECONFIG, else ~/.kube/config, else the service account: client-node's loadFromDefault
 * order. VAULTBRIDGE_SERVICE_ACCOUNT_ROOT prefixes the service-account paths (client-node's pathPrefix),
 * so benchmarks and tests run the pod's path outside a pod.
 */
export function chooseKubeAccess(
  kubeconfigPath: string | undefined,
  env: Env = process.env,
  options: KubeAccessOptions = {},
): KubeAccessChoice {
  if (kubeconfigPath) return { kind: 'kubeconfig', path: kubeconfigPath };
  if (env.KUBECONFIG) return { kind: 'kubeconfig', path: undefined };
  const home = env.HOME ?? env.USERPROFILE;
  if (home && fs.existsSync(path.join(home, '.kube', 'config'))) return { kind: 'kubeconfig', path: undefined };
  const root = env.VAULTBRIDGE_SERVICE_ACCOUNT_ROOT ?? '';
  if (options.clientNodeLastResort && !fs.existsSync(`${root}${serviceAccountDir}/token`))
    return { kind: 'kubeconfig', path: undefined };
  return { kind: 'in-cluster', root };
}

/**
 * kube-config-client.mjs beside the running bundle, else the module beside this one: its TypeScript source
 * (tests, `--conditions=@vaultbridge/source`) or tsc's output. A computed specifier: esbuild bundles only
 * literal ones.
 */
function clientEntry(): string {
  for (const candidate of [`./${kubeConfigClientFile}`, './kube-config-client.ts']) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (fs.existsSync(file)) return file;
  }
  return fileURLToPath(new URL('./kube-config-client.js', import.meta.url));
}

const crossBundleErrors = new Map<string, new (message: string, options?: { cause?: unknown }) => KubeError>([
  [new KubeConfigError('').code, KubeConfigError],
  [new ServiceAccountTokenError('').code, ServiceAccountTokenError],
]);

/**
 * An error of the other bundle's core is another class than ours (and minified names differ): made again
 * as ours by its `code`, so callers' instanceof checks hold whichever bundle threw it.
 */
export function asLocalKubeError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof KubeError) return error;
  const code = (error as { code?: unknown }).code;
  const Local = typeof code === 'string' ? crossBundleErrors.get(code) : undefined;
  if (!Local) return error;
  return new Local(error.message, error.cause === undefined ? undefined : { cause: error.cause });
}

/** The service account under `root`; with no token there, an error naming both places looked in. */
function inClusterKubeHttp(root: string, env: Env, options: KubeHttpOptions): KubeHttp {
  if (!fs.existsSync(`${root}${serviceAccountDir}/token`))
    throw new KubeConfigError(
      `no kubeconfig ($KUBECONFIG, ~/.kube/config) and no in-cluster service account token at ${root}${serviceAccountDir}/token`,
    );
  return KubeHttp.inCluster({ ...options, root, env: env as NodeJS.ProcessEnv });
}

export interface ConnectKubeOptions extends KubeHttpOptions, KubeAccessOptions {
  /** Where KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT and VAULTBRIDGE_SERVICE_ACCOUNT_ROOT are read. */
  env?: Env;
}

/**
 * A KubeHttp for chooseKubeAccess's choice. A kubeconfig is read by client-node (imported once, from
 * kube-config-client.mjs) and then used through its applyToHTTPSOptions on every call (exec and
 * token-file auth, client certificates), so the calls themselves are KubeHttp's either way. Throws
 * KubeConfigError when the kubeconfig cannot be loaded or there is neither it nor a service account.
 */
export async function connectKube(
  kubeconfigPath: string | undefined,
  options: ConnectKubeOptions = {},
): Promise<KubeHttp> {
  const { env = process.env, clientNodeLastResort, ...httpOptions } = options;
  const choice = chooseKubeAccess(
    kubeconfigPath,
    env,
    clientNodeLastResort === undefined ? {} : { clientNodeLastResort },
  );
  if (choice.kind === 'in-cluster') return inClusterKubeHttp(choice.root, env, httpOptions);
  const client = (await import(clientEntry())) as KubeConfigClient;
  let connection: ReturnType<KubeConfigClient['kubeConfigConnection']>;
  try {
    connection = client.kubeConfigConnection(choice.path);
  } catch (error) {
    throw asLocalKubeError(error);
  }
  return new KubeHttp(
    async () => {
      try {
        return await connection.credentials();
      } catch (error) {
        throw asLocalKubeError(error);
      }
    },
    {
      ...httpOptions,
      ...(httpOptions.namespace === undefined && connection.namespace ? { namespace: connection.namespace } : {}),
    },
  );
}
