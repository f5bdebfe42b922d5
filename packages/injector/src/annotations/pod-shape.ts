// Annotations whose meaning depends on the pod spec: container names and the pod's own settings.

import type { V1Pod } from '@kubernetes/client-node';
import type { AnnotationReader } from './reader.ts';
import { A } from './table.ts';
import { splitList } from '@vaultbridge/agent/contract';
import { boolValue } from './values.ts';

export function readInjectContainers(reader: AnnotationReader, pod: V1Pod): string[] {
  const all = (pod.spec?.containers ?? []).map((c) => c.name);
  const found = reader.find(A.agentInjectContainers);
  if (found === undefined) return all;
  const names = splitList(found.value);
  const unknown = names.filter((name) => !all.includes(name));
  if (unknown.length > 0)
    reader.fail(
      found.name,
      `names no container of the pod (${unknown.join(', ')}); containers: ${all.join(', ') || 'none'}`,
      found,
    );
  return names.filter((name) => all.includes(name));
}

export function readShareProcessNamespace(reader: AnnotationReader, pod: V1Pod): boolean | undefined {
  const value = reader.parse(A.agentShareProcessNamespace, boolValue);
  if (value === true && pod.spec?.shareProcessNamespace === false) {
    reader.fail(
      A.agentShareProcessNamespace,
      'the pod sets spec.shareProcessNamespace: false; refusing to enable it',
      reader.find(A.agentShareProcessNamespace),
    );
  }
  return value;
}

export function readCopyVolumeMounts(reader: AnnotationReader, pod: V1Pod): string | undefined {
  const found = reader.find(A.agentCopyVolumeMounts);
  if (found === undefined || found.value.trim() === '') return undefined;
  const name = found.value.trim();
  const names = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => c.name);
  if (!names.includes(name))
    reader.fail(
      found.name,
      `names no container or init container of the pod; containers: ${names.join(', ') || 'none'}`,
      found,
    );
  return name;
}
