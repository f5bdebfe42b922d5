// What a Kubernetes API call's failure was, from client-node's ApiException or KubeHttp's KubeApiError:
// one set of predicates for every package, instead of `error instanceof ApiException && error.code === 404`
// written at each call. ApiException is recognised by its shape (a numeric `code`, with `body` and
// `headers`), so a bundle that only uses KubeHttp does not load client-node for an instanceof.
import { KubeApiError } from './kube-http.ts';

/** The HTTP status the API server answered with; undefined when it did not answer (network, deadline). */
export function kubeStatusOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.status;
  if (error instanceof Error && 'body' in error && 'headers' in error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

/** 404: the object (or its kind) does not exist. */
export function isNotFound(error: unknown): boolean {
  return kubeStatusOf(error) === 404;
}

/** 409: someone else changed or created it first (resourceVersion conflict, AlreadyExists). */
export function isConflict(error: unknown): boolean {
  return kubeStatusOf(error) === 409;
}
