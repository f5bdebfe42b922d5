// `agent-json-patch` / `agent-init-json-patch` values: an RFC 6902 operation list. Checked for shape here
// (upstream decodes it in Init) so a malformed patch denies the pod with the annotation's name; whether
// its paths exist is only known when it is applied to the container (mutate/json-patch.ts).

import type { Operation } from 'fast-json-patch';
import type { Parsed, Rejected } from '@vaultbridge/agent/contract';
import { valueSyntax } from './values.ts';

const EXPECTED = 'a JSON array of RFC 6902 operations such as [{"op":"replace","path":"/name","value":"x"}]';
const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function reject(detail: string): Rejected {
  return { rejected: true, expected: `${EXPECTED} (${detail})` };
}

function isPointer(value: unknown): value is string {
  return typeof value === 'string' && (value === '' || value.startsWith('/'));
}

export function parseJsonPatch(raw: string): Parsed<Operation[]> {
  let document: unknown;
  try {
    document = JSON.parse(raw);
  } catch {
    return reject('not valid JSON');
  }
  // `null` decodes to an empty patch in evanphx/json-patch, and upstream tests rely on that.
  if (document === null) return [];
  if (!Array.isArray(document)) return reject('not an array');
  for (const [index, op] of document.entries()) {
    if (typeof op !== 'object' || op === null) return reject(`operation ${index} is not an object`);
    const record = op as Record<string, unknown>;
    if (typeof record.op !== 'string' || !OPS.has(record.op)) return reject(`operation ${index} has no valid "op"`);
    if (!isPointer(record.path)) return reject(`operation ${index} has no valid "path"`);
    if (['add', 'replace', 'test'].includes(record.op) && !('value' in record))
      return reject(`operation ${index} has no "value"`);
    if (['move', 'copy'].includes(record.op) && !isPointer(record.from))
      return reject(`operation ${index} has no valid "from"`);
  }
  return document as Operation[];
}

/** The schema of an `agent-json-patch` value. */
export const jsonPatchValue = valueSyntax(parseJsonPatch);
