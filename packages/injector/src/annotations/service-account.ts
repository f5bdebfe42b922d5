// Which service-account token the agents log in with, found the way vault-k8s does (agent.go
// serviceaccount()): a named projected volume, else the first app-container mount whose path contains
// "serviceaccount" (what the ServiceAccount admission plugin adds before webhooks run).

import path from 'node:path/posix';
import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import type { ServiceAccountTokenSpec } from './spec.ts';

/** Where the agents mount a named token volume that no app container mounts. */
export const DEFAULT_SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/vault.hashicorp.com/serviceaccount';

export type ServiceAccountLookup =
  { readonly ok: true; readonly token: ServiceAccountTokenSpec } | { readonly ok: false; readonly message: string };

function projectedTokenPath(volume: V1Volume): string | undefined {
  return volume.projected?.sources?.find((source) => (source.serviceAccountToken?.path ?? '') !== '')
    ?.serviceAccountToken?.path;
}

export function findServiceAccountToken(pod: V1Pod, volumeName: string | undefined): ServiceAccountLookup {
  const containers = pod.spec?.containers ?? [];
  if (volumeName !== undefined) {
    const volume = (pod.spec?.volumes ?? []).find((v) => v.name === volumeName);
    if (volume === undefined) return { ok: false, message: `the pod has no volume named "${volumeName}"` };
    const tokenFile = projectedTokenPath(volume);
    if (tokenFile === undefined)
      return {
        ok: false,
        message: `volume "${volumeName}" is not a projected volume with a serviceAccountToken source`,
      };
    const mount = containers.flatMap((c) => c.volumeMounts ?? []).find((m) => m.name === volumeName);
    const mountPath = mount?.mountPath ?? DEFAULT_SERVICE_ACCOUNT_MOUNT;
    return { ok: true, token: { volumeName, mountPath, tokenPath: path.join(mountPath, tokenFile) } };
  }
  const mount = containers.flatMap((c) => c.volumeMounts ?? []).find((m) => m.mountPath.includes('serviceaccount'));
  if (mount === undefined) {
    return {
      ok: false,
      message:
        'no app container mounts a service-account token (automountServiceAccountToken is off?); name a projected volume with a serviceAccountToken source in this annotation',
    };
  }
  return {
    ok: true,
    token: { volumeName: mount.name, mountPath: mount.mountPath, tokenPath: path.join(mount.mountPath, 'token') },
  };
}
