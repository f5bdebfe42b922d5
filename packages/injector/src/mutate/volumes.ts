// The volumes the webhook adds to the pod and the secret mounts it adds to containers (vault-k8s
// container_volume.go, with deterministic `vault-secrets-custom-<i>` numbering).

import type { V1Container, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { AgentSpec } from '../annotations/spec.ts';
import { usesPersistentCache } from './agent-config.ts';
import { usesEnvSecrets } from './env-wrapper.ts';
import {
  CACHE_PATH,
  CACHE_VOLUME,
  CONFIG_PATH,
  CONFIG_VOLUME,
  CUSTOM_SECRETS_VOLUME_PREFIX,
  EXEC_PATH,
  EXEC_VOLUME,
  EXTRA_SECRET_PATH,
  EXTRA_SECRET_VOLUME,
  HOME_INIT_VOLUME,
  HOME_SIDECAR_VOLUME,
  SECRETS_VOLUME,
  TLS_SECRET_PATH,
  TLS_SECRET_VOLUME,
} from './names.ts';

/** The `vault-exec` emptyDir's size limit: the static exec wrapper is about 670 KiB. */
export const EXEC_VOLUME_SIZE_LIMIT = '4Mi';

/** Where the agents find the `vault-exec` volume (they copy the wrapper in); app containers mount it read-only. */
export function execMount(readOnly: boolean): V1VolumeMount {
  return { name: EXEC_VOLUME, mountPath: EXEC_PATH, ...(readOnly ? { readOnly: true } : {}) };
}

function memoryVolume(name: string): V1Volume {
  return { name, emptyDir: { medium: 'Memory' } };
}

/** Which agent containers the pod gets. */
export interface AgentLayout {
  /** `vault-agent-init` as a classic init container */
  readonly init: boolean;
  /** `vault-agent`, as a container or (native) as an init container with restartPolicy Always */
  readonly sidecar: boolean;
}

export function agentLayout(spec: AgentSpec): AgentLayout {
  if (spec.prePopulateOnly) return { init: true, sidecar: false };
  // A native sidecar's startup probe holds the app back until the first render, so it does the init
  // container's job; running both would fetch dynamic secrets twice (vault-k8s #125).
  if (spec.nativeSidecar) return { init: false, sidecar: true };
  return { init: spec.prePopulate, sidecar: true };
}

/** Per-secret directories other than the pod-wide one, sorted, each with its own volume. */
export function customSecretDirectories(spec: AgentSpec): { readonly volume: string; readonly mountPath: string }[] {
  // Most pods render every secret into the pod-wide directory; they need no set, sort or copies.
  if (!spec.secrets.some((s) => s.mountPath !== spec.secretVolumePath)) return [];
  const directories = [
    ...new Set(spec.secrets.map((s) => s.mountPath).filter((p) => p !== spec.secretVolumePath)),
  ].sort();
  return directories.map((mountPath, index) => ({ volume: `${CUSTOM_SECRETS_VOLUME_PREFIX}${index}`, mountPath }));
}

/** Mounts of the rendered-secrets volumes, for app containers, other init containers and the agents. */
export function secretMounts(spec: AgentSpec): V1VolumeMount[] {
  return [
    { name: SECRETS_VOLUME, mountPath: spec.secretVolumePath },
    ...customSecretDirectories(spec).map(({ volume, mountPath }) => ({ name: volume, mountPath })),
  ];
}

/** Volumes to append to the pod, in upstream's order. */
export function podVolumes(spec: AgentSpec, layout: AgentLayout): V1Volume[] {
  const volumes: V1Volume[] = [];
  if (layout.init) volumes.push(memoryVolume(HOME_INIT_VOLUME));
  if (layout.sidecar) volumes.push(memoryVolume(HOME_SIDECAR_VOLUME));
  volumes.push(memoryVolume(SECRETS_VOLUME));
  for (const { volume } of customSecretDirectories(spec)) volumes.push(memoryVolume(volume));
  if (spec.configMap !== undefined) volumes.push({ name: CONFIG_VOLUME, configMap: { name: spec.configMap } });
  if (spec.extraSecret !== undefined)
    volumes.push({ name: EXTRA_SECRET_VOLUME, secret: { secretName: spec.extraSecret } });
  if (spec.tlsSecret !== undefined) volumes.push({ name: TLS_SECRET_VOLUME, secret: { secretName: spec.tlsSecret } });
  if (usesPersistentCache(spec)) volumes.push(memoryVolume(CACHE_VOLUME));
  // On the node's disk, not in memory: the wrapper is no secret, and a memory volume would count its
  // ~670 KiB against the pod's memory. The limit says how small it is meant to stay.
  if (usesEnvSecrets(spec)) volumes.push({ name: EXEC_VOLUME, emptyDir: { sizeLimit: EXEC_VOLUME_SIZE_LIMIT } });
  return volumes;
}

/** Mounts both agents get after their home and token mounts, in upstream's order. */
export function agentSharedMounts(spec: AgentSpec, copied: readonly V1VolumeMount[]): V1VolumeMount[] {
  const mounts: V1VolumeMount[] = [...secretMounts(spec)];
  if (spec.extraSecret !== undefined)
    mounts.push({ name: EXTRA_SECRET_VOLUME, mountPath: EXTRA_SECRET_PATH, readOnly: true });
  mounts.push(...copied);
  if (spec.configMap !== undefined) mounts.push({ name: CONFIG_VOLUME, mountPath: CONFIG_PATH, readOnly: true });
  if (spec.tlsSecret !== undefined)
    mounts.push({ name: TLS_SECRET_VOLUME, mountPath: TLS_SECRET_PATH, readOnly: true });
  if (usesPersistentCache(spec)) mounts.push({ name: CACHE_VOLUME, mountPath: CACHE_PATH });
  if (usesEnvSecrets(spec)) mounts.push(execMount(false));
  return mounts;
}

/**
 * `agent-copy-volume-mounts`: the named container's mounts except service-account ones (the agents
 * mount the token themselves) and any whose path the agents already use.
 */
export function copiedMounts(
  spec: AgentSpec,
  containers: readonly V1Container[],
  taken: readonly string[],
): V1VolumeMount[] {
  if (spec.copyVolumeMountsFrom === undefined) return [];
  return containers
    .filter((c) => c.name === spec.copyVolumeMountsFrom)
    .flatMap((c) => c.volumeMounts ?? [])
    .filter((m) => !m.mountPath.toLowerCase().includes('serviceaccount') && !taken.includes(m.mountPath))
    .map((m) => structuredClone(m));
}
