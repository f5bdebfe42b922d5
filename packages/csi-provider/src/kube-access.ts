// The provider's Kubernetes access, evaluated only where used. @kubernetes/client-node (with the undici, ws
// and socks it brings) was a third of the bundle and ~30 MiB of the idle provider's RSS (its code, and
// ~17 MiB of malloc'd memory undici and its parsers keep), yet the provider needs it only to read the HMAC
// key Secret at start (done by a child process: hmac-key-child.ts) and for the TokenRequest fallback when
// the driver sends no pod token: kube-client.ts, its own bundle, imported here on the first such mount.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  KubeConfigError,
  ServiceAccountTokenError,
  type ServiceAccountTokenSource,
  type TokenRequestSourceOptions,
} from '@vaultbridge/core';

type KubeClient = typeof import('./kube-client.ts');

/**
 * kube-client.mjs next to the bundle (cli.mjs; the image ships both), else the module beside this one:
 * its TypeScript source (tests, `--conditions=@vaultbridge/source`) or tsc's output. A computed
 * specifier, so esbuild leaves the import to run time (it bundles only literal ones).
 */
function clientEntry(): string {
  for (const name of ['kube-client.mjs', 'kube-client.ts']) {
    const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
    if (existsSync(file)) return file;
  }
  return fileURLToPath(new URL('./kube-client.js', import.meta.url));
}

let importing: Promise<KubeClient> | undefined;

/** Imports the client once; a failed import (a missing file) is tried again by the next caller. */
function kubeClient(): Promise<KubeClient> {
  importing ??= (import(clientEntry()) as Promise<KubeClient>).catch((error: unknown) => {
    importing = undefined;
    throw error;
  });
  return importing;
}

const serviceAccountTokenCode = new ServiceAccountTokenError('').code;
const kubeConfigCode = new KubeConfigError('').code;

/**
 * The client's file has its own copies of core's error classes, so what it throws fails this bundle's
 * `instanceof` checks (fetch.ts maps ServiceAccountTokenError to FAILED_PRECONDITION): made again as
 * this bundle's classes, same message, status and cause. Told apart by their `code`: the bundles are
 * minified, so class names differ. Without the bundles (one copy of each class) nothing changes.
 */
function asLocalKubeError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof KubeConfigError || error instanceof ServiceAccountTokenError)
    return error;
  const { code, status } = error as { code?: unknown; status?: unknown };
  const cause = error.cause === undefined ? {} : { cause: error.cause };
  if (code === serviceAccountTokenCode)
    return new ServiceAccountTokenError(error.message, { ...cause, ...(typeof status === 'number' ? { status } : {}) });
  if (code === kubeConfigCode) return new KubeConfigError(error.message, cause);
  return error;
}

/** A loaded KubeConfig, or how to load one on first use. */
export type KubeConfigSource = KubeConfig | (() => Promise<KubeConfig>);

/** A loader that imports the client and reads the kubeconfig on its first call, then reuses it (a failure is retried). */
export function lazyKubeConfig(path: string | undefined): () => Promise<KubeConfig> {
  let loading: Promise<KubeConfig> | undefined;
  return () => {
    loading ??= kubeClient()
      .then(({ loadKubeConfig }) => loadKubeConfig(path))
      .catch((error: unknown) => {
        throw asLocalKubeError(error);
      });
    loading.catch(() => (loading = undefined));
    return loading;
  };
}

type DeferredOptions = Omit<TokenRequestSourceOptions, 'kubeConfig' | 'api'> & { kubeConfig: KubeConfigSource };

/** A TokenRequestSource built on its first token(), once the client is imported; the same identity. */
export class DeferredTokenRequestSource implements ServiceAccountTokenSource {
  readonly identity: string;
  readonly #options: DeferredOptions;
  #source: Promise<ServiceAccountTokenSource> | undefined;

  constructor(options: DeferredOptions) {
    this.#options = options;
    // As TokenRequestSource names it, so cache keys and messages do not depend on which one is used.
    const audiences = options.audiences?.length ? `;aud=${[...options.audiences].sort().join(',')}` : '';
    this.identity = `serviceaccount:${options.namespace}/${options.serviceAccount}${audiences}`;
  }

  async token(): Promise<string> {
    this.#source ??= this.#build();
    try {
      return await (await this.#source).token();
    } catch (error) {
      // A failed import or kubeconfig load is tried again by the next mount, not kept.
      this.#source = undefined;
      throw asLocalKubeError(error);
    }
  }

  async #build(): Promise<ServiceAccountTokenSource> {
    const { kubeConfig: configSource, ...rest } = this.#options;
    const [{ TokenRequestSource }, kubeConfig] = await Promise.all([
      kubeClient(),
      typeof configSource === 'function' ? configSource() : Promise.resolve(configSource),
    ]);
    return new TokenRequestSource({ ...rest, kubeConfig });
  }
}
