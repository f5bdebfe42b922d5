import type { VaultClient } from '../vault/client.ts';
import { VaultProtocolError } from '../vault/errors.ts';
import type { VaultAuthInfo, VaultResponse } from '../vault/types.ts';
import { registerSecret } from '../runtime/secret-redactor.ts';

/** A Vault token as a login (or renewal) returned it. */
export interface VaultLogin {
  clientToken: string;
  accessor: string;
  policies: string[];
  /** TTL in seconds; 0 means the token does not expire. */
  leaseDurationSeconds: number;
  renewable: boolean;
  metadata: Record<string, string>;
  entityId: string;
  tokenType: string;
}

/** Something that can log in to Vault and says whose identity it logs in as. */
export interface VaultAuthMethod {
  /** Whose login this is, without secrets (mount, role, service account): part of cache keys. */
  readonly identity: string;
  /** Logs in through `client` (whose own token is not sent). */
  login(client: VaultClient): Promise<VaultLogin>;
}

export function loginFromResponse(response: VaultResponse<unknown> | null, method: string, path: string): VaultLogin {
  const auth: VaultAuthInfo | null | undefined = response?.auth;
  if (!auth?.client_token) throw new VaultProtocolError(`Vault's answer to ${method} ${path} holds no auth.client_token`, { method, path });
  // Safety net: any log line of this process that ever contains the token has it scrubbed.
  registerSecret(auth.client_token);
  return {
    clientToken: auth.client_token,
    accessor: auth.accessor,
    policies: auth.policies ?? auth.token_policies ?? [],
    leaseDurationSeconds: auth.lease_duration,
    renewable: auth.renewable,
    metadata: auth.metadata ?? {},
    entityId: auth.entity_id,
    tokenType: auth.token_type,
  };
}
