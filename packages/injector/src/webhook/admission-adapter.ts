import type { InjectorDefaults } from '../annotations/defaults.ts';
import { handleAdmissionReview } from '../admission/handle.ts';
import type { MutateOptions } from '../mutate/mutate.ts';
import type { AdmissionHandler } from './server.ts';

/**
 * Connects the pure admission layer to the HTTP server. `defaults` is read per review, so a
 * ConfigMap of cluster-wide annotation defaults can change without a restart.
 */
export function admissionHandler(defaults: () => InjectorDefaults, options: MutateOptions = {}): AdmissionHandler {
  return (body) => {
    const { review, decision, response } = handleAdmissionReview(body, defaults(), options);
    const namespace = review.request.namespace ?? '';
    if (decision.kind === 'inject') return { review: response, namespace, outcome: 'injected', injectionType: decision.injectionType };
    return { review: response, namespace, outcome: decision.kind === 'deny' ? 'denied' : 'skipped' };
  };
}
