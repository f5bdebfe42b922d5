import type { VaultClient } from '../vault/client.ts';
import { VaultError, VaultProtocolError, VaultUnavailableError } from '../vault/errors.ts';
import { VaultAuthError } from './errors.ts';
import type { VaultAuthInfo, VaultResponse } from '../vault/types.ts';
import { registerSecret } from '../runtime/secret-redactor.ts';

/**
 * An auth mount path as users write it (`/auth/kubernetes/`, `auth/jwt`, `approle`) reduced to the
 * mount itself, the part `auth/<mount>/login` takes.
 */
export function authMountPath(mount: string): string {
  return mount.replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');
}

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
  if (!auth?.client_token)
    throw new VaultProtocolError(`Vault's answer to ${method} ${path} holds no auth.client_token`, { method, path });
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

/**
 * `POST auth/<mount>/login` with `body`, sent without any Vault token. Vault being down stays
 * VaultUnavailableError (worth retrying); a refusal becomes VaultAuthError with `explain`'s message,
 * which says what to check. `refusedAs500` names 500 answers that are refusals (AppRole's "invalid secret id").
 */
export async function loginAt(
  client: VaultClient,
  mount: string,
  body: Record<string, unknown>,
  explain: (detail: string) => string,
  refusedAs500: (errors: string[]) => boolean = () => false,
): Promise<VaultLogin> {
  const path = `auth/${mount}/login`;
  try {
    return loginFromResponse(await client.withToken(undefined).write(path, body), 'POST', path);
  } catch (error) {
    if (!(error instanceof VaultError) || error.status === undefined) throw error;
    if (error instanceof VaultUnavailableError && !(error.status === 500 && refusedAs500(error.errors))) throw error;
    throw new VaultAuthError(explain(`${error.status}${error.errors.length ? `: ${error.errors.join('; ')}` : ''}`), {
      status: error.status,
      errors: error.errors,
      method: 'POST',
      path,
      cause: error,
    });
  }
}
