import { jsonDeeperThan } from '../admission/object-shape.ts';
import { MAX_JSON_DEPTH, answerAdmissionReview } from './admission-adapter.ts';
import { InjectorMetrics, OTHER_NAMESPACE } from './metrics.ts';

describe('JSON nesting', () => {
  test('a 1M-deep array (2 MB, within the body limit) is a 400 without being parsed', () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(answerAdmissionReview(deep, {})).toEqual({
      status: 400,
      error: `Request body nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });

  test.each([
    ['{"a":[{"b":1}]}', 3, false],
    ['{"a":[{"b":1}]}', 2, true],
    ['{"a":"[[[[[[[[[[[["}', 1, false], // brackets in a string do not count
    ['{"a":"\\"[[[["}', 1, false], // nor after an escaped quote
    ['[[],[],[]]', 2, false],
  ])('%s deeper than %d: %s', (text, max, deeper) => {
    expect(jsonDeeperThan(text, max)).toBe(deeper);
  });

  test('containers: {} in a posted review is a 400 naming the field, not a 500', () => {
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        namespace: 'app',
        object: { metadata: { annotations: { 'vault.hashicorp.com/agent-inject': 'true' } }, spec: { containers: {} } },
      },
    });
    expect(answerAdmissionReview(body, {})).toEqual({
      status: 400,
      error: 'the object is not a valid Pod: request.object.spec.containers: expected a list, got an object',
    });
  });
});

describe('the namespace label of the metrics is bounded', () => {
  test('names that are no namespace, and new ones past the limit, count as _other', () => {
    const metrics = new InjectorMetrics(undefined, false, 3);
    expect(
      ['a', 'b', 'c', 'd', 'a', 'Not_A_Namespace', 'x'.repeat(64)].map((ns) => metrics.namespaceLabel(ns)),
    ).toEqual(['a', 'b', 'c', OTHER_NAMESPACE, 'a', OTHER_NAMESPACE, OTHER_NAMESPACE]);
  });
});
