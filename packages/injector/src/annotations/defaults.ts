// Cluster-wide defaults. vault-k8s copies its flags into the pod's annotations when they are absent
// (agent.Init); we do the same with one more layer above the flags: annotation defaults from a ConfigMap
// (vault-k8s #35, #283). Every layer is read through the same parsers, so a bad default is reported with
// the annotation it stands for. Precedence: pod > cluster annotation defaults > flags > built-in table.

import { A, ANNOTATION_PREFIX, podWideEntry } from './table.ts';
import type { AnnotationIssue } from './errors.ts';
import type { ReviewLimits } from '../admission/limits.ts';

export interface ResourceDefaults {
  readonly requestsCpu?: string;
  readonly requestsMem?: string;
  readonly requestsEphemeral?: string;
  readonly limitsCpu?: string;
  readonly limitsMem?: string;
  readonly limitsEphemeral?: string;
}

/** Injector-wide defaults from flags/env (upstream `AGENT_INJECT_*` names in brackets). All optional. */
export interface InjectorDefaults {
  /** [AGENT_INJECT_VAULT_ADDR] Vault address; required unless every pod sets `service` */
  readonly vaultAddress?: string;
  /** [AGENT_INJECT_VAULT_CACERT_BYTES] PEM (or base64 PEM) CA handed to the agents in their config */
  readonly vaultCACertBytes?: string;
  /** [AGENT_INJECT_PROXY_ADDR] */
  readonly proxyAddress?: string;
  /** [AGENT_INJECT_VAULT_IMAGE] agent image */
  readonly agentImage?: string;
  /**
   * [AGENT_INJECT_VAULT_AGENT_IMAGE] (ours) image of `agent-kind: vault` pods that set no `agent-image`;
   * unset: `agentImage` unless it is our agent's default, else upstream's `hashicorp/vault` image
   */
  readonly vaultAgentImage?: string;
  /** [AGENT_INJECT_VAULT_AUTH_TYPE] */
  readonly authType?: string;
  /** [AGENT_INJECT_VAULT_AUTH_PATH] */
  readonly authPath?: string;
  /** [AGENT_INJECT_VAULT_NAMESPACE] */
  readonly vaultNamespace?: string;
  /** [AGENT_INJECT_REVOKE_ON_SHUTDOWN] */
  readonly revokeOnShutdown?: boolean;
  /** [AGENT_INJECT_RUN_AS_USER] */
  readonly runAsUser?: number;
  /** [AGENT_INJECT_RUN_AS_GROUP] */
  readonly runAsGroup?: number;
  /** [AGENT_INJECT_RUN_AS_SAME_USER] */
  readonly runAsSameUser?: boolean;
  /** [AGENT_INJECT_SET_SECURITY_CONTEXT] */
  readonly setSecurityContext?: boolean;
  /** [AGENT_INJECT_DEFAULT_TEMPLATE] `map` or `json` */
  readonly defaultTemplate?: string;
  /** [AGENT_INJECT_CPU_REQUEST, _MEM_REQUEST, ...] both agents */
  readonly resources?: ResourceDefaults;
  /** init container only (ours); falls back to `resources` */
  readonly initResources?: ResourceDefaults;
  /** [AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE] */
  readonly exitOnRetryFailure?: boolean;
  /** [AGENT_INJECT_TEMPLATE_STATIC_SECRET_RENDER_INTERVAL] Go duration */
  readonly staticSecretRenderInterval?: string;
  /** [AGENT_INJECT_TEMPLATE_MAX_CONNECTIONS_PER_HOST] */
  readonly maxConnectionsPerHost?: number;
  /** [AGENT_INJECT_TEMPLATE_LEASE_RENEWAL_THRESHOLD] applied, unlike upstream */
  readonly leaseRenewalThreshold?: number;
  /** [AGENT_INJECT_AUTH_MIN_BACKOFF] Go duration */
  readonly authMinBackoff?: string;
  /** [AGENT_INJECT_AUTH_MAX_BACKOFF] Go duration */
  readonly authMaxBackoff?: string;
  /** [AGENT_INJECT_DISABLE_IDLE_CONNECTIONS] comma list */
  readonly disableIdleConnections?: string;
  /** [AGENT_INJECT_DISABLE_KEEP_ALIVES] comma list */
  readonly disableKeepAlives?: string;
  /** what one review may cost (ours; admission/limits.ts); unset fields keep their defaults */
  readonly limits?: Partial<ReviewLimits>;
  /** native sidecar mode for every pod that does not say otherwise (ours) */
  readonly nativeSidecar?: boolean;
  /** [AGENT_INJECT_AGENT_KIND] `vaultbridge` or `vault` (ours) */
  readonly agentKind?: string;
  /**
   * Cluster-wide annotation defaults (e.g. from a ConfigMap), keyed by full name or by the part after
   * `vault.hashicorp.com/`. Only pod-wide annotations may be defaulted; see `checkAnnotationDefaults`.
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

function put(target: Map<string, string>, name: string, value: string | number | boolean | undefined): void {
  if (value !== undefined) target.set(name, String(value));
}

function putResources(target: Map<string, string>, resources: ResourceDefaults | undefined, init: boolean): void {
  if (resources === undefined) return;
  put(target, init ? A.agentInitRequestsCpu : A.agentRequestsCpu, resources.requestsCpu);
  put(target, init ? A.agentInitRequestsMem : A.agentRequestsMem, resources.requestsMem);
  put(target, init ? A.agentInitRequestsEphemeral : A.agentRequestsEphemeral, resources.requestsEphemeral);
  put(target, init ? A.agentInitLimitsCpu : A.agentLimitsCpu, resources.limitsCpu);
  put(target, init ? A.agentInitLimitsMem : A.agentLimitsMem, resources.limitsMem);
  put(target, init ? A.agentInitLimitsEphemeral : A.agentLimitsEphemeral, resources.limitsEphemeral);
}

/** The flag layer as annotation values, exactly as upstream's Init() writes them. */
export function flagAnnotations(defaults: InjectorDefaults): ReadonlyMap<string, string> {
  const layer = new Map<string, string>();
  put(layer, A.service, defaults.vaultAddress);
  put(layer, A.proxyAddress, defaults.proxyAddress);
  put(layer, A.agentImage, defaults.agentImage);
  put(layer, A.authType, defaults.authType);
  put(layer, A.authPath, defaults.authPath);
  put(layer, A.namespace, defaults.vaultNamespace);
  put(layer, A.agentRevokeOnShutdown, defaults.revokeOnShutdown);
  put(layer, A.agentRunAsUser, defaults.runAsUser);
  put(layer, A.agentRunAsGroup, defaults.runAsGroup);
  put(layer, A.agentRunAsSameUser, defaults.runAsSameUser);
  put(layer, A.agentSetSecurityContext, defaults.setSecurityContext);
  put(layer, A.agentInjectDefaultTemplate, defaults.defaultTemplate);
  putResources(layer, defaults.resources, false);
  putResources(layer, defaults.initResources, true);
  put(layer, A.templateConfigExitOnRetryFailure, defaults.exitOnRetryFailure);
  put(layer, A.templateStaticSecretRenderInterval, defaults.staticSecretRenderInterval);
  put(layer, A.templateMaxConnectionsPerHost, defaults.maxConnectionsPerHost);
  put(layer, A.templateLeaseRenewalThreshold, defaults.leaseRenewalThreshold);
  put(layer, A.authMinBackoff, defaults.authMinBackoff);
  put(layer, A.authMaxBackoff, defaults.authMaxBackoff);
  put(layer, A.agentDisableIdleConnections, defaults.disableIdleConnections);
  put(layer, A.agentDisableKeepAlives, defaults.disableKeepAlives);
  put(layer, A.agentNativeSidecar, defaults.nativeSidecar);
  put(layer, A.agentKind, defaults.agentKind);
  return layer;
}

function fullName(key: string): string {
  return key.startsWith(ANNOTATION_PREFIX) ? key : ANNOTATION_PREFIX + key;
}

/** The cluster annotation-default layer with full names; keys that may not be defaulted are left out. */
export function clusterAnnotations(defaults: InjectorDefaults): ReadonlyMap<string, string> {
  const layer = new Map<string, string>();
  for (const [key, value] of Object.entries(defaults.annotations ?? {})) {
    const name = fullName(key);
    if (podWideEntry(name)?.clusterDefault === true) layer.set(name, value);
  }
  return layer;
}

/**
 * Keys of the cluster annotation defaults that cannot be defaulted: unknown names, per-secret
 * annotations (they would add a secret to every pod) and the control annotations (`agent-inject`,
 * `agent-inject-status`). Values are checked by `checkInjectorDefaults` in parse.ts.
 */
export function checkAnnotationDefaultKeys(defaults: InjectorDefaults): AnnotationIssue[] {
  const issues: AnnotationIssue[] = [];
  for (const key of Object.keys(defaults.annotations ?? {})) {
    const name = fullName(key);
    const entry = podWideEntry(name);
    if (entry === undefined) {
      issues.push({
        annotation: name,
        source: 'cluster default',
        message: 'not a pod-wide vault.hashicorp.com annotation, so it cannot have a cluster default',
      });
    } else if (!entry.clusterDefault) {
      issues.push({
        annotation: name,
        source: 'cluster default',
        message: 'controls injection per pod and cannot have a cluster default',
      });
    }
  }
  return issues;
}
