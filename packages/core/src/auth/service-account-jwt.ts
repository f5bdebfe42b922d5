// What Vault's Kubernetes and JWT auth methods share: both log in with `POST auth/<mount>/login
// {role, jwt}` and a service-account token; they differ in the default mount, the identity's prefix and
// what a refusal tells the user to check.
import type { ServiceAccountTokenSource } from '../kube/token-file.ts';
import type { VaultClient } from '../vault/client.ts';
import { authMountPath, loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

export interface ServiceAccountJwtOptions {
  role: string;
  mount?: string;
  tokenSource: ServiceAccountTokenSource;
}

export abstract class ServiceAccountJwtAuth implements VaultAuthMethod {
  readonly role: string;
  readonly mount: string;
  readonly identity: string;
  protected readonly tokenSource: ServiceAccountTokenSource;

  /** `method` prefixes the identity (`kubernetes:<mount>:<role>:<token source>`). */
  protected constructor(method: string, defaultMount: string, options: ServiceAccountJwtOptions) {
    this.role = options.role;
    this.mount = authMountPath(options.mount ?? defaultMount);
    this.tokenSource = options.tokenSource;
    this.identity = `${method}:${this.mount}:${this.role}:${this.tokenSource.identity}`;
  }

  /** The refusal's message: `detail` is Vault's status and errors; say what to check. */
  protected abstract explainRefusal(detail: string): string;

  async login(client: VaultClient): Promise<VaultLogin> {
    const jwt = await this.tokenSource.token();
    return loginAt(client, this.mount, { role: this.role, jwt }, (detail) => this.explainRefusal(detail));
  }
}
