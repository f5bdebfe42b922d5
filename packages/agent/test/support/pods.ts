// The agent's end-to-end tests start from what the webhook writes: a pod with annotations (short names)
// goes through the injector's public `decide`, and the agents run with the env it put on them.

import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { ANNOTATION_PREFIX } from '@vaultbridge/injector';

const TOKEN_MOUNT = {
  name: 'kube-api-access-x1',
  mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
  readOnly: true,
};
const TOKEN_VOLUME = {
  name: 'kube-api-access-x1',
  projected: { sources: [{ serviceAccountToken: { path: 'token' } }] },
};

function appContainer(): V1Container {
  return { name: 'app', image: 'busybox', volumeMounts: [{ ...TOKEN_MOUNT }] };
}

/** A pod with one app container mounting the token (as the ServiceAccount admission plugin leaves it). */
export function pod(short: Record<string, string> = {}, spec: Partial<V1PodSpec> = {}): V1Pod {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries({ 'agent-inject': 'true', role: 'app', ...short })) {
    annotations[key.includes('/') ? key : ANNOTATION_PREFIX + key] = value;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'app', annotations },
    spec: { containers: [appContainer()], volumes: [structuredClone(TOKEN_VOLUME)], ...spec },
  };
}
