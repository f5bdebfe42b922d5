// What one review may cost. Work grows with the number of secrets and annotations a pod carries (each
// secret is parsed, checked, rendered into two agent configs and diffed), and the pod's author chooses
// both: 24 loops of pods with ~3,700 secrets each pushed other tenants' reviews past the webhook
// timeout (issue 12). These caps are counted in one pass over the annotation keys, before anything
// expensive, and a pod over them is denied saying which cap and how to change it.

import type { V1Pod } from '@kubernetes/client-node';
import { A, ANNOTATION_PREFIX, SECRET_DEFINING } from '../annotations/table.ts';

export interface ReviewLimits {
  /** secrets one pod may define (agent-inject-secret-*, agent-inject-template[-file]-*) */
  readonly maxSecrets: number;
  /** `vault.hashicorp.com/*` annotations one pod may carry */
  readonly maxAnnotations: number;
  /** total bytes of the names and values of those annotations */
  readonly maxAnnotationBytes: number;
}

// Generous for real pods (the largest upstream examples have a few dozen secrets; every secret may
// carry ~10 annotations), small enough that a worst-case review stays in the tens of milliseconds.
// 256 KiB is Kubernetes' own limit for all annotations of an object, which the API server only checks
// after the webhooks have run.
export const DEFAULT_REVIEW_LIMITS: ReviewLimits = {
  maxSecrets: 100,
  maxAnnotations: 1_200,
  maxAnnotationBytes: 256 * 1024,
};

const DEFINING_PREFIXES = SECRET_DEFINING.map((family) => `${A[family]}-`);

/** The denial message when the pod is over a cap, else undefined. Linear in the annotations, nothing more. */
export function overLimits(pod: V1Pod, limits: ReviewLimits = DEFAULT_REVIEW_LIMITS): string | undefined {
  const annotations = pod.metadata?.annotations;
  if (annotations === undefined || annotations === null || typeof annotations !== 'object') return undefined;
  let count = 0;
  let bytes = 0;
  const secrets = new Set<string>();
  for (const key of Object.keys(annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    count += 1;
    const value = (annotations as Record<string, unknown>)[key];
    bytes += key.length + (typeof value === 'string' ? value.length : 0);
    for (const prefix of DEFINING_PREFIXES) {
      if (key.startsWith(prefix) && key.length > prefix.length) {
        secrets.add(key.slice(prefix.length));
        break;
      }
    }
  }
  const fix = "split the secrets over several pods, or raise the injector's limit";
  if (secrets.size > limits.maxSecrets)
    return `the pod defines ${secrets.size} secrets; at most ${limits.maxSecrets} are injected per pod (--max-secrets, AGENT_INJECT_MAX_SECRETS): ${fix}`;
  if (count > limits.maxAnnotations)
    return `the pod has ${count} ${ANNOTATION_PREFIX}* annotations; at most ${limits.maxAnnotations} are read per pod (--max-annotations, AGENT_INJECT_MAX_ANNOTATIONS): ${fix}`;
  if (bytes > limits.maxAnnotationBytes)
    return `the pod's ${ANNOTATION_PREFIX}* annotations are ${bytes} bytes; at most ${limits.maxAnnotationBytes} are read per pod (--max-annotation-bytes, AGENT_INJECT_MAX_ANNOTATION_BYTES): ${fix}`;
  return undefined;
}
