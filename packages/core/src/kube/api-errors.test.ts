import { ApiException } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeStatusOf } from './api-errors.ts';

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
