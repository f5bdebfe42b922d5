import { KubeApiError, kubeStatusOf } from '@vaultbridge/core';

// isNotFound and isConflict are core's (@vaultbridge/core), shared with every package.

/** An API error without its body (which may echo the object we sent, data included). */
export function describeKubeError(error: unknown): string {
  if (error instanceof KubeApiError)
    return `Kubernetes API answered ${error.status}${error.reason ? ` (${error.reason})` : ''}`;
  // client-node's ApiException (a caller's typed client), by its shape: no runtime import of client-node.
  const status = kubeStatusOf(error);
  if (status !== undefined) {
    let detail = '';
    try {
      const body = (error as { body?: unknown }).body;
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { reason?: string } | undefined;
      detail = parsed?.reason ? ` (${parsed.reason})` : '';
    } catch {
      // not JSON
    }
    return `Kubernetes API answered ${status}${detail}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
}
