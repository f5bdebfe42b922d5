// Vault calls about Vault itself and about the caller's own token, named once so the services do not
// each write the paths and read the answers by hand. The client gives each its deadline, retries and
// redaction (connection.ts, errors.ts).
import type { VaultClient } from './client.ts';

/** `GET sys/health`'s answer (not wrapped in `data`). */
export interface VaultHealth {
  initialized?: boolean;
  sealed?: boolean;
  standby?: boolean;
  performance_standby?: boolean;
  version?: string;
  cluster_name?: string;
}

/** Statuses sys/health uses for a Vault that answers but is not an active, unsealed node. */
const UNHEALTHY_STATUSES = [429, 472, 473, 501, 503];

/**
 * `GET sys/health` (unauthenticated). Standbys count as healthy (standbyok, perfstandbyok); with
 * `acceptUnhealthy`, a sealed or uninitialised Vault's answer is returned instead of thrown.
 */
export async function vaultHealth(
  client: VaultClient,
  options: { acceptUnhealthy?: boolean; signal?: AbortSignal } = {},
): Promise<VaultHealth> {
  const response = await client.request<never>('GET', 'sys/health', {
    query: { standbyok: 'true', perfstandbyok: 'true' },
    ...(options.acceptUnhealthy ? { acceptStatuses: UNHEALTHY_STATUSES } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return (response ?? {}) as unknown as VaultHealth;
}

/** `auth/token/lookup-self`'s data: what Vault knows of the client's token. */
export interface TokenLookup {
  accessor?: string;
  policies?: string[];
  ttl?: number;
  creation_ttl?: number;
  renewable?: boolean;
}

/** `GET auth/token/lookup-self`: throws a VaultPermissionError when the token is revoked or expired. */
export async function lookupSelfToken(
  client: VaultClient,
  options: { signal?: AbortSignal } = {},
): Promise<TokenLookup> {
  return (await client.read<TokenLookup>('auth/token/lookup-self', options.signal ? { signal: options.signal } : {}))
    .data;
}

/** `POST auth/token/revoke-self`: the client's token (and its leases) end now. */
export async function revokeSelfToken(client: VaultClient, options: { signal?: AbortSignal } = {}): Promise<void> {
  await client.write('auth/token/revoke-self', {}, options.signal ? { signal: options.signal } : {});
}
