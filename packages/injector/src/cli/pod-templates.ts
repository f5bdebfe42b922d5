// Manifests users keep are mostly workloads, not pods; the renderer finds the pod (template) in each
// document so `render deployment.yaml` shows what the webhook will do to the pods it creates.

import type { V1Pod } from '@kubernetes/client-node';

type Json = Record<string, unknown>;

export interface PodSlot {
  /** the pod the webhook would receive */
  readonly pod: V1Pod;
  /** the document with `mutated` written back in place of the pod (template) */
  put(mutated: V1Pod): Json;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function templatePath(kind: unknown): string[] | undefined {
  switch (kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
      return ['spec', 'template'];
    case 'CronJob':
      return ['spec', 'jobTemplate', 'spec', 'template'];
    default:
      return undefined;
  }
}

function getIn(document: Json, path: readonly string[]): Json | undefined {
  let current: unknown = document;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return isRecord(current) ? current : undefined;
}

function setIn(document: Json, path: readonly string[], value: Json): Json {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const child = isRecord(document[head]) ? (document[head] as Json) : {};
  return { ...document, [head]: setIn(child, rest, value) };
}

/** The pod in a manifest document, or undefined for kinds that hold none (Service, ConfigMap, ...). */
export function findPod(document: unknown): PodSlot | undefined {
  if (!isRecord(document)) return undefined;
  if (document.kind === 'Pod') return { pod: document as V1Pod, put: (mutated) => mutated as Json };
  const path = templatePath(document.kind);
  const template = path === undefined ? undefined : getIn(document, path);
  if (path === undefined || template === undefined) return undefined;
  const namespace = getIn(document, ['metadata'])?.namespace;
  const metadata = {
    ...(getIn(template, ['metadata']) ?? {}),
    ...(typeof namespace === 'string' ? { namespace } : {}),
  };
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata, spec: template.spec } as V1Pod;
  return {
    pod,
    put: (mutated) => {
      // Templates carry no namespace of their own; keep the workload's.
      const { namespace: _namespace, ...templateMetadata } = mutated.metadata ?? {};
      return setIn(document, path, { ...template, metadata: templateMetadata, spec: mutated.spec as unknown as Json });
    },
  };
}
