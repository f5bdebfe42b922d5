import type { ServiceAccountTokenSource } from '../kube/token-source.ts';
import type { VaultClient } from '../vault/client.ts';
import { VaultError, VaultUnavailableError } from '../vault/errors.ts';
import { VaultAuthError } from './errors.ts';
import { loginFromResponse, type VaultAuthMethod, type VaultLogin } from './login.ts';

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
    const path = `auth/${this.mount}/login`;
    try {
      // A login carries no Vault token: whatever the client holds must not be sent along.
      const response = await client.withToken(undefined).write(path, { role: this.role, jwt });
      return loginFromResponse(response, 'POST', path);
    } catch (error) {
      // Vault down stays VaultUnavailableError (worth retrying); a refusal gets a message that says what to check.
      if (error instanceof VaultUnavailableError || !(error instanceof VaultError) || error.status === undefined) throw error;
      throw new VaultAuthError(
        `Kubernetes login to Vault as role "${this.role}" at auth/${this.mount} failed (${error.status}${error.errors.length ? `: ${error.errors.join('; ')}` : ''}); check that the role exists, binds this service account and namespace (${this.tokenSource.identity}), and that the token audience matches the role's`,
        { status: error.status, errors: error.errors, method: 'POST', path, cause: error },
      );
    }
  }
}
