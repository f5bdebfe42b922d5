// The operator's connection to the API server. In a pod: the service account, read by core's KubeHttp
// (no client-node). With a kubeconfig file (--kubeconfig, $KUBECONFIG, ~/.kube/config: tests, benchmarks,
// running outside the cluster): kube-config-client.ts, its own bundle, reads it with client-node, imported
// here by a computed path so esbuild leaves it out of cli.mjs (README, "Memory (issue 14)").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  inClusterKubeHttp,
  KubeConfigError,
  KubeHttp,
  usesKubeconfigFile,
  type KubeHttpOptions,
} from '@vaultbridge/core';

type KubeConfigClient = typeof import('../kube-config-client.ts');

/**
 * kube-config-client.mjs next to the bundle (cli.mjs, or /app/operator.mjs in the image), else the module
 * in src/ (tests and `--conditions=@vaultbridge/source` run the TypeScript) or tsc's output. A computed
 * specifier: esbuild bundles only literal ones.
 */
function clientEntry(): string {
  for (const candidate of ['./kube-config-client.mjs', '../kube-config-client.ts']) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(file)) return file;
  }
  return fileURLToPath(new URL('../kube-config-client.js', import.meta.url));
}

const kubeConfigCode = new KubeConfigError('').code;

/** Its KubeConfigError is the other bundle's class: made again as ours (by its code; minified names differ). */
function asLocalError(error: unknown): unknown {
  if (
    error instanceof Error &&
    !(error instanceof KubeConfigError) &&
    (error as { code?: unknown }).code === kubeConfigCode
  )
    return new KubeConfigError(error.message, error.cause === undefined ? undefined : { cause: error.cause });
  return error;
}

/** A KubeHttp from the kubeconfig `path` (or $KUBECONFIG, ~/.kube/config) when there is one, else the pod's service account. */
export async function connectKube(path: string | undefined, options: KubeHttpOptions = {}): Promise<KubeHttp> {
  if (!usesKubeconfigFile(path)) return inClusterKubeHttp(options);
  const client = (await import(clientEntry())) as KubeConfigClient;
  let connection: ReturnType<KubeConfigClient['kubeConfigConnection']>;
  try {
    connection = client.kubeConfigConnection(path);
  } catch (error) {
    throw asLocalError(error);
  }
  return new KubeHttp(
    async () => {
      try {
        return await connection.credentials();
      } catch (error) {
        throw asLocalError(error);
      }
    },
    {
      ...options,
      ...(options.namespace === undefined && connection.namespace ? { namespace: connection.namespace } : {}),
    },
  );
}
