import type { InjectorDefaults } from '../annotations/defaults.ts';
import type { InjectionType } from '../admission/decide.ts';
import { handleAdmissionReview } from '../admission/handle.ts';
import { jsonDeeperThan } from '../admission/object-shape.ts';
import { AdmissionReviewError } from '../admission/review.ts';
import type { MutateOptions } from '../mutate/mutate.ts';

/** Deepest JSON nesting a review may have; a pod's managedFields reach about 20. */
export const MAX_JSON_DEPTH = 100;

/** What POST /mutate answers for one request body. Plain data, so a worker thread can send it back. */
export type AdmissionAnswer =
  | {
      readonly status: 200;
      /** the AdmissionReview answer (same apiVersion and uid as the request), serialised */
      readonly payload: string;
      readonly namespace: string;
      readonly outcome: 'injected' | 'skipped' | 'denied';
      readonly injectionType?: InjectionType;
    }
  /** the body is not a usable AdmissionReview */
  | { readonly status: 400; readonly error: string };

/** Body text of POST /mutate → answer, on the event loop or (pool.ts) in a worker thread. */
export type AdmissionHandler = (body: string) => AdmissionAnswer | Promise<AdmissionAnswer>;

/**
 * Parse, decide and serialise one review. Pure and synchronous: the whole CPU cost of a review is here,
 * so this is what the worker pool moves off the event loop.
 */
export function answerAdmissionReview(
  body: string,
  defaults: InjectorDefaults,
  options: MutateOptions = {},
): AdmissionAnswer {
  // Kubernetes objects nest a few dozen levels at most; deeper JSON is refused before parsing.
  if (jsonDeeperThan(body, MAX_JSON_DEPTH))
    return { status: 400, error: `Request body nests deeper than ${MAX_JSON_DEPTH} levels` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { status: 400, error: 'Request body is not valid JSON' };
  }
  let result: ReturnType<typeof handleAdmissionReview>;
  try {
    result = handleAdmissionReview(parsed, defaults, options);
  } catch (error) {
    if (error instanceof AdmissionReviewError) return { status: 400, error: error.message };
    throw error;
  }
  const { review, decision, response } = result;
  const namespace = review.request.namespace ?? '';
  const payload = JSON.stringify(response);
  if (decision.kind === 'inject')
    return { status: 200, payload, namespace, outcome: 'injected', injectionType: decision.injectionType };
  return { status: 200, payload, namespace, outcome: decision.kind === 'deny' ? 'denied' : 'skipped' };
}

/**
 * Answers on the event loop. `defaults` is read per review, so a ConfigMap of cluster-wide annotation
 * defaults can change without a restart.
 */
export function admissionHandler(defaults: () => InjectorDefaults, options: MutateOptions = {}): AdmissionHandler {
  return (body) => answerAdmissionReview(body, defaults(), options);
}
