import { ApiException } from '@kubernetes/client-node';

// isNotFound and isConflict are core's (@vaultbridge/core), shared with every package.

/** An API error without its body (which may echo the object we sent, data included). */
export function describeKubeError(error: unknown): string {
  if (error instanceof ApiException) {
    let detail = '';
    try {
      const body =
        typeof error.body === 'string'
          ? (JSON.parse(error.body) as { reason?: string; message?: string })
          : (error.body as { reason?: string } | undefined);
      detail = body?.reason ? ` (${body.reason})` : '';
    } catch {
      // not JSON
    }
    return `Kubernetes API answered ${error.code}${detail}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
}
