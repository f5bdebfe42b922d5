import type { ServiceAccountTokenSource } from '../kube/token-file.ts';
import type { VaultClient } from '../vault/client.ts';
import { loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

export interface KubernetesAuthOptions {
  /** Vault role of the Kubernetes auth method. */
  role: string;
  /** Mount path of the auth method. Default `kubernetes`. */
  mount?: string;
  /** Where the service-account JWT comes from (file, TokenRequest, or given). */
  tokenSource: ServiceAccountTokenSource;
}

/** Vault's Kubernetes auth: `POST auth/<mount>/login {role, jwt}` with a service-account JWT. */
export class KubernetesAuth implements VaultAuthMethod {
  readonly role: string;
  readonly mount: string;
  readonly identity: string;
  private readonly tokenSource: ServiceAccountTokenSource;

  constructor(options: KubernetesAuthOptions) {
    this.role = options.role;
    this.mount = (options.mount ?? 'kubernetes').replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');
    this.tokenSource = options.tokenSource;
    this.identity = `kubernetes:${this.mount}:${this.role}:${this.tokenSource.identity}`;
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    const jwt = await this.tokenSource.token();
    return loginAt(
      client,
      this.mount,
      { role: this.role, jwt },
      (detail) =>
        `Kubernetes login to Vault as role "${this.role}" at auth/${this.mount} failed (${detail}); check that the role exists, binds this service account and namespace (${this.tokenSource.identity}), and that the token audience matches the role's`,
    );
  }
}
