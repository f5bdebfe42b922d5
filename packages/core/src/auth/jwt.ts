import type { ServiceAccountTokenSource } from '../kube/token-file.ts';
import type { VaultClient } from '../vault/client.ts';
import { loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

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
export class JwtAuth implements VaultAuthMethod {
  readonly role: string;
  readonly mount: string;
  readonly identity: string;
  private readonly tokenSource: ServiceAccountTokenSource;

  constructor(options: JwtAuthOptions) {
    this.role = options.role;
    this.mount = (options.mount ?? 'jwt').replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');
    this.tokenSource = options.tokenSource;
    this.identity = `jwt:${this.mount}:${this.role}:${this.tokenSource.identity}`;
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    const jwt = await this.tokenSource.token();
    return loginAt(
      client,
      this.mount,
      { role: this.role, jwt },
      (detail) =>
        `JWT login to Vault as role "${this.role}" at auth/${this.mount} failed (${detail}); check the role's bound_audiences, bound_subject or bound_claims against the token of ${this.tokenSource.identity}, and the keys the mount validates with`,
    );
  }
}
