import { describe, expect, test } from '@jest/globals';
import { admissionResponseJson, type AdmissionReviewResponse } from './response.ts';

function patchAnswer(overrides: Partial<AdmissionReviewResponse['response']> = {}): AdmissionReviewResponse {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify([{ op: 'add', path: '/spec/volumes', value: [] }])).toString('base64'),
      ...overrides,
    },
  };
}

const text = (json: string | Buffer): string => (typeof json === 'string' ? json : json.toString('utf8'));

describe('admissionResponseJson', () => {
  test('a patch answer is the bytes of exactly the JSON JSON.stringify would give', () => {
    const answer = patchAnswer();
    const json = admissionResponseJson(answer);
    expect(Buffer.isBuffer(json)).toBe(true);
    expect(text(json)).toBe(JSON.stringify(answer));
  });

  test('quotes, non-ASCII warnings and a patch-looking uid are kept as JSON writes them', () => {
    const answer = patchAnswer({
      uid: 'a "patch":"" b',
      warnings: ['vault.hashicorp.com/agent-inject-secrét: unknown annotation', 'say "hi" 🙂'],
    });
    const json = admissionResponseJson(answer);
    expect(text(json)).toBe(JSON.stringify(answer));
    expect(JSON.parse(text(json))).toEqual(answer);
  });

  test('the bytes own their memory, so a worker thread posts back only them', () => {
    const json = admissionResponseJson(patchAnswer()) as Buffer;
    expect(json.byteOffset).toBe(0);
    expect(json.buffer.byteLength).toBe(json.length);
  });

  test('answers without a patch are JSON text', () => {
    const denied: AdmissionReviewResponse = {
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: { uid: 'u', allowed: false, status: { message: 'error creating new agent sidecar: …' } },
    };
    expect(admissionResponseJson(denied)).toBe(JSON.stringify(denied));
  });
});
