// The admission patch is the RFC 6902 diff between the pod as received and the mutated pod. Diffing
// (instead of hand-built ops, as vault-k8s does) cannot replace an array by accident: a pod without
// `volumes` gets one `add /spec/volumes [...]`, a pod with some gets `add /spec/volumes/<n>` per volume.

import type { V1Pod } from '@kubernetes/client-node';
import jsonPatch, { type Operation } from 'fast-json-patch';

/** Round-trip through JSON so `undefined` fields and class instances compare as the API server sees them. */
function plain(value: unknown): object {
  return JSON.parse(JSON.stringify(value ?? {})) as object;
}

export function createPatch(before: V1Pod, after: V1Pod): Operation[] {
  return jsonPatch.compare(plain(before), plain(after));
}
