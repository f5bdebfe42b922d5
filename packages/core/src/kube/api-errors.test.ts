import { ApiException } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeStatusOf } from './api-errors.ts';
import { KubeApiError } from './kube-http.ts';

const answered = (code: number): ApiException<unknown> => new ApiException(code, 'message', {}, {});

test('the predicates read the status of an API answer', () => {
  expect(kubeStatusOf(answered(403))).toBe(403);
  expect([isNotFound(answered(404)), isConflict(answered(409))]).toEqual([true, true]);
  expect([isNotFound(answered(409)), isConflict(answered(404))]).toEqual([false, false]);
});

test('a failure without an answer (network, deadline) has no status and is neither', () => {
  const error = Object.assign(new Error('socket hang up'), { code: 404 });
  expect(kubeStatusOf(error)).toBeUndefined();
  expect([isNotFound(error), isConflict(error), isNotFound(undefined)]).toEqual([false, false, false]);
});

test("KubeHttp's KubeApiError carries the answered status and the Status reason", () => {
  const error = new KubeApiError('GET', '/api/v1/namespaces/x/secrets/y', 404, {
    kind: 'Status',
    reason: 'NotFound',
    message: 'secrets "y" not found',
  });
  expect([kubeStatusOf(error), isNotFound(error), isConflict(error), error.reason]).toEqual([
    404,
    true,
    false,
    'NotFound',
  ]);
  expect(error.message).toBe(
    'Kubernetes API answered 404 NotFound to GET /api/v1/namespaces/x/secrets/y: secrets "y" not found',
  );
});
