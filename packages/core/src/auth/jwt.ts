import type { ServiceAccountTokenSource } from '../kube/token-file.ts';
import { ServiceAccountJwtAuth } from './service-account-jwt.ts';

export interface JwtAuthOptions {
  /** Vault role of the JWT/OIDC auth method. */
  role: string;
  /** Mount path of the auth method. Default `jwt`. */
  mount?: string;
  /** Where the JWT comes from: a service-account token (TokenRequest) or one kept in a Secret. */
  tokenSource: ServiceAccountTokenSource;
}

/**
 * Vault's JWT auth: `POST auth/<mount>/login {role, jwt}`. Vault checks the token itself (its keys or
 * OIDC discovery), so any Kubernetes service-account token the role's bound claims accept works, with
 * no token review against the API server.
 */
export class JwtAuth extends ServiceAccountJwtAuth {
  constructor(options: JwtAuthOptions) {
    super('jwt', 'jwt', options);
  }

  protected explainRefusal(detail: string): string {
    return `JWT login to Vault as role "${this.role}" at auth/${this.mount} failed (${detail}); check the role's bound_audiences, bound_subject or bound_claims against the token of ${this.tokenSource.identity}, and the keys the mount validates with`;
  }
}
