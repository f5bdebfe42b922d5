// `agent-json-patch` / `agent-init-json-patch`: applied to the generated container after it is built,
// as vault-k8s does, so users can change anything we generate (name included).

import type { V1Container } from '@kubernetes/client-node';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { MutationError } from './errors.ts';

export function applyContainerPatch(
  container: V1Container,
  patch: readonly Operation[],
  annotation: string,
): V1Container {
  if (patch.length === 0) return container;
  try {
    // validate=true makes a bad path throw instead of silently doing nothing; no mutation of the input.
    return jsonPatch.applyPatch(structuredClone(container), structuredClone([...patch]), true, true).newDocument;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new MutationError(
      'json-patch-failed',
      `${annotation}: the patch does not apply to the generated "${container.name}" container: ${detail}`,
      annotation,
    );
  }
}
