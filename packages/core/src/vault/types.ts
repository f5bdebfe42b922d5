// Shapes of Vault's HTTP API answers, in Vault's own field names.

export interface VaultAuthInfo {
  client_token: string;
  accessor: string;
  policies: string[] | null;
  token_policies: string[] | null;
  identity_policies?: string[] | null;
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: string;
  orphan: boolean;
  num_uses?: number;
}

export interface VaultWrapInfo {
  token: string;
  accessor: string;
  ttl: number;
  creation_time: string;
  creation_path: string;
  wrapped_accessor?: string;
}

/** A Vault answer with a body. `data` is whatever the endpoint returns. */
export interface VaultResponse<T = Record<string, unknown>> {
  request_id: string;
  lease_id: string;
  lease_duration: number;
  renewable: boolean;
  data: T;
  auth: VaultAuthInfo | null;
  warnings: string[] | null;
  wrap_info: VaultWrapInfo | null;
  mount_type?: string;
}

/** LIST is Vault's own HTTP method (what `vault list` sends; the same as GET with `?list=true`). */
export type VaultMethod = 'GET' | 'LIST' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface VaultRequestOptions {
  /** JSON body. */
  body?: unknown;
  /** Query parameters, e.g. `{ version: 3 }`. */
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Cancels the request and its retries. */
  signal?: AbortSignal;
  /** Content-Type of a PATCH (KV v2 patch wants application/merge-patch+json). */
  contentType?: string;
  /**
   * Error statuses whose body the caller wants instead of an error, e.g. [404] for KV v2 reads, whose
   * 404 body tells a deleted or destroyed version from a missing secret.
   */
  acceptStatuses?: number[];
}
