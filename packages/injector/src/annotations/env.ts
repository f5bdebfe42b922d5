// `agent-inject-env-<secret>` (ours): what a pod must look like for the app's process to get secrets as
// environment variables. The app containers' command is wrapped (mutate/env-wrapper.ts), so it must be in
// the pod spec, and the env file must exist before the app starts.

import type { V1Pod } from '@kubernetes/client-node';
import type { AnnotationReader } from './reader.ts';
import type { SecretSpec } from './spec.ts';
import { A, annotationFor } from './table.ts';

export interface EnvLayout {
  readonly prePopulate: boolean;
  readonly nativeSidecar: boolean;
  readonly agentKind: 'vaultbridge' | 'vault';
  readonly configMap?: string;
  readonly injectContainers: readonly string[];
}

export function checkEnvSecrets(
  reader: AnnotationReader,
  pod: V1Pod,
  secrets: readonly SecretSpec[],
  layout: EnvLayout,
): void {
  const first = secrets.find((secret) => secret.env !== undefined);
  if (first === undefined) return;
  const annotation = annotationFor('agentInjectEnv', first.rawName);
  if (layout.agentKind === 'vault' || layout.configMap !== undefined) {
    reader.fail(
      annotation,
      `env-var secrets are written by vaultbridge-agent from the generated config: not with ${layout.agentKind === 'vault' ? `${A.agentKind}: vault` : A.agentConfigmap}`,
    );
    return;
  }
  if (!layout.prePopulate && !layout.nativeSidecar) {
    reader.fail(
      annotation,
      `the app starts with the variables, so they must be rendered before it: keep ${A.agentPrePopulate} true, or set ${A.agentNativeSidecar}`,
    );
  }
  // The image's ENTRYPOINT is not in the pod, and the webhook does not ask a registry for it.
  const missing = (pod.spec?.containers ?? [])
    .filter((c) => layout.injectContainers.includes(c.name) && (c.command?.length ?? 0) === 0)
    .map((c) => `"${c.name}"`);
  if (missing.length > 0) {
    reader.fail(
      annotation,
      `container ${missing.join(', ')} has no command: the app's command is run through the env file, and the image's entrypoint is not visible to the webhook; give the container its command (and args), or leave it out with ${A.agentInjectContainers}`,
    );
  }
}
