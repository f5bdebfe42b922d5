// Secrets with a lease (database credentials, cloud keys, PKI with generate_lease…): the data plus
// what the LeaseManager needs to keep it alive.
import type { VaultClient } from './client.ts';
import { registerSecretData } from '../runtime/secret-redactor.ts';
import { VaultProtocolError } from './errors.ts';
import type { VaultRequestOptions, VaultResponse } from './types.ts';

export interface DynamicSecret<T = Record<string, unknown>> {
  /** API path it was obtained from, e.g. `database/creds/app`. */
  path: string;
  /** Empty when Vault issued no lease (static data). */
  leaseId: string;
  leaseDurationSeconds: number;
  renewable: boolean;
  data: T;
  warnings: string[];
  requestId: string;
  /** Epoch ms when Vault answered. */
  obtainedAt: number;
  /** Epoch ms when the lease ends; Infinity without a lease duration. */
  expiresAt: number;
}

export function dynamicSecretFromResponse<T>(
  path: string,
  response: VaultResponse<T>,
  now: number = Date.now(),
): DynamicSecret<T> {
  // Safety net: issued credentials and keys never survive into a log line of this process.
  registerSecretData(response.data);
  return {
    path,
    leaseId: response.lease_id ?? '',
    leaseDurationSeconds: response.lease_duration ?? 0,
    renewable: response.renewable ?? false,
    data: response.data,
    warnings: response.warnings ?? [],
    requestId: response.request_id ?? '',
    obtainedAt: now,
    expiresAt: response.lease_duration > 0 ? now + response.lease_duration * 1000 : Infinity,
  };
}

/** GET a dynamic secret, e.g. `database/creds/app`. */
export async function readDynamicSecret<T = Record<string, unknown>>(
  client: VaultClient,
  path: string,
  options: Omit<VaultRequestOptions, 'body'> = {},
): Promise<DynamicSecret<T>> {
  const response = await client.read<T>(path, options);
  return dynamicSecretFromResponse(path, response);
}

/** POST to a dynamic engine that takes parameters, e.g. `aws/sts/role` or `pki/issue/role`. */
export async function writeDynamicSecret<T = Record<string, unknown>>(
  client: VaultClient,
  path: string,
  body: unknown = {},
  options: Omit<VaultRequestOptions, 'body'> = {},
): Promise<DynamicSecret<T>> {
  const response = await client.write<T>(path, body, options);
  if (response === null)
    throw new VaultProtocolError(`Vault answered POST ${path} without a body; it is not a secret-issuing endpoint`, {
      method: 'POST',
      path,
    });
  return dynamicSecretFromResponse(path, response);
}
