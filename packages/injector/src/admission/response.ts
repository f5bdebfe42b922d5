// The AdmissionReview answer: same apiVersion and uid as the request, the patch base64-encoded JSON.

import type { AdmissionDecision } from './decide.ts';
import type { AdmissionApiVersion, AdmissionReview } from './review.ts';

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly patchType?: 'JSONPatch';
  /** base64 of the RFC 6902 patch JSON */
  readonly patch?: string;
  readonly status?: { readonly message: string };
  readonly warnings?: readonly string[];
}

export interface AdmissionReviewResponse {
  readonly apiVersion: AdmissionApiVersion;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

export function admissionResponse(review: AdmissionReview, decision: AdmissionDecision): AdmissionReviewResponse {
  const uid = review.request.uid;
  let response: AdmissionResponse;
  switch (decision.kind) {
    case 'skip':
      response = { uid, allowed: true };
      break;
    case 'deny':
      response = { uid, allowed: false, status: { message: decision.message } };
      break;
    case 'inject':
      response = {
        uid,
        allowed: true,
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify(decision.patch), 'utf8').toString('base64'),
        ...(decision.warnings.length === 0 ? {} : { warnings: decision.warnings }),
      };
      break;
  }
  return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response };
}

// JSON escapes every quote inside a string, so this sequence can only be the patch field itself.
const EMPTY_PATCH_FIELD = '"patch":""';

/**
 * The answer's JSON, as bytes when it carries a patch. A patch answer is mostly its base64 patch (~5.5 KB
 * for a typical pod), which is copied into the buffer here instead of into one more string the size of
 * the answer; and node's HTTP layer sends a buffer after the headers, where it would join a string body
 * to them in yet another string. Together ~12 KB less allocated per review (issue 14: what a review
 * allocates decides how small the webhook's semi-spaces can be; tools/bench/review-allocation.ts).
 */
export function admissionResponseJson(answer: AdmissionReviewResponse): string | Buffer {
  const patch = answer.response.patch;
  if (patch === undefined) return JSON.stringify(answer);
  // The patch's key stays where it was (a spread keeps the order of the keys it overrides).
  const text = JSON.stringify({ ...answer, response: { ...answer.response, patch: '' } });
  const at = text.indexOf(EMPTY_PATCH_FIELD) + EMPTY_PATCH_FIELD.length - 1;
  const head = text.slice(0, at);
  const tail = text.slice(at);
  // Its own memory, not a slice of node's shared pool: a worker thread posts it back whole.
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(head) + patch.length + Buffer.byteLength(tail));
  let offset = bytes.write(head);
  // base64 is ASCII: one byte per character.
  offset += bytes.write(patch, offset, 'latin1');
  bytes.write(tail, offset);
  return bytes;
}
