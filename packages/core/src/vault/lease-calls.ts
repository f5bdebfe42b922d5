// The lease calls every service makes (`sys/leases/renew`, `sys/leases/revoke`), named once. The client
// gives each its deadline, retries and redaction (connection.ts, errors.ts); these say what is sent
// and read the answer, so the operator, the CSI provider and the LeaseManager cannot drift apart.
import type { VaultClient } from './client.ts';

export interface RenewedLease {
  leaseId: string;
  /** Seconds Vault granted: less than asked when the lease's max TTL caps it. 0 when Vault said nothing. */
  leaseDurationSeconds: number;
  renewable: boolean;
  /** Vault's request id of the renewal. */
  requestId: string;
}

export interface LeaseCallOptions {
  /** Cancels the call and its retries. */
  signal?: AbortSignal;
}

/**
 * `PUT sys/leases/renew`: extends `leaseId` by `incrementSeconds` (Vault's default for the lease when
 * absent). The token needs `update` on `sys/leases/renew`. Throws a VaultError when Vault refuses.
 */
export async function renewLease(
  client: VaultClient,
  leaseId: string,
  options: LeaseCallOptions & { incrementSeconds?: number } = {},
): Promise<RenewedLease> {
  const body = {
    lease_id: leaseId,
    ...(options.incrementSeconds === undefined ? {} : { increment: options.incrementSeconds }),
  };
  const response = await client.request<unknown>('PUT', 'sys/leases/renew', {
    body,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return {
    leaseId: response?.lease_id || leaseId,
    leaseDurationSeconds: response?.lease_duration ?? 0,
    renewable: response?.renewable ?? false,
    requestId: response?.request_id ?? '',
  };
}

/**
 * `PUT sys/leases/revoke`: ends `leaseId` now (database credentials are dropped, and so on). The token
 * needs `update` on `sys/leases/revoke`. Throws a VaultError when Vault refuses.
 */
export async function revokeLease(client: VaultClient, leaseId: string, options: LeaseCallOptions = {}): Promise<void> {
  await client.request('PUT', 'sys/leases/revoke', {
    body: { lease_id: leaseId },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
