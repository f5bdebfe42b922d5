import { createPublicKey, type JsonWebKey } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';

export interface TokenOptions {
  audiences?: string[];
  expirationSeconds?: number;
}

function isConflict(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 409;
}

/** Admin-side Kubernetes helpers the stack and tests need (no controller-manager does these for us). */
export class KubeAdmin {
  readonly config: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly rbac: k8s.RbacAuthorizationV1Api;

  constructor(kubeconfigPath: string) {
    this.config = new k8s.KubeConfig();
    this.config.loadFromFile(kubeconfigPath);
    this.core = this.config.makeApiClient(k8s.CoreV1Api);
    this.rbac = this.config.makeApiClient(k8s.RbacAuthorizationV1Api);
  }

  async ensureNamespace(name: string): Promise<void> {
    try {
      await this.core.createNamespace({ body: { metadata: { name } } });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }

  async ensureServiceAccount(namespace: string, name: string): Promise<void> {
    await this.ensureNamespace(namespace);
    try {
      await this.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }

  async bindClusterRole(
    bindingName: string,
    clusterRole: string,
    namespace: string,
    serviceAccount: string,
  ): Promise<void> {
    try {
      await this.rbac.createClusterRoleBinding({
        body: {
          metadata: { name: bindingName },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
          subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
        },
      });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }

  /** TokenRequest: a bound service-account JWT with the given audiences and lifetime. */
  async requestToken(
    namespace: string,
    serviceAccount: string,
    options: TokenOptions = {},
  ): Promise<{ token: string; expiresAt: Date }> {
    const result = await this.core.createNamespacedServiceAccountToken({
      namespace,
      name: serviceAccount,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: options.audiences ?? [], expirationSeconds: options.expirationSeconds ?? 3600 },
      },
    });
    const token = result.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return { token, expiresAt: new Date(result.status?.expirationTimestamp ?? Date.now()) };
  }

  /**
   * The API server's service-account signing keys as PEM public keys, what Vault's jwt method validates
   * service-account tokens with (`jwt_validation_pubkeys`).
   */
  async serviceAccountSigningKeys(): Promise<string[]> {
    // client-node types the keyset as a string but hands back the parsed JSON (its content type is jwk-set+json).
    const answer: unknown = await this.config.makeApiClient(k8s.OpenidApi).getServiceAccountIssuerOpenIDKeyset();
    const keyset = (typeof answer === 'string' ? JSON.parse(answer) : answer) as { keys: JsonWebKey[] };
    return keyset.keys.map((jwk) =>
      createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString(),
    );
  }

  /** The service-account issuer; also the audience of pods' own tokens when the API server sets no --api-audiences. */
  async serviceAccountIssuer(): Promise<string> {
    const answer: unknown = await this.config
      .makeApiClient(k8s.WellKnownApi)
      .getServiceAccountIssuerOpenIDConfiguration();
    const discovery = (typeof answer === 'string' ? JSON.parse(answer) : answer) as { issuer?: string };
    if (!discovery.issuer) throw new Error("the API server's OpenID discovery document names no issuer");
    return discovery.issuer;
  }
}
