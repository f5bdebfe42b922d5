// Pod builders for the table tests: a pod as the webhook sees it in a cluster (the ServiceAccount
// admission plugin has already mounted the token), with annotations given by their short names.

import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { ANNOTATION_PREFIX } from '../../src/annotations/table.ts';
import { expandAgentConfig } from '@vaultbridge/agent/contract';

export const TOKEN_MOUNT = {
  name: 'kube-api-access-x1',
  mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
  readOnly: true,
};
export const TOKEN_VOLUME = {
  name: 'kube-api-access-x1',
  projected: { sources: [{ serviceAccountToken: { path: 'token' } }] },
};
export const VAULT_ADDR = 'https://vault.vault.svc:8200';

/** Annotations by short name (`role`) or full name; `agent-inject: true` and a role are added unless given. */
export function annotations(
  short: Record<string, string>,
  base: Record<string, string> = { 'agent-inject': 'true', role: 'app' },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...base, ...short })) {
    out[key.includes('/') ? key : ANNOTATION_PREFIX + key] = value;
  }
  return out;
}

export function appContainer(name = 'app', extra: Partial<V1Container> = {}): V1Container {
  return { name, image: 'busybox', volumeMounts: [{ ...TOKEN_MOUNT }], ...extra };
}

/** A pod with one app container mounting the token, and the given annotations (short names). */
export function pod(
  short: Record<string, string> = {},
  spec: Partial<V1PodSpec> = {},
  base?: Record<string, string>,
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'app', annotations: annotations(short, base) },
    spec: { containers: [appContainer()], volumes: [structuredClone(TOKEN_VOLUME)], ...spec },
  };
}

/** Decode VAULTBRIDGE_AGENT_CONFIG from a container, with the defaults the agent fills in (as it reads it). */
export function agentConfigOf(container: V1Container | undefined): Record<string, unknown> {
  const value = container?.env?.find((e) => e.name === 'VAULTBRIDGE_AGENT_CONFIG')?.value;
  if (value === undefined) throw new Error(`container ${container?.name} has no VAULTBRIDGE_AGENT_CONFIG`);
  return expandAgentConfig(JSON.parse(Buffer.from(value, 'base64').toString('utf8'))) as Record<string, unknown>;
}
