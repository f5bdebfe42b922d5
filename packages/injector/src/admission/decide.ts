// Should this pod be injected, and with what? vault-k8s's Mutate() pipeline as a pure function:
// should inject? → system namespace? → annotations → AgentSpec → mutated pod → patch.

import { DEFAULT_REVIEW_LIMITS, overLimits } from './limits.ts';
import type { V1Pod } from '@kubernetes/client-node';
import type { Operation } from 'fast-json-patch';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import { formatIssue, InvalidAnnotationsError, type AnnotationIssue } from '../annotations/errors.ts';
import { parseAnnotations } from '../annotations/parse.ts';
import type { AgentSpec } from '../annotations/spec.ts';
import { A } from '../annotations/table.ts';
import { boolValue, readValue } from '../annotations/values.ts';
import { MutationError } from '../mutate/errors.ts';
import { mutatePod, type MutateOptions } from '../mutate/mutate.ts';
import { STATUS_INJECTED } from '../mutate/names.ts';
import { createPatch } from '../mutate/patch.ts';
import { agentLayout } from '../mutate/volumes.ts';

/** Namespaces the injector refuses to touch (upstream denies rather than skips these). */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public'];

/** Label values of vault_agent_injector_injections_by_namespace_total{injection_type}. */
export type InjectionType = 'init_only' | 'sidecar_only' | 'init_and_sidecar';

export type SkipReason = 'not-requested' | 'already-injected' | 'not-pending' | 'not-a-pod';

export type AdmissionDecision =
  /** allowed, no patch */
  | { readonly kind: 'skip'; readonly reason: SkipReason; readonly message: string }
  /** allowed:false with `message`; `issues` when annotations were at fault */
  | { readonly kind: 'deny'; readonly message: string; readonly issues?: readonly AnnotationIssue[] }
  | {
      readonly kind: 'inject';
      readonly spec: AgentSpec;
      readonly pod: V1Pod;
      readonly patch: readonly Operation[];
      readonly injectionType: InjectionType;
      readonly warnings: readonly string[];
    };

type Gate = { readonly inject: true } | { readonly inject: false; readonly decision: AdmissionDecision };

/** vault-k8s ShouldInject plus the phase check, in upstream's order. */
export function shouldInject(pod: V1Pod): Gate {
  const annotations = pod.metadata?.annotations ?? {};
  const raw = annotations[A.agentInject];
  if (raw === undefined) return skip('not-requested', `${A.agentInject} is not set`);
  const inject = readValue(boolValue, raw);
  if (!inject.ok) {
    const issue: AnnotationIssue = {
      annotation: A.agentInject,
      value: raw,
      source: 'pod',
      message: inject.message,
    };
    return {
      inject: false,
      decision: {
        kind: 'deny',
        message: `error checking if should inject agent: ${formatIssue(issue)}`,
        issues: [issue],
      },
    };
  }
  if (!inject.value) return skip('not-requested', `${A.agentInject} is false`);
  if (annotations[A.agentInjectStatus] === STATUS_INJECTED)
    return skip('already-injected', `${A.agentInjectStatus} is ${STATUS_INJECTED}`);
  const phase = pod.status?.phase ?? '';
  if (phase !== '' && phase !== 'Pending') return skip('not-pending', `the pod is ${phase}, not Pending`);
  return { inject: true };
}

function skip(reason: SkipReason, message: string): Gate {
  return { inject: false, decision: { kind: 'skip', reason, message } };
}

function injectionType(spec: AgentSpec): InjectionType {
  const layout = agentLayout(spec);
  if (layout.init && layout.sidecar) return 'init_and_sidecar';
  return layout.init ? 'init_only' : 'sidecar_only';
}

/**
 * Decide for one pod. `namespace` is the admission request's namespace. Never throws for anything the
 * pod's author can cause: those become denials with a message naming what to fix.
 */
export interface DecideOptions extends MutateOptions {
  /** The pod was parsed from JSON (an AdmissionReview): the patch diff can skip its JSON round trip. */
  readonly podIsJsonData?: boolean;
}

export function decide(
  pod: V1Pod,
  namespace: string | undefined,
  defaults: InjectorDefaults = {},
  options: DecideOptions = {},
): AdmissionDecision {
  const gate = shouldInject(pod);
  if (!gate.inject) return gate.decision;

  const requestNamespace = namespace ?? pod.metadata?.namespace ?? '';
  if (requestNamespace === '')
    return { kind: 'deny', message: 'error with request namespace: namespace missing from request' };
  if (SYSTEM_NAMESPACES.includes(requestNamespace)) {
    return {
      kind: 'deny',
      message: `error with request namespace: cannot inject into system namespaces: ${requestNamespace}`,
    };
  }

  // Cost first: a pod over the caps is denied before its annotations are parsed.
  const overCap = overLimits(pod, { ...DEFAULT_REVIEW_LIMITS, ...defaults.limits });
  if (overCap !== undefined) return { kind: 'deny', message: `error creating new agent sidecar: ${overCap}` };

  let spec: AgentSpec;
  try {
    spec = parseAnnotations(pod, defaults, { namespace: requestNamespace });
  } catch (error) {
    if (error instanceof InvalidAnnotationsError) {
      return { kind: 'deny', message: `error creating new agent sidecar: ${error.message}`, issues: error.issues };
    }
    throw error;
  }

  try {
    const mutated = mutatePod(pod, spec, options);
    return {
      kind: 'inject',
      spec,
      pod: mutated,
      patch: createPatch(pod, mutated, { beforeIsJsonData: options.podIsJsonData === true }),
      injectionType: injectionType(spec),
      warnings: spec.warnings,
    };
  } catch (error) {
    if (error instanceof MutationError)
      return { kind: 'deny', message: `error creating patch for agent: ${error.message}` };
    throw error;
  }
}
