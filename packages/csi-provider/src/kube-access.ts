// The provider's Kubernetes access, evaluated only where used. @kubernetes/client-node (with the undici, ws
// and socks it brings) was a third of the bundle and ~30 MiB of the idle provider's RSS (its code, and
// ~17 MiB of malloc'd memory undici and its parsers keep), yet the provider needs it only to read the HMAC
// key Secret at start (done by a child process: hmac-key-child.ts) and for the TokenRequest fallback when
// the driver sends no pod token (imported here on the first such mount).
import type { KubeConfig } from '@kubernetes/client-node';
import type { ServiceAccountTokenSource, TokenRequestSourceOptions } from '@vaultbridge/core';

/** A loaded KubeConfig, or how to load one on first use. */
export type KubeConfigSource = KubeConfig | (() => Promise<KubeConfig>);

/** A loader that imports the client and reads the kubeconfig on its first call, then reuses it (a failure is retried). */
export function lazyKubeConfig(path: string | undefined): () => Promise<KubeConfig> {
  let loading: Promise<KubeConfig> | undefined;
  return () => {
    loading ??= import('@vaultbridge/core/kube').then(({ loadKubeConfig }) => loadKubeConfig(path));
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
      throw error;
    }
  }

  async #build(): Promise<ServiceAccountTokenSource> {
    const { kubeConfig: configSource, ...rest } = this.#options;
    const [{ TokenRequestSource }, kubeConfig] = await Promise.all([
      import('@vaultbridge/core/kube'),
      typeof configSource === 'function' ? configSource() : Promise.resolve(configSource),
    ]);
    return new TokenRequestSource({ ...rest, kubeConfig });
  }
}
