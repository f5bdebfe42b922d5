import type { ServiceAccountTokenSource } from '../kube/token-file.ts';
import { ServiceAccountJwtAuth } from './service-account-jwt.ts';

export interface KubernetesAuthOptions {
  /** Vault role of the Kubernetes auth method. */
  role: string;
  /** Mount path of the auth method. Default `kubernetes`. */
  mount?: string;
  /** Where the service-account JWT comes from (file, TokenRequest, or given). */
  tokenSource: ServiceAccountTokenSource;
}

/** Vault's Kubernetes auth: `POST auth/<mount>/login {role, jwt}` with a service-account JWT. */
export class KubernetesAuth extends ServiceAccountJwtAuth {
  constructor(options: KubernetesAuthOptions) {
    super('kubernetes', 'kubernetes', options);
  }

  protected explainRefusal(detail: string): string {
    return `Kubernetes login to Vault as role "${this.role}" at auth/${this.mount} failed (${detail}); check that the role exists, binds this service account and namespace (${this.tokenSource.identity}), and that the token audience matches the role's`;
  }
}
