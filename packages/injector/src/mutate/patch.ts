// The admission patch is the RFC 6902 diff between the pod as received and the mutated pod. Diffing
// (instead of hand-built ops, as vault-k8s does) cannot replace an array by accident: a pod without
// `volumes` gets one `add /spec/volumes [...]`, a pod with some gets `add /spec/volumes/<n>` per volume.
//
// The diff is fast-json-patch's `compare` algorithm (same ops, same order; patch.test.ts checks that
// against the library on every kind of pod) without its deep clone of every added and replaced value:
// that JSON round trip of the two agent containers was a fifth of a review's cost, and the patch is
// serialised once, straight away, so it never needs copies of its own.

import type { V1Pod } from '@kubernetes/client-node';
import type { Operation } from 'fast-json-patch';

type Json = Record<string, unknown> | unknown[];

/** Round-trip through JSON so `undefined` fields and class instances compare as the API server sees them. */
function plain(value: unknown): object {
  return JSON.parse(JSON.stringify(value ?? {})) as object;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapePathComponent(key: string): string {
  return key.includes('/') || key.includes('~') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key;
}

function isContainer(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

function keysOf(value: Json): string[] {
  if (!Array.isArray(value)) return Object.keys(value);
  const keys = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) keys[i] = String(i);
  return keys;
}

function generate(before: Json, after: Json, ops: Operation[], path: string): void {
  // Subtrees the mutation did not touch are the same objects (mutatePod shares them): nothing to walk.
  if (before === after) return;
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const afterIsArray = Array.isArray(after);
  const oldKeys = keysOf(before);
  const newKeys = keysOf(after);
  let deleted = false;
  // Old keys from the end, so removing array elements never shifts one still to be visited.
  for (let i = oldKeys.length - 1; i >= 0; i--) {
    const key = oldKeys[i]!;
    const oldValue = b[key];
    if (Object.hasOwn(after, key) && !(a[key] === undefined && oldValue !== undefined && !afterIsArray)) {
      const newValue = a[key];
      // Unchanged (the same value, or a subtree mutatePod shared): no op, so no path to build either.
      if (newValue === oldValue) continue;
      const child = `${path}/${escapePathComponent(key)}`;
      if (isContainer(oldValue) && isContainer(newValue) && Array.isArray(oldValue) === Array.isArray(newValue)) {
        generate(oldValue, newValue, ops, child);
      } else {
        ops.push({ op: 'replace', path: child, value: newValue });
      }
    } else if (Array.isArray(before) === afterIsArray) {
      ops.push({ op: 'remove', path: `${path}/${escapePathComponent(key)}` });
      deleted = true;
    } else {
      ops.push({ op: 'replace', path, value: after });
    }
  }
  if (!deleted && newKeys.length === oldKeys.length) return;
  for (const key of newKeys) {
    if (!Object.hasOwn(before, key) && a[key] !== undefined) {
      ops.push({ op: 'add', path: `${path}/${escapePathComponent(key)}`, value: a[key] });
    }
  }
}

/**
 * The ops that turn `before` into `after`. Values in the ops are `after`'s own objects, not copies:
 * serialise the patch before changing `after`.
 *
 * `before` gets a JSON round trip (a present-but-undefined `volumes` would turn `add` into `replace`)
 * unless the caller knows it is JSON data already, as a pod parsed from an AdmissionReview is. `after`
 * needs none: undefined fields are neither added nor kept.
 */
export function createPatch(before: V1Pod, after: V1Pod, options: { beforeIsJsonData?: boolean } = {}): Operation[] {
  const ops: Operation[] = [];
  generate((options.beforeIsJsonData ? before : plain(before)) as Json, after as Json, ops, '');
  return ops;
}
