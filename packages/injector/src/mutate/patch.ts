// The admission patch is the RFC 6902 diff between the pod as received and the mutated pod. Diffing
// (instead of hand-built ops, as vault-k8s does) cannot replace an array by accident: a pod without
// `volumes` gets one `add /spec/volumes [...]`, a pod with some gets `add /spec/volumes/<n>` per volume.

import type { V1Pod } from '@kubernetes/client-node';
import jsonPatch, { type Operation } from 'fast-json-patch';

/** Round-trip through JSON so `undefined` fields and class instances compare as the API server sees them. */
function plain(value: unknown): object {
  return JSON.parse(JSON.stringify(value ?? {})) as object;
}

/**
 * `after` needs no round trip: fast-json-patch neither adds an `undefined` field nor keeps one that
 * `before` had. `before` does (a present-but-undefined `volumes` would turn `add` into `replace`),
 * unless the caller knows it is JSON data already, as a pod parsed from an AdmissionReview is; the
 * round trips were half the cost of a review.
 */
export function createPatch(before: V1Pod, after: V1Pod, options: { beforeIsJsonData?: boolean } = {}): Operation[] {
  return jsonPatch.compare(options.beforeIsJsonData ? (before as object) : plain(before), after as object);
}
