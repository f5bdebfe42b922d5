// The typed result of reading a pod's annotations: everything the mutation needs, already validated,
// with defaults applied. Nothing downstream looks at annotation strings again.

import type { Operation } from 'fast-json-patch';

import {
  AUTH_TYPES,
  type AgentFeature,
  type AgentLogFormat,
  type AgentLogLevel,
  type AuthType,
  type CacheAutoAuthToken,
  type SecretRendering,
  type VaultConnectionSpec,
} from '@vaultbridge/agent/contract';

// The types the agent's config shares are the contract's; re-exported so the annotation side reads whole.
export { AUTH_TYPES } from '@vaultbridge/agent/contract';
export type {
  AgentFeature,
  AgentLogFormat,
  AgentLogLevel,
  AuthType,
  CacheAutoAuthToken,
  DefaultTemplate,
  VaultConnectionSpec,
} from '@vaultbridge/agent/contract';
export const AGENT_KINDS = ['vaultbridge', 'vault'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];
/** Vault Agent 1.13's auto-auth methods: what `agent-kind: vault` accepts (vault-k8s passes any through). */
export const VAULT_AGENT_AUTH_TYPES = [
  'alicloud',
  'approle',
  'aws',
  'azure',
  'cert',
  'cf',
  'gcp',
  'jwt',
  'kerberos',
  'kubernetes',
  'oci',
  'token_file',
] as const;
export type VaultAgentAuthType = (typeof VAULT_AGENT_AUTH_TYPES)[number];

/** Whether `vaultbridge-agent` implements the method (the contract's AUTH_TYPES). */
export function isAuthType(type: string): type is AuthType {
  return (AUTH_TYPES as readonly string[]).includes(type);
}

/** Kubernetes resource quantities, as written; absent keys are not set on the container. */
export interface ResourceList {
  readonly cpu?: string;
  readonly memory?: string;
  readonly 'ephemeral-storage'?: string;
}

export interface AgentResources {
  readonly requests: ResourceList;
  readonly limits: ResourceList;
}

/** One secret as parsed from its annotations: how to render it (the contract's SecretRendering, which
 *  the agent's config shares) plus where it came from. */
export interface SecretSpec extends SecretRendering {
  /** the suffix exactly as written after `agent-inject-secret-` (per-secret annotations use it);
   *  `name` is it lower-cased unless `preserve-secret-case` */
  readonly rawName: string;
  /** Vault path from `agent-inject-secret-<name>`; absent when only a template defines the secret */
  readonly vaultPath?: string;
  /** directory the file is written in (the pod-wide or per-secret secret-volume-path) */
  readonly mountPath: string;
  /** path relative to `mountPath` (no `..`, not absolute); `destination` is mountPath + file */
  readonly file: string;
}

export interface ServiceAccountTokenSpec {
  /** pod volume holding the token, mounted read-only into the agents */
  readonly volumeName: string;
  /** where the agents mount it */
  readonly mountPath: string;
  /** token file the agent logs in with (mountPath + projected path, or `auth-config-token-path`) */
  readonly tokenPath: string;
}

export interface AuthSpec {
  /** one of AUTH_TYPES for our agent; any Vault Agent method with `agent-kind: vault` */
  readonly type: VaultAgentAuthType;
  readonly mountPath: string;
  readonly role?: string;
  /** `auth-config-<param>` values with `-` turned into `_`, as strings */
  readonly config: Readonly<Record<string, string>>;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly exitOnError: boolean;
}

export interface AgentSpec {
  /** namespace of the admission request */
  readonly namespace: string;
  readonly image: string;
  readonly nativeSidecar: boolean;
  /** `vaultbridge`: our agent; `vault`: HashiCorp's (or OpenBao's) Vault Agent with vault-k8s's config */
  readonly agentKind: AgentKind;
  readonly prePopulate: boolean;
  readonly prePopulateOnly: boolean;
  /** agent-handover (ours): init hands its token and leases to the sidecar without the cache too */
  readonly handover: boolean;
  readonly initFirst: boolean;
  /** app containers that get the secrets volume */
  readonly injectContainers: readonly string[];
  /** value for spec.shareProcessNamespace, when the annotation is set */
  readonly shareProcessNamespace?: boolean;
  readonly configMap?: string;
  readonly extraSecret?: string;
  readonly tlsSecret?: string;
  /** container whose volume mounts are copied into the agents */
  readonly copyVolumeMountsFrom?: string;
  readonly serviceAccountToken: ServiceAccountTokenSpec;
  /** auth-type aws (EKS IRSA, as vault-k8s): the app containers' web-identity token mount and AWS_* env, copied into the agents */
  readonly awsWebIdentity?: {
    readonly volumeMount?: { readonly name: string; readonly mountPath: string };
    readonly env: readonly { readonly name: string; readonly value: string }[];
  };
  readonly resources: { readonly init: AgentResources; readonly sidecar: AgentResources };
  /** undefined when `agent-set-security-context` is false */
  readonly securityContext?: { readonly runAsUser: number; readonly runAsGroup: number };
  readonly jsonPatch: readonly Operation[];
  readonly initJsonPatch: readonly Operation[];
  readonly goMaxProcs?: number;
  readonly log: { readonly level: AgentLogLevel; readonly format: AgentLogFormat };
  readonly vault: VaultConnectionSpec;
  readonly auth: AuthSpec;
  /** pod-wide secret-volume-path */
  readonly secretVolumePath: string;
  /** sorted by raw name, so output does not depend on annotation order */
  readonly secrets: readonly SecretSpec[];
  readonly injectToken: boolean;
  readonly revokeOnShutdown: boolean;
  readonly revokeGraceSeconds: number;
  readonly enableQuit: boolean;
  readonly templateConfig: {
    readonly exitOnRetryFailure: boolean;
    readonly staticSecretRenderIntervalMs?: number;
    readonly maxConnectionsPerHost?: number;
    readonly leaseRenewalThreshold?: number;
  };
  readonly cache: {
    readonly enabled: boolean;
    readonly useAutoAuthToken: CacheAutoAuthToken;
    readonly listenerPort: number;
    readonly exitOnError: boolean;
  };
  readonly metricsListenerPort?: number;
  readonly disableIdleConnections: readonly AgentFeature[];
  readonly disableKeepAlives: readonly AgentFeature[];
  readonly telemetry: Readonly<Record<string, unknown>>;
  /** non-fatal findings (unknown annotations, per-secret annotations for no secret) for the response */
  readonly warnings: readonly string[];
}
