// Plain JSON requests to the API server: every call the operator makes (its informers stream over the
// same KubeHttp in runtime/informer.ts). client-node's typed calls send each object through its
// ObjectSerializer both ways (models, dates, type lookup) and through undici's fetch (WHATWG streams):
// together most of the operator's CPU per sync at 1,000 objects (profiled), and client-node with its
// undici more than half of the bundle and ~10 MiB of RSS (README, "Memory (issue 14)"). The transport is
// core's KubeHttp: keep-alive, one TLS context per identity, a deadline on every call, credentials from
// the pod's service account or from a kubeconfig. This layer bounds its pool and keeps the API server's
// message out of its errors (it may echo the object we sent, data included).
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeHttp } from '@vaultbridge/core';

/**
 * Sockets to the API server at once, and idle ones kept. Unbounded, the pool held one TLS socket per
 * reconcile in flight (100 by default): ~90 MiB outside V8's heap with Vault's at 1,000 objects. Writes
 * beyond it wait for a socket; 32 keeps the sync time (README, "Memory (issue 14)").
 */
export const MAX_SOCKETS = 32;
const MAX_FREE_SOCKETS = 8;

/** The patch types the API server takes, by Content-Type. */
export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export type PatchType = typeof MERGE_PATCH | typeof JSON_PATCH | 'application/strategic-merge-patch+json';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class KubeJson {
  /** The transport, shared with the informers' lists and watches (their own pool: see operator.ts). */
  readonly http: KubeHttp;

  constructor(http: KubeHttp) {
    this.http = http;
  }

  /** Over a kubeconfig the caller already loaded (tests, the CLI with --kubeconfig), with the writes' pool bounds. */
  static fromKubeConfig(kubeConfig: KubeConfig): KubeJson {
    return new KubeJson(
      KubeHttp.fromKubeConfig(kubeConfig, { maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_FREE_SOCKETS }),
    );
  }

  /** The pool bounds the operator's calls use, for a KubeHttp the caller builds (core's connectKube). */
  static readonly poolOptions = { maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_FREE_SOCKETS } as const;

  /** The namespace of the credentials (in a pod: the service account's), when known. */
  get namespace(): string | undefined {
    return this.http.namespace;
  }

  async request<T>(method: Method, path: string, body?: unknown, contentType?: PatchType): Promise<T> {
    try {
      return await this.http.request<T>(method, path, {
        ...(body === undefined ? {} : { body }),
        ...(contentType === undefined ? {} : { contentType }),
      });
    } catch (error) {
      // Only the Status's reason is carried: the answer may echo the object we sent, data included.
      if (error instanceof KubeApiError)
        throw new KubeApiError(method, path, error.status, error.reason === undefined ? {} : { reason: error.reason });
      throw error;
    }
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
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
