// What a Kubernetes API call's failure was, from client-node's ApiException: one set of predicates for
// every package, instead of `error instanceof ApiException && error.code === 404` written at each call.
import { ApiException } from '@kubernetes/client-node';

/** The HTTP status the API server answered with; undefined when it did not answer (network, deadline). */
export function kubeStatusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** 404: the object (or its kind) does not exist. */
export function isNotFound(error: unknown): boolean {
  return kubeStatusOf(error) === 404;
}

/** 409: someone else changed or created it first (resourceVersion conflict, AlreadyExists). */
export function isConflict(error: unknown): boolean {
  return kubeStatusOf(error) === 409;
}
