// Body of POST /mutate → answer. The HTTP layer only decodes JSON, calls this, maps
// AdmissionReviewError to 400, and records metrics from `decision`.

import type { V1Pod } from '@kubernetes/client-node';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import type { MutateOptions } from '../mutate/mutate.ts';
import { decide, type AdmissionDecision } from './decide.ts';
import { admissionResponse, type AdmissionReviewResponse } from './response.ts';
import { parseAdmissionReview, type AdmissionReview } from './review.ts';

export interface AdmissionResult {
  readonly review: AdmissionReview;
  readonly decision: AdmissionDecision;
  readonly response: AdmissionReviewResponse;
}

/** @throws AdmissionReviewError when `body` is not a usable AdmissionReview */
export function handleAdmissionReview(
  body: unknown,
  defaults: InjectorDefaults = {},
  options: MutateOptions = {},
): AdmissionResult {
  const review = parseAdmissionReview(body);
  const kind = review.request.kind?.kind;
  const decision: AdmissionDecision =
    kind !== undefined && kind !== 'Pod'
      ? { kind: 'skip', reason: 'not-a-pod', message: `the object is a ${kind}, not a Pod` }
      : decide(review.request.object as V1Pod, review.request.namespace, defaults, { ...options, podIsJsonData: true });
  return { review, decision, response: admissionResponse(review, decision) };
}
