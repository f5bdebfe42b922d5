// Hostile input at the edge, generated: whatever JSON arrives as POST /mutate, the answer is a 200
// review or a 400 naming the problem — never an exception (a 500, which failurePolicy Ignore turns
// into a pod without its agent), never a hang. Pods are built from the real shape with any JSON value
// put anywhere, plus annotation maps of random vault.hashicorp.com names and values.
import fc from 'fast-check';
import { A, ANNOTATION_TABLE, ANNOTATION_PREFIX } from '../annotations/table.ts';
import { answerAdmissionReview } from './admission-adapter.ts';

const DEFAULTS = { vaultAddress: 'https://vault.vault.svc:8200' };

const annotationName = fc.oneof(
  fc.constantFrom(
    ...Object.values(ANNOTATION_TABLE).map(
      (entry) => `${ANNOTATION_PREFIX}${entry.name}${entry.scope === 'pod' ? '' : '-s'}`,
    ),
  ),
  fc.string({ maxLength: 30 }).map((suffix) => `${ANNOTATION_PREFIX}${suffix}`),
);
const annotationValue = fc.oneof(
  fc.constantFrom(
    'true',
    'false',
    '',
    '0400',
    '/vault/secrets/x',
    '../x',
    'secret/data/a',
    '[{"op":"add","path":"/x","value":1}]',
    '5s',
    'notice',
  ),
  fc.string({ maxLength: 40 }),
);
const annotations = fc
  .dictionary(annotationName, annotationValue, { maxKeys: 12 })
  .map((values) => ({ [A.agentInject]: 'true', [A.role]: 'app', ...values }));

const anyJson = fc.jsonValue({ maxDepth: 3 });
const container = fc.record(
  {
    name: fc.oneof(fc.constantFrom('app', 'vault-agent'), anyJson),
    image: fc.oneof(fc.constant('busybox'), anyJson),
    volumeMounts: fc.oneof(
      fc.constant([{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]),
      anyJson,
    ),
    securityContext: fc.oneof(fc.constant({ runAsUser: 1000 }), anyJson),
    env: anyJson,
  },
  { requiredKeys: [] },
);
const pod = fc.record(
  {
    metadata: fc.oneof(
      fc.record({ name: fc.constant('p'), annotations: fc.oneof(annotations, anyJson) }, { requiredKeys: [] }),
      anyJson,
    ),
    spec: fc.oneof(
      fc.record(
        {
          containers: fc.oneof(fc.array(container, { maxLength: 3 }), anyJson),
          initContainers: fc.oneof(fc.array(container, { maxLength: 2 }), anyJson),
          volumes: fc.oneof(
            fc.constant([{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }]),
            anyJson,
          ),
          shareProcessNamespace: anyJson,
        },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
    status: anyJson,
  },
  { requiredKeys: [] },
);
const review = fc.record(
  {
    apiVersion: fc.oneof(fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'), anyJson),
    kind: fc.oneof(fc.constant('AdmissionReview'), anyJson),
    request: fc.oneof(
      fc.record(
        {
          uid: fc.oneof(fc.constant('u-1'), anyJson),
          namespace: fc.oneof(fc.constantFrom('app', 'kube-system', ''), anyJson),
          kind: fc.oneof(fc.constant({ group: '', version: 'v1', kind: 'Pod' }), anyJson),
          object: fc.oneof(pod, anyJson),
        },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);

function answerOf(body: string): { status: number } {
  const answer = answerAdmissionReview(body, DEFAULTS);
  if (answer.status === 200) {
    const parsed = JSON.parse(answer.payload) as { response?: { uid?: unknown; allowed?: unknown } };
    expect(typeof parsed.response?.allowed).toBe('boolean');
  } else {
    expect(answer.status).toBe(400);
    expect(answer.error.length).toBeGreaterThan(0);
  }
  return answer;
}

test('any AdmissionReview-shaped JSON gets a 200 review or a 400, never an exception', () => {
  fc.assert(
    fc.property(review, (value) => {
      answerOf(JSON.stringify(value));
    }),
    { numRuns: 3_000 },
  );
});

test('well-formed pods with random vault.hashicorp.com annotations are injected, skipped or denied, never an exception', () => {
  const wellFormed = annotations.map((values) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-2',
      namespace: 'app',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      object: {
        metadata: { name: 'p', annotations: values },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'busybox',
              volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
            },
          ],
          volumes: [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
        },
      },
    },
  }));
  fc.assert(
    fc.property(wellFormed, (value) => {
      expect(answerOf(JSON.stringify(value)).status).toBe(200);
    }),
    { numRuns: 2_000 },
  );
});

test('any text at all gets a 400 or a review', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      answerOf(text);
    }),
    { numRuns: 2_000 },
  );
});
