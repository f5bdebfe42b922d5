// Service-account JWTs from the TokenRequest API, for services that log in as other accounts (the
// operator, the CSI provider's fallback). The file and caller-given sources are in token-file.ts.
import type { AuthenticationV1TokenRequest, KubeConfig, V1BoundObjectReference } from '@kubernetes/client-node';
import { kubeStatusOf } from './api-errors.ts';
import { ServiceAccountTokenError } from './errors.ts';
import { KubeApiError, KubeHttp } from './kube-http.ts';
import type { ServiceAccountTokenSource } from './token-file.ts';

export {
  FileTokenSource,
  StaticTokenSource,
  defaultServiceAccountTokenPath,
  type ServiceAccountTokenSource,
} from './token-file.ts';

/** The one call TokenRequestSource needs: a seam, so a unit test can stand in for the API server. */
export interface TokenRequestApi {
  createNamespacedServiceAccountToken(request: {
    name: string;
    namespace: string;
    body: AuthenticationV1TokenRequest;
  }): Promise<AuthenticationV1TokenRequest>;
}

export interface TokenRequestSourceOptions {
  namespace: string;
  serviceAccount: string;
  /** Audiences of the token; Vault roles with `audience` set require it. Empty: the API server's default. */
  audiences?: string[];
  /** Asked lifetime; the API server may grant another. Default 600 (the TokenRequest minimum). */
  expirationSeconds?: number;
  /** Bind the token to an object (a Pod), so it dies with it. */
  boundObjectRef?: V1BoundObjectReference;
  /** Fraction of the granted lifetime after which a new token is requested. Default 0.8. */
  refreshFraction?: number;
  /** The API server, through a kubeconfig the caller loaded (plain JSON over KubeHttp.fromKubeConfig). */
  kubeConfig?: KubeConfig;
  /** The API server, through a client the caller holds. */
  kube?: KubeHttp;
  /** Use this instead of `kube` or `kubeConfig`. */
  api?: TokenRequestApi;
  now?: () => number;
}

/**
 * Tokens from the TokenRequest API (`POST …/serviceaccounts/<name>/token`), cached until
 * `refreshFraction` of their granted life; concurrent callers share one request.
 */
export class TokenRequestSource implements ServiceAccountTokenSource {
  readonly identity: string;
  private readonly options: TokenRequestSourceOptions;
  private readonly api: TokenRequestApi;
  private readonly now: () => number;
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(options: TokenRequestSourceOptions) {
    const kube = options.kube ?? (options.kubeConfig ? KubeHttp.fromKubeConfig(options.kubeConfig) : undefined);
    const api = options.api ?? (kube ? tokenRequestApi(kube) : undefined);
    if (!api) throw new ServiceAccountTokenError('TokenRequestSource needs a kube, a kubeConfig or an api');
    this.options = options;
    this.api = api;
    this.now = options.now ?? Date.now;
    const audiences = options.audiences?.length ? `;aud=${[...options.audiences].sort().join(',')}` : '';
    this.identity = `serviceaccount:${options.namespace}/${options.serviceAccount}${audiences}`;
  }

  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.token;
    this.pending ??= this.request().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async request(): Promise<string> {
    const { namespace, serviceAccount } = this.options;
    const expirationSeconds = this.options.expirationSeconds ?? 600;
    const issuedAt = this.now();
    let result: AuthenticationV1TokenRequest;
    try {
      result = await this.api.createNamespacedServiceAccountToken({
        namespace,
        name: serviceAccount,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: this.options.audiences ?? [],
            expirationSeconds,
            ...(this.options.boundObjectRef ? { boundObjectRef: this.options.boundObjectRef } : {}),
          },
        },
      });
    } catch (error) {
      throw tokenRequestError(namespace, serviceAccount, error);
    }
    const token = result.status?.token;
    if (!token)
      throw new ServiceAccountTokenError(`the TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    const expiresAt = result.status?.expirationTimestamp
      ? new Date(result.status.expirationTimestamp).getTime()
      : issuedAt + expirationSeconds * 1000;
    const fraction = this.options.refreshFraction ?? 0.8;
    this.cached = { token, refreshAt: issuedAt + Math.max(0, expiresAt - issuedAt) * fraction };
    return token;
  }
}

/** `POST …/serviceaccounts/<name>/token` as plain JSON (no client-node at runtime). */
export function tokenRequestApi(kube: KubeHttp): TokenRequestApi {
  return {
    createNamespacedServiceAccountToken: (request) =>
      kube.request<AuthenticationV1TokenRequest>(
        'POST',
        `/api/v1/namespaces/${encodeURIComponent(request.namespace)}/serviceaccounts/${encodeURIComponent(request.name)}/token`,
        { body: request.body },
      ),
  };
}

function statusMessage(body: unknown): string | undefined {
  try {
    const parsed = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
    const message = (parsed as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

function tokenRequestError(namespace: string, serviceAccount: string, error: unknown): ServiceAccountTokenError {
  const code = (error as { code?: unknown }).code;
  const status = kubeStatusOf(error) ?? (typeof code === 'number' ? code : undefined);
  // KubeApiError's message already carries the API server's; client-node's ApiException keeps it in its body.
  const reason =
    (error instanceof KubeApiError ? undefined : statusMessage((error as { body?: unknown }).body)) ??
    (error as Error).message;
  const subject = `service account ${namespace}/${serviceAccount}`;
  const hint =
    status === 404
      ? `; the ${subject} does not exist`
      : status === 403
        ? '; the caller needs "create" on serviceaccounts/token in that namespace'
        : '';
  return new ServiceAccountTokenError(
    `TokenRequest for ${subject} failed${status ? ` (${status})` : ''}: ${reason}${hint}`,
    { status },
  );
}
