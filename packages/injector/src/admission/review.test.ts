import { describe, expect, test } from '@jest/globals';
import { pod, VAULT_ADDR } from '../../test/support/pods.ts';
import { handleAdmissionReview } from './handle.ts';
import { AdmissionReviewError, parseAdmissionReview } from './review.ts';

const DEFAULTS = { vaultAddress: VAULT_ADDR };

function review(apiVersion: string, object: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion,
    kind: 'AdmissionReview',
    request: {
      uid: 'e911857d-c318-11e8-bbad-025000000001',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'app',
      operation: 'CREATE',
      object,
      ...extra,
    },
  };
}

describe('a body that is not a usable AdmissionReview is a typed 400 error', () => {
  test.each<[string, unknown, string, string]>([
    ['not an object', 'hello', 'not-an-object', 'the body is not a JSON object'],
    ['an array', [], 'not-an-object', 'the body is not a JSON object'],
    [
      'an unknown version',
      { apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview' },
      'unsupported-version',
      'apiVersion "admission.k8s.io/v2" is not admission.k8s.io/v1 or admission.k8s.io/v1beta1',
    ],
    [
      'no version',
      { kind: 'AdmissionReview' },
      'unsupported-version',
      'apiVersion null is not admission.k8s.io/v1 or admission.k8s.io/v1beta1',
    ],
    [
      'another kind',
      { apiVersion: 'admission.k8s.io/v1', kind: 'Pod' },
      'wrong-kind',
      'kind "Pod" is not AdmissionReview',
    ],
    [
      'no request',
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
      'missing-request',
      'the AdmissionReview has no request',
    ],
    [
      'no uid',
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { object: {} } },
      'missing-uid',
      'the AdmissionReview request has no uid',
    ],
    [
      'an empty uid',
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: '', object: {} } },
      'missing-uid',
      'the AdmissionReview request has no uid',
    ],
    [
      'no object',
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u' } },
      'missing-object',
      'the AdmissionReview request has no object',
    ],
  ])('%s', (...[, body, code, message]) => {
    let caught: unknown;
    try {
      parseAdmissionReview(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AdmissionReviewError);
    expect([
      (caught as AdmissionReviewError).code,
      (caught as AdmissionReviewError).httpStatus,
      (caught as Error).message,
    ]).toEqual([code, 400, message]);
  });
});

describe("the answer uses the request's version and uid", () => {
  test.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])(
    '%s: an injected pod gets a base64 JSONPatch',
    (apiVersion) => {
      const result = handleAdmissionReview(review(apiVersion, pod({ 'agent-inject-secret-db': 'kv/db' })), DEFAULTS);
      const { response } = result.response;
      expect([
        result.response.apiVersion,
        result.response.kind,
        response.uid,
        response.allowed,
        response.patchType,
      ]).toEqual([apiVersion, 'AdmissionReview', 'e911857d-c318-11e8-bbad-025000000001', true, 'JSONPatch']);
      expect(JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8'))).toEqual(
        result.decision.kind === 'inject' ? result.decision.patch : null,
      );
    },
  );

  test('a skipped pod is allowed without a patch', () => {
    const result = handleAdmissionReview(review('admission.k8s.io/v1', pod({ 'agent-inject': 'false' })), DEFAULTS);
    expect(result.response.response).toEqual({ uid: 'e911857d-c318-11e8-bbad-025000000001', allowed: true });
  });

  test('a denied pod is refused with the message', () => {
    const result = handleAdmissionReview(
      review('admission.k8s.io/v1beta1', pod(), { namespace: 'kube-system' }),
      DEFAULTS,
    );
    expect(result.response).toEqual({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: {
        uid: 'e911857d-c318-11e8-bbad-025000000001',
        allowed: false,
        status: { message: 'error with request namespace: cannot inject into system namespaces: kube-system' },
      },
    });
  });

  test('warnings reach the response (kubectl prints them)', () => {
    const result = handleAdmissionReview(
      review('admission.k8s.io/v1', pod({ 'agent-inject-secrets-typo': 'kv/x' })),
      DEFAULTS,
    );
    expect(result.response.response.warnings).toEqual([
      'vault.hashicorp.com/agent-inject-secrets-typo is not an annotation the Vault injector knows; it is ignored',
    ]);
  });

  test('the request namespace is used when the pod has none', () => {
    const p = pod();
    delete p.metadata?.namespace;
    const result = handleAdmissionReview(review('admission.k8s.io/v1', p, { namespace: 'team-b' }), DEFAULTS);
    expect(result.decision.kind === 'inject' && result.decision.spec.namespace).toBe('team-b');
  });

  test('an object that is not a Pod is allowed untouched', () => {
    const result = handleAdmissionReview(
      review(
        'admission.k8s.io/v1',
        { kind: 'Deployment' },
        { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
      ),
      DEFAULTS,
    );
    expect([result.decision.kind, result.response.response]).toEqual([
      'skip',
      { uid: 'e911857d-c318-11e8-bbad-025000000001', allowed: true },
    ]);
  });
});

describe('wrong JSON types in the pod are a 400 naming the field (issue 12: containers: {} answered 500)', () => {
  const review = (object: unknown) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'u', namespace: 'app', kind: { group: '', version: 'v1', kind: 'Pod' }, object },
  });
  test.each([
    [{ spec: { containers: {} } }, 'request.object.spec.containers: expected a list, got an object'],
    [
      { spec: { containers: [{ name: 7 }] } },
      'request.object.spec.containers[0].name: expected a string, got a number',
    ],
    [{ spec: { containers: ['app'] } }, 'request.object.spec.containers[0]: expected an object, got a string'],
    [
      { spec: { containers: [{ name: 'a', volumeMounts: [{ name: 'x', mountPath: 1 }] }] } },
      'request.object.spec.containers[0].volumeMounts[0].mountPath: expected a string, got a number',
    ],
    [
      { spec: { containers: [{ name: 'a', securityContext: { runAsUser: '0' } }] } },
      'request.object.spec.containers[0].securityContext.runAsUser: expected an integer, got a string',
    ],
    [
      { spec: { volumes: [{ name: 'v', projected: { sources: {} } }] } },
      'request.object.spec.volumes[0].projected.sources: expected a list, got an object',
    ],
    [{ metadata: { annotations: ['a'] } }, 'request.object.metadata.annotations: expected an object, got a list'],
    [{ metadata: 'x' }, 'request.object.metadata: expected an object, got a string'],
    [{ spec: [] }, 'request.object.spec: expected an object, got a list'],
    [{ status: { phase: 3 } }, 'request.object.status.phase: expected a string, got a number'],
    [{ spec: { initContainers: 'none' } }, 'request.object.spec.initContainers: expected a list, got a string'],
  ])('%o', (object, message) => {
    expect(() => parseAdmissionReview(review(object))).toThrow(`the object is not a valid Pod: ${message}`);
  });

  test('a well-typed pod with nulls where Kubernetes allows them passes', () => {
    expect(() =>
      parseAdmissionReview(
        review({ metadata: { annotations: null }, spec: { containers: [{ name: 'a', env: null }], volumes: null } }),
      ),
    ).not.toThrow();
  });
});
