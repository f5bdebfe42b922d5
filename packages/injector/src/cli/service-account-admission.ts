// What the API server's ServiceAccount admission plugin does before any webhook sees a pod: mount a
// projected service-account token into every container. The offline renderer applies it first so that a
// plain manifest renders as the webhook would see it in a cluster (the agents log in with that token).

import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The API server appends 5 random characters; a fixed name keeps the rendered output stable. */
export const RENDER_TOKEN_VOLUME = 'kube-api-access-render';

function tokenVolume(): V1Volume {
  return {
    name: RENDER_TOKEN_VOLUME,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  };
}

function mountsToken(container: V1Container): boolean {
  return (container.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH);
}

/** The pod with the token volume and mounts the plugin would add (unchanged if automount is off or done). */
export function applyServiceAccountAdmission(pod: V1Pod): V1Pod {
  const spec = pod.spec;
  if (spec === undefined || spec.automountServiceAccountToken === false) return pod;
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  if (containers.length === 0 || containers.some(mountsToken)) return pod;
  const mount = (c: V1Container): V1Container => ({
    ...c,
    volumeMounts: [
      ...(c.volumeMounts ?? []),
      { name: RENDER_TOKEN_VOLUME, mountPath: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true },
    ],
  });
  return {
    ...pod,
    spec: {
      ...spec,
      serviceAccountName: spec.serviceAccountName ?? 'default',
      volumes: [...(spec.volumes ?? []), tokenVolume()],
      containers: (spec.containers ?? []).map(mount),
      ...(spec.initContainers === undefined ? {} : { initContainers: spec.initContainers.map(mount) }),
    },
  };
}
