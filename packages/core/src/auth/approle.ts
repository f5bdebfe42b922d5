import type { VaultClient } from '../vault/client.ts';
import { VaultError, VaultUnavailableError } from '../vault/errors.ts';
import { VaultAuthError } from './errors.ts';
import { loginFromResponse, type VaultAuthMethod, type VaultLogin } from './login.ts';

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
    this.mount = (options.mount ?? 'approle').replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');
    this.identity = `approle:${this.mount}:${options.roleId}:${options.secretIdSource}`;
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    const secretId = await this.options.secretId();
    const path = `auth/${this.mount}/login`;
    try {
      const response = await client.withToken(undefined).write(path, { role_id: this.options.roleId, secret_id: secretId });
      return loginFromResponse(response, 'POST', path);
    } catch (error) {
      // Vault answers a wrong or used-up secret_id with 500 "invalid secret id": a refusal, not an outage.
      const refusedAs500 = error instanceof VaultError && error.status === 500 && error.errors.some((message) => /invalid (secret id|role id|role or secret id)/i.test(message));
      if (!refusedAs500 && (error instanceof VaultUnavailableError || !(error instanceof VaultError) || error.status === undefined)) throw error;
      if (!(error instanceof VaultError)) throw error;
      throw new VaultAuthError(
        `AppRole login to Vault at auth/${this.mount} failed (${error.status}${error.errors.length ? `: ${error.errors.join('; ')}` : ''}); check the role_id and the secret_id in ${this.options.secretIdSource} (expired, used up, or from another role)`,
        { status: error.status, errors: error.errors, method: 'POST', path, cause: error },
      );
    }
  }
}
