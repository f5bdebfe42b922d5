// AgentSpec + Pod → mutated Pod. Pure: the input pod is not touched, and the same input always gives
// the same output. The admission patch is the diff of the two (patch.ts), so this function only has to
// say what the pod should look like, never how to get there.

import type { V1Container, V1Pod, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { AgentSpec } from '../annotations/spec.ts';
import { A } from '../annotations/table.ts';
import { DEFAULT_CONTAINER_OPTIONS, initContainer, sidecarContainer, type ContainerOptions } from './containers.ts';
import { envFilePath, usesEnvSecrets, wrapWithEnvFile } from './env-wrapper.ts';
import { MutationError } from './errors.ts';
import { applyContainerPatch } from './json-patch.ts';
import { HOME_PATH, INIT_CONTAINER_NAME, SIDECAR_CONTAINER_NAME, STATUS_INJECTED } from './names.ts';
import {
  agentLayout,
  agentSharedMounts,
  copiedMounts,
  execMount,
  podVolumes,
  secretMounts,
  type AgentLayout,
} from './volumes.ts';

export interface MutateOptions {
  /** the agent executable in the agent image (default `vaultbridge-agent`) */
  readonly agentBinary?: string;
}

/**
 * Names we would add that the pod already has. Upstream adds them anyway and the API server rejects the
 * pod with a duplicate-name error that does not mention the injector; we deny with a clear message.
 */
function checkConflicts(
  pod: V1Pod,
  spec: AgentSpec,
  layout: AgentLayout,
  added: { readonly volumes: readonly V1Volume[]; readonly secretMounts: readonly V1VolumeMount[] },
): void {
  const podSpec = pod.spec;
  const containerNames = [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])].map((c) => c.name);
  const ours = [...(layout.init ? [INIT_CONTAINER_NAME] : []), ...(layout.sidecar ? [SIDECAR_CONTAINER_NAME] : [])];
  const clashes = ours.filter((name) => containerNames.includes(name)).map((name) => `container "${name}"`);
  const volumeNames = (podSpec?.volumes ?? []).map((v) => v.name);
  clashes.push(...added.volumes.filter((v) => volumeNames.includes(v.name)).map((v) => `volume "${v.name}"`));
  const paths = [...added.secretMounts, ...(usesEnvSecrets(spec) ? [execMount(true)] : [])].map((m) => m.mountPath);
  for (const c of mountTargets(podSpec, spec, layout)) {
    for (const m of c.volumeMounts ?? [])
      if (paths.includes(m.mountPath)) clashes.push(`mount path ${m.mountPath} in container "${c.name}"`);
  }
  if (clashes.length > 0) {
    throw new MutationError(
      'name-conflict',
      `the pod already has ${clashes.join(', ')}, which the injector adds; was it injected before? Remove them, or keep ${A.agentInjectStatus}: ${STATUS_INJECTED}`,
    );
  }
}

/** App containers chosen by agent-inject-containers, plus the existing init containers when an agent runs before them. */
function mountTargets(podSpec: V1PodSpec | undefined, spec: AgentSpec, layout: AgentLayout): V1Container[] {
  const apps = (podSpec?.containers ?? []).filter((c) => spec.injectContainers.includes(c.name));
  // Upstream mounts into init containers only with the init agent; a native sidecar plays that role.
  const initsGetMounts = layout.init || (layout.sidecar && spec.nativeSidecar);
  return initsGetMounts ? [...apps, ...(podSpec?.initContainers ?? [])] : apps;
}

/**
 * The mutated pod shares every subtree it does not change with `pod` (copies are made only along the
 * paths that change), so `pod` is never touched and the patch diff skips unchanged subtrees by identity
 * instead of walking them; a deep clone of the pod was a tenth of a review's cost. Treat the result as
 * read-only: changing it would change `pod`.
 */
export function mutatePod(pod: V1Pod, spec: AgentSpec, options: MutateOptions = {}): V1Pod {
  const layout = agentLayout(spec);
  const mounts = secretMounts(spec);
  const volumes = podVolumes(spec, layout);
  checkConflicts(pod, spec, layout, { volumes, secretMounts: mounts });
  const containerOptions: ContainerOptions = {
    ...DEFAULT_CONTAINER_OPTIONS,
    ...(options.agentBinary === undefined ? {} : { agentBinary: options.agentBinary }),
  };

  const original: V1PodSpec = pod.spec ?? { containers: [] };
  const targets = new Set(mountTargets(original, spec, layout));
  const withSecretMounts = (c: V1Container): V1Container =>
    targets.has(c) ? { ...c, volumeMounts: [...(c.volumeMounts ?? []), ...mounts] } : c;
  const podSpec: V1PodSpec = { ...original, volumes: [...(original.volumes ?? []), ...volumes] };
  // Admission checked that every injected app container has a command (annotations/env.ts).
  const withEnv = usesEnvSecrets(spec)
    ? (c: V1Container): V1Container =>
        spec.injectContainers.includes(c.name) && (c.command?.length ?? 0) > 0
          ? wrapWithEnvFile(c, envFilePath(spec))
          : c
    : (c: V1Container): V1Container => c;
  if (original.containers !== undefined)
    podSpec.containers = original.containers.map((c) => withEnv(withSecretMounts(c)));
  if (original.initContainers !== undefined) podSpec.initContainers = original.initContainers.map(withSecretMounts);

  // Copy from the pod as it came in, before our own mounts were added to its containers.
  const baseMounts = agentSharedMounts(spec, []);
  let sharedMounts = baseMounts;
  if (spec.copyVolumeMountsFrom !== undefined) {
    const taken = [HOME_PATH, spec.serviceAccountToken.mountPath, ...baseMounts.map((m) => m.mountPath)];
    const source = [...(original.containers ?? []), ...(original.initContainers ?? [])];
    sharedMounts = agentSharedMounts(spec, copiedMounts(spec, source, taken));
  }

  const agentInits: V1Container[] = [];
  if (layout.init) {
    agentInits.push(
      applyContainerPatch(
        initContainer(spec, containerOptions, sharedMounts),
        spec.initJsonPatch,
        A.agentInitJsonPatch,
      ),
    );
  }
  if (layout.sidecar) {
    const sidecar = applyContainerPatch(
      sidecarContainer(spec, containerOptions, sharedMounts),
      spec.jsonPatch,
      A.agentJsonPatch,
    );
    if (spec.nativeSidecar) agentInits.push(sidecar);
    else podSpec.containers = [...(podSpec.containers ?? []), sidecar];
  }
  if (agentInits.length > 0) {
    const existing = podSpec.initContainers ?? [];
    podSpec.initContainers = spec.initFirst ? [...agentInits, ...existing] : [...existing, ...agentInits];
  }

  if (spec.shareProcessNamespace !== undefined) podSpec.shareProcessNamespace = spec.shareProcessNamespace;

  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: { ...pod.metadata?.annotations, [A.agentInjectStatus]: STATUS_INJECTED },
    },
    spec: podSpec,
  };
}
