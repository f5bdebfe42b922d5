import type { VaultClient } from '../vault/client.ts';
import { authMountPath, loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

export interface AppRoleAuthOptions {
  /** The role's role_id. */
  roleId: string;
  /** Mount path of the auth method. Default `approle`. */
  mount?: string;
  /** The secret_id, read on every login (it may be rotated, or have few uses). */
  secretId: () => Promise<string>;
  /** Where the secret_id comes from, for cache keys and messages (never the value). */
  secretIdSource: string;
}

/** Vault's AppRole auth: `POST auth/<mount>/login {role_id, secret_id}`. */
export class AppRoleAuth implements VaultAuthMethod {
  readonly mount: string;
  readonly identity: string;
  private readonly options: AppRoleAuthOptions;

  constructor(options: AppRoleAuthOptions) {
    this.options = options;
    this.mount = authMountPath(options.mount ?? 'approle');
    this.identity = `approle:${this.mount}:${options.roleId}:${options.secretIdSource}`;
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    const secretId = await this.options.secretId();
    return loginAt(
      client,
      this.mount,
      { role_id: this.options.roleId, secret_id: secretId },
      (detail) =>
        `AppRole login to Vault at auth/${this.mount} failed (${detail}); check the role_id and the secret_id in ${this.options.secretIdSource} (expired, used up, or from another role)`,
      // Vault answers a wrong or used-up secret_id with 500 "invalid secret id": a refusal, not an outage.
      (errors) => errors.some((message) => /invalid (secret id|role id|role or secret id)/i.test(message)),
    );
  }
}
