import { VaultError, type VaultErrorDetails } from '../vault/errors.ts';

/** Vault refused a login (bad role, unbound service account, wrong audience…). Retrying does not help. */
export class VaultAuthError extends VaultError {
  override readonly code = 'VAULT_AUTH';
}

/** token() was called on a TokenManager after stop(). */
export class TokenManagerStoppedError extends VaultError {
  override readonly code = 'VAULT_TOKEN_MANAGER_STOPPED';

  constructor(identity: string, details: VaultErrorDetails = {}) {
    super(`the token manager for ${identity} was stopped`, details);
  }
}
