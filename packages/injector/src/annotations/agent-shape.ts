// The agent containers' shape: resources (generic, and init-specific over them) and security context.

import type { V1Pod } from '@kubernetes/client-node';
import type { AnnotationReader } from './reader.ts';
import type { AgentResources, AgentSpec, ResourceList } from './spec.ts';
import { A } from './table.ts';
import { boolValue, integerValue, quantityValue } from './values.ts';

/** Kubernetes user and group ids are int64, but anything above int32 is rejected by runtimes. */
const MAX_ID = 2_147_483_647;
const idValue = integerValue(0, MAX_ID);

function readResourceList(
  reader: AnnotationReader,
  names: { cpu: string[]; memory: string[]; ephemeral: string[] },
): ResourceList {
  const list: { cpu?: string; memory?: string; 'ephemeral-storage'?: string } = {};
  const read = (candidates: string[]): string | undefined => {
    const found = reader.find(...candidates);
    // "" removes the resource (upstream: `agent-limits-cpu: ""` disables the CPU limit).
    return found === undefined || found.value === '' ? undefined : reader.parseFound(found, quantityValue);
  };
  const cpu = read(names.cpu);
  const memory = read(names.memory);
  const ephemeral = read(names.ephemeral);
  if (cpu !== undefined) list.cpu = cpu;
  if (memory !== undefined) list.memory = memory;
  if (ephemeral !== undefined) list['ephemeral-storage'] = ephemeral;
  return list;
}

export function readResources(reader: AnnotationReader): { init: AgentResources; sidecar: AgentResources } {
  const sidecar: AgentResources = {
    requests: readResourceList(reader, {
      cpu: [A.agentRequestsCpu],
      memory: [A.agentRequestsMem],
      ephemeral: [A.agentRequestsEphemeral],
    }),
    limits: readResourceList(reader, {
      cpu: [A.agentLimitsCpu],
      memory: [A.agentLimitsMem],
      ephemeral: [A.agentLimitsEphemeral],
    }),
  };
  const init: AgentResources = {
    requests: readResourceList(reader, {
      cpu: [A.agentInitRequestsCpu, A.agentRequestsCpu],
      memory: [A.agentInitRequestsMem, A.agentRequestsMem],
      ephemeral: [A.agentInitRequestsEphemeral, A.agentRequestsEphemeral],
    }),
    limits: readResourceList(reader, {
      cpu: [A.agentInitLimitsCpu, A.agentLimitsCpu],
      memory: [A.agentInitLimitsMem, A.agentLimitsMem],
      ephemeral: [A.agentInitLimitsEphemeral, A.agentLimitsEphemeral],
    }),
  };
  return { init, sidecar };
}

export function readSecurityContext(reader: AnnotationReader, pod: V1Pod): AgentSpec['securityContext'] {
  const runAsNames = [A.agentRunAsUser, A.agentRunAsGroup, A.agentRunAsSameUser];
  // Upstream turns the security context on when the flag is off but the pod asks for a uid/gid.
  const set =
    !reader.setByUser(A.agentSetSecurityContext) && runAsNames.some((name) => reader.setByUser(name))
      ? true
      : (reader.parse(A.agentSetSecurityContext, boolValue) ?? true);
  let runAsUser = reader.parse(A.agentRunAsUser, idValue) ?? 0;
  const runAsGroup = reader.parse(A.agentRunAsGroup, idValue) ?? 0;
  if (reader.parse(A.agentRunAsSameUser, boolValue) === true) {
    const first = pod.spec?.containers?.[0];
    const uid = first?.securityContext?.runAsUser;
    const found = reader.find(A.agentRunAsSameUser);
    if (first === undefined)
      reader.fail(A.agentRunAsSameUser, 'the pod has no containers to copy runAsUser from', found);
    else if (uid === undefined)
      reader.fail(A.agentRunAsSameUser, `container "${first.name}" sets no securityContext.runAsUser to copy`, found);
    else if (uid === 0)
      reader.fail(
        A.agentRunAsSameUser,
        `container "${first.name}" runs as root (runAsUser 0); the agent may not`,
        found,
      );
    else runAsUser = uid;
  }
  return set ? { runAsUser, runAsGroup } : undefined;
}
