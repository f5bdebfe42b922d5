// Plain JSON requests to the API server, for the writes every sync makes (the destination Secret, its
// Event, the object's status). client-node's typed calls send each object through its ObjectSerializer
// both ways (models, dates, type lookup), and through undici's fetch (WHATWG streams): together most of
// the operator's CPU per sync at 1,000 objects (profiled), for answers these calls do not read.
// The transport is core's KubeHttp over client-node's own credentials (KubeHttp.fromKubeConfig:
// applyToHTTPSOptions on every request, keep-alive, one TLS context per identity, http(s) proxies); this
// layer only bounds its pool and turns its errors into client-node's ApiException, which the operator's
// callers (isConflict, isNotFound, describeKubeError) read as they read the typed client's.
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeHttp } from '@vaultbridge/core';

/**
 * Sockets to the API server at once, and idle ones kept. Unbounded, the pool held one TLS socket per
 * reconcile in flight (100 by default): ~90 MiB outside V8's heap with Vault's at 1,000 objects. Writes
 * beyond it wait for a socket; 32 keeps the sync time (README, "Memory (issue 14)").
 */
export const MAX_SOCKETS = 32;
const MAX_FREE_SOCKETS = 8;

export class KubeJson {
  private readonly http: KubeHttp;

  constructor(kubeConfig: KubeConfig) {
    this.http = KubeHttp.fromKubeConfig(kubeConfig, { maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_FREE_SOCKETS });
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    try {
      return await this.http.request<T>(method, path, body === undefined ? {} : { body });
    } catch (error) {
      // Only the Status's reason is carried: the answer may echo the object we sent, data included.
      if (error instanceof KubeApiError)
        throw new ApiException(
          error.status,
          `Kubernetes API answered ${error.status} to ${method} ${path}`,
          error.reason === undefined ? undefined : { kind: 'Status', code: error.status, reason: error.reason },
          {},
        );
      throw error;
    }
  }

  /** Closes the kept-alive sockets. */
  close(): void {
    this.http.close();
  }

  createSecret(namespace: string, body: object): Promise<unknown> {
    return this.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`, body);
  }

  replaceSecret(namespace: string, name: string, body: object): Promise<unknown> {
    return this.request(
      'PUT',
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      body,
    );
  }

  createEvent(namespace: string, body: object): Promise<unknown> {
    return this.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, body);
  }

  replaceStatus<T>(
    group: string,
    version: string,
    plural: string,
    namespace: string,
    name: string,
    body: object,
  ): Promise<T> {
    return this.request<T>(
      'PUT',
      `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}/status`,
      body,
    );
  }
}
