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
