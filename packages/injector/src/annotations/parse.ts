// Pod annotations (+ cluster defaults) → AgentSpec. Every annotation is read once, here, through the
// layered reader; all problems are collected and reported together as an InvalidAnnotationsError.

import type { V1Pod } from '@kubernetes/client-node';
import { checkAnnotationDefaultKeys, clusterAnnotations, flagAnnotations, type InjectorDefaults } from './defaults.ts';
import { InvalidAnnotationsError, type AnnotationIssue } from './errors.ts';
import { parseJsonPatch } from './json-patch.ts';
import { parseMountPath } from './paths.ts';
import { AnnotationReader } from './reader.ts';
import { readSecrets, secretRawNames } from './secrets.ts';
import { findServiceAccountToken } from './service-account.ts';
import type { AgentFeature, AgentResources, AgentSpec, AuthSpec, ResourceList, VaultConnectionSpec } from './spec.ts';
import { A } from './table.ts';
import { annotationWarnings } from './warnings.ts';
import {
  parseBool,
  parseChoice,
  parseFraction,
  parseGoDuration,
  parseHttpUrl,
  parseInteger,
  parsePort,
  parseQuantity,
  parseSecondsOrDuration,
  parseTimeout,
  splitList,
  type Parsed,
} from './values.ts';

export interface ParseContext {
  /** namespace of the admission request (pods from controllers carry none yet) */
  readonly namespace?: string;
}

const MAX_ID = 2_147_483_647;
const FEATURES = ['auto-auth', 'caching', 'templating'] as const;

function nonEmptyText(raw: string): Parsed<string> {
  return raw.trim() === '' ? { rejected: true, expected: 'a non-empty value' } : raw.trim();
}

function featureList(raw: string): Parsed<AgentFeature[]> {
  const items = splitList(raw);
  const bad = items.find((item) => !(FEATURES as readonly string[]).includes(item));
  return bad === undefined ? (items as AgentFeature[]) : { rejected: true, expected: `a comma list of ${FEATURES.join(', ')}` };
}

function readResourceList(reader: AnnotationReader, names: { cpu: string[]; memory: string[]; ephemeral: string[] }): ResourceList {
  const list: { cpu?: string; memory?: string; 'ephemeral-storage'?: string } = {};
  const read = (candidates: string[]): string | undefined => {
    const found = reader.find(...candidates);
    // "" removes the resource (upstream: `agent-limits-cpu: ""` disables the CPU limit).
    return found === undefined || found.value === '' ? undefined : reader.parseFound(found, parseQuantity);
  };
  const cpu = read(names.cpu);
  const memory = read(names.memory);
  const ephemeral = read(names.ephemeral);
  if (cpu !== undefined) list.cpu = cpu;
  if (memory !== undefined) list.memory = memory;
  if (ephemeral !== undefined) list['ephemeral-storage'] = ephemeral;
  return list;
}

function readResources(reader: AnnotationReader): { init: AgentResources; sidecar: AgentResources } {
  const sidecar: AgentResources = {
    requests: readResourceList(reader, { cpu: [A.agentRequestsCpu], memory: [A.agentRequestsMem], ephemeral: [A.agentRequestsEphemeral] }),
    limits: readResourceList(reader, { cpu: [A.agentLimitsCpu], memory: [A.agentLimitsMem], ephemeral: [A.agentLimitsEphemeral] }),
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

function readSecurityContext(reader: AnnotationReader, pod: V1Pod): AgentSpec['securityContext'] {
  const runAsNames = [A.agentRunAsUser, A.agentRunAsGroup, A.agentRunAsSameUser];
  // Upstream turns the security context on when the flag is off but the pod asks for a uid/gid.
  const set =
    !reader.setByUser(A.agentSetSecurityContext) && runAsNames.some((name) => reader.setByUser(name)) ? true : (reader.parse(A.agentSetSecurityContext, parseBool) ?? true);
  let runAsUser = reader.parse(A.agentRunAsUser, (raw) => parseInteger(raw, 0, MAX_ID)) ?? 0;
  const runAsGroup = reader.parse(A.agentRunAsGroup, (raw) => parseInteger(raw, 0, MAX_ID)) ?? 0;
  if (reader.parse(A.agentRunAsSameUser, parseBool) === true) {
    const first = pod.spec?.containers?.[0];
    const uid = first?.securityContext?.runAsUser;
    const found = reader.find(A.agentRunAsSameUser);
    if (first === undefined) reader.fail(A.agentRunAsSameUser, 'the pod has no containers to copy runAsUser from', found);
    else if (uid === undefined) reader.fail(A.agentRunAsSameUser, `container "${first.name}" sets no securityContext.runAsUser to copy`, found);
    else if (uid === 0) reader.fail(A.agentRunAsSameUser, `container "${first.name}" runs as root (runAsUser 0); the agent may not`, found);
    else runAsUser = uid;
  }
  return set ? { runAsUser, runAsGroup } : undefined;
}

function readInjectContainers(reader: AnnotationReader, pod: V1Pod): string[] {
  const all = (pod.spec?.containers ?? []).map((c) => c.name);
  const found = reader.find(A.agentInjectContainers);
  if (found === undefined) return all;
  const names = splitList(found.value);
  const unknown = names.filter((name) => !all.includes(name));
  if (unknown.length > 0) reader.fail(found.name, `names no container of the pod (${unknown.join(', ')}); containers: ${all.join(', ') || 'none'}`, found);
  return names.filter((name) => all.includes(name));
}

function readShareProcessNamespace(reader: AnnotationReader, pod: V1Pod): boolean | undefined {
  const value = reader.parse(A.agentShareProcessNamespace, parseBool);
  if (value === true && pod.spec?.shareProcessNamespace === false) {
    reader.fail(A.agentShareProcessNamespace, 'the pod sets spec.shareProcessNamespace: false; refusing to enable it', reader.find(A.agentShareProcessNamespace));
  }
  return value;
}

function readCopyVolumeMounts(reader: AnnotationReader, pod: V1Pod): string | undefined {
  const found = reader.find(A.agentCopyVolumeMounts);
  if (found === undefined || found.value.trim() === '') return undefined;
  const name = found.value.trim();
  const names = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => c.name);
  if (!names.includes(name)) reader.fail(found.name, `names no container or init container of the pod; containers: ${names.join(', ') || 'none'}`, found);
  return name;
}

/** Base64 PEM is accepted as upstream does (`-vault-cacert-bytes`). */
function caCertPem(bytes: string | undefined): string | undefined {
  if (bytes === undefined || bytes.trim() === '') return undefined;
  if (bytes.includes('-----BEGIN')) return bytes;
  const decoded = Buffer.from(bytes, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : bytes;
}

function readVault(reader: AnnotationReader, defaults: InjectorDefaults): VaultConnectionSpec {
  const address = reader.parse(A.service, parseHttpUrl);
  if (reader.find(A.service) === undefined) {
    reader.issues.push({
      annotation: A.service,
      source: 'flag',
      message: 'no Vault address: set this annotation on the pod or the injector\'s --vault-addr (AGENT_INJECT_VAULT_ADDR)',
    });
  }
  const optional = (name: string): string | undefined => reader.nonEmpty(name)?.trim();
  const vault: VaultConnectionSpec = {
    address: address ?? '',
    namespace: optional(A.namespace),
    proxyAddress: optional(A.proxyAddress),
    caCert: optional(A.caCert),
    caPath: optional(A.caKey),
    caCertPem: caCertPem(defaults.vaultCACertBytes),
    clientCert: optional(A.clientCert),
    clientKey: optional(A.clientKey),
    tlsSkipVerify: reader.parse(A.tlsSkipVerify, parseBool) ?? false,
    tlsServerName: optional(A.tlsServerName),
    maxRetries: reader.nonEmpty(A.clientMaxRetries) === undefined ? undefined : reader.parse(A.clientMaxRetries, (raw) => parseInteger(raw, 0, 100)),
    timeoutMs: reader.nonEmpty(A.clientTimeout) === undefined ? undefined : reader.parse(A.clientTimeout, parseTimeout),
  };
  return withoutUndefined(vault);
}

function readAuth(reader: AnnotationReader, usesConfigMap: boolean): AuthSpec {
  const type = reader.parse(A.authType, (raw): Parsed<'kubernetes'> => {
    const choice = parseChoice(raw, ['kubernetes'] as const);
    return typeof choice === 'string' ? choice : { rejected: true, expected: 'kubernetes (the only auth method the vaultbridge agent implements)' };
  });
  const mountPath = reader.parse(A.authPath, nonEmptyText)?.replace(/^\/+|\/+$/g, '');
  const config: Record<string, string> = {};
  const prefix = `${A.authConfig}-`;
  for (const [name, value] of [...reader.pod].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name.startsWith(prefix) && name.length > prefix.length) config[name.slice(prefix.length).replaceAll('-', '_')] = value;
  }
  const role = reader.nonEmpty(A.role)?.trim() ?? (config.role?.trim() || undefined);
  if (role === undefined && !usesConfigMap) {
    reader.fail(A.role, `required: the Vault role to log in with (or ${A.authConfig}-role)`);
  }
  const minBackoffMs = reader.nonEmpty(A.authMinBackoff) === undefined ? undefined : reader.parse(A.authMinBackoff, parseGoDuration);
  const maxBackoffMs = reader.nonEmpty(A.authMaxBackoff) === undefined ? undefined : reader.parse(A.authMaxBackoff, parseGoDuration);
  const auth: AuthSpec = {
    type: type ?? 'kubernetes',
    mountPath: mountPath ?? 'auth/kubernetes',
    role,
    config,
    minBackoffMs,
    maxBackoffMs,
    exitOnError: reader.parse(A.agentAutoAuthExitOnErr, parseBool) ?? false,
  };
  return withoutUndefined(auth);
}

function readTelemetry(reader: AnnotationReader): Record<string, unknown> {
  const telemetry: Record<string, unknown> = {};
  const prefix = `${A.agentTelemetry}-`;
  for (const [name, value] of [...reader.pod].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!name.startsWith(prefix) || name.length === prefix.length) continue;
    let parsed: unknown = value;
    try {
      parsed = JSON.parse(value);
    } catch {
      // Plain strings are valid telemetry values; upstream keeps them as written too.
    }
    telemetry[name.slice(prefix.length).replaceAll('-', '_')] = parsed;
  }
  return telemetry;
}

/** Drop keys whose value is undefined, so the spec (and the JSON made from it) has no empty keys. */
function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}

function readerFor(pod: V1Pod, defaults: InjectorDefaults): AnnotationReader {
  return new AnnotationReader([
    { source: 'pod', values: new Map(Object.entries(pod.metadata?.annotations ?? {})) },
    { source: 'cluster default', values: clusterAnnotations(defaults) },
    { source: 'flag', values: flagAnnotations(defaults) },
  ]);
}

/**
 * Read a pod's `vault.hashicorp.com/*` annotations into an AgentSpec, with `defaults` under them.
 * Throws InvalidAnnotationsError listing every invalid annotation with the accepted values.
 * Does not decide whether to inject (see admission/decide.ts).
 */
export function parseAnnotations(pod: V1Pod, defaults: InjectorDefaults = {}, context: ParseContext = {}): AgentSpec {
  const reader = readerFor(pod, defaults);
  const optional = (name: string): string | undefined => reader.nonEmpty(name)?.trim();

  const configMap = optional(A.agentConfigmap);
  const secretVolumePath = reader.parse(A.secretVolumePath, parseMountPath) ?? '/vault/secrets';
  const defaultTemplate = reader.parse(A.agentInjectDefaultTemplate, (raw) => parseChoice(raw, ['map', 'json'] as const)) ?? 'map';
  const preserveCase = reader.parse(A.preserveSecretCase, parseBool) ?? false;

  const tokenVolumeName = optional(A.agentServiceAccountTokenVolumeName);
  const serviceAccount = findServiceAccountToken(pod, tokenVolumeName);
  if (!serviceAccount.ok) reader.fail(A.agentServiceAccountTokenVolumeName, serviceAccount.message, reader.find(A.agentServiceAccountTokenVolumeName));

  const auth = readAuth(reader, configMap !== undefined);
  const tokenPathOverride = auth.config.token_path?.trim();
  const serviceAccountToken = serviceAccount.ok
    ? { ...serviceAccount.token, ...(tokenPathOverride ? { tokenPath: tokenPathOverride } : {}) }
    : { volumeName: '', mountPath: '', tokenPath: '' };

  const maxConnectionsPerHost = reader.nonEmpty(A.templateMaxConnectionsPerHost) === undefined ? undefined : reader.parse(A.templateMaxConnectionsPerHost, (raw) => parseInteger(raw, 0));
  const leaseRenewalThreshold = reader.nonEmpty(A.templateLeaseRenewalThreshold) === undefined ? undefined : reader.parse(A.templateLeaseRenewalThreshold, parseFraction);
  const staticSecretRenderIntervalMs =
    reader.nonEmpty(A.templateStaticSecretRenderInterval) === undefined ? undefined : reader.parse(A.templateStaticSecretRenderInterval, parseGoDuration);
  const cacheToken = reader.parse(A.agentCacheUseAutoAuthToken, (raw): Parsed<'true' | 'false' | 'force'> => {
    if (raw === 'force') return 'force';
    const bool = parseBool(raw);
    return typeof bool === 'boolean' ? (bool ? 'true' : 'false') : { rejected: true, expected: `force, or ${bool.expected}` };
  });

  const annotations = reader.pod;
  const spec: AgentSpec = {
    namespace: context.namespace ?? pod.metadata?.namespace ?? 'default',
    image: reader.parse(A.agentImage, nonEmptyText) ?? '',
    nativeSidecar: reader.parse(A.agentNativeSidecar, parseBool) ?? false,
    prePopulate: reader.parse(A.agentPrePopulate, parseBool) ?? true,
    prePopulateOnly: reader.parse(A.agentPrePopulateOnly, parseBool) ?? false,
    initFirst: reader.parse(A.agentInitFirst, parseBool) ?? false,
    injectContainers: readInjectContainers(reader, pod),
    shareProcessNamespace: readShareProcessNamespace(reader, pod),
    configMap,
    extraSecret: optional(A.agentExtraSecret),
    tlsSecret: optional(A.tlsSecret),
    copyVolumeMountsFrom: readCopyVolumeMounts(reader, pod),
    serviceAccountToken,
    resources: readResources(reader),
    securityContext: readSecurityContext(reader, pod),
    jsonPatch: (reader.nonEmpty(A.agentJsonPatch) === undefined ? undefined : reader.parse(A.agentJsonPatch, parseJsonPatch)) ?? [],
    initJsonPatch: (reader.nonEmpty(A.agentInitJsonPatch) === undefined ? undefined : reader.parse(A.agentInitJsonPatch, parseJsonPatch)) ?? [],
    goMaxProcs: reader.nonEmpty(A.goMaxProcs) === undefined ? undefined : reader.parse(A.goMaxProcs, (raw) => parseInteger(raw, 1)),
    log: {
      level: reader.parse(A.logLevel, (raw) => parseChoice(raw, ['trace', 'debug', 'info', 'warn', 'error'] as const)) ?? 'info',
      format: reader.parse(A.logFormat, (raw) => parseChoice(raw, ['standard', 'json'] as const)) ?? 'standard',
    },
    vault: readVault(reader, defaults),
    auth,
    secretVolumePath,
    secrets: readSecrets(reader, { mountPath: secretVolumePath, defaultTemplate, preserveCase }),
    injectToken: reader.parse(A.agentInjectToken, parseBool) ?? false,
    revokeOnShutdown: reader.parse(A.agentRevokeOnShutdown, parseBool) ?? false,
    revokeGraceSeconds: reader.parse(A.agentRevokeGrace, parseSecondsOrDuration) ?? 5,
    enableQuit: reader.parse(A.agentEnableQuit, parseBool) ?? false,
    templateConfig: withoutUndefined({
      exitOnRetryFailure: reader.parse(A.templateConfigExitOnRetryFailure, parseBool) ?? true,
      staticSecretRenderIntervalMs,
      // 0 means "not set" upstream, so it is left out of the agent config.
      maxConnectionsPerHost: maxConnectionsPerHost === 0 ? undefined : maxConnectionsPerHost,
      leaseRenewalThreshold: leaseRenewalThreshold === 0 ? undefined : leaseRenewalThreshold,
    }),
    cache: {
      enabled: reader.parse(A.agentCacheEnable, parseBool) ?? false,
      useAutoAuthToken: cacheToken ?? 'true',
      listenerPort: reader.parse(A.agentCacheListenerPort, parsePort) ?? 8200,
      exitOnError: reader.parse(A.agentCacheExitOnErr, parseBool) ?? false,
    },
    metricsListenerPort: reader.nonEmpty(A.agentMetricsListenerPort) === undefined ? undefined : reader.parse(A.agentMetricsListenerPort, parsePort),
    disableIdleConnections: (reader.nonEmpty(A.agentDisableIdleConnections) === undefined ? undefined : reader.parse(A.agentDisableIdleConnections, featureList)) ?? [],
    disableKeepAlives: (reader.nonEmpty(A.agentDisableKeepAlives) === undefined ? undefined : reader.parse(A.agentDisableKeepAlives, featureList)) ?? [],
    telemetry: readTelemetry(reader),
    warnings: annotationWarningsFor(annotations),
  };
  if (reader.issues.length > 0) throw new InvalidAnnotationsError(reader.issues);
  return withoutUndefined(spec);
}

function annotationWarningsFor(annotations: ReadonlyMap<string, string>): string[] {
  return annotationWarnings(annotations, secretRawNames(annotations));
}

/**
 * Problems in the injector's own defaults (flags and cluster annotation defaults), for the webhook to
 * refuse to start with. Pod-specific findings are left out.
 */
export function checkInjectorDefaults(defaults: InjectorDefaults): AnnotationIssue[] {
  const issues = checkAnnotationDefaultKeys(defaults);
  const probe: V1Pod = {
    metadata: { annotations: { [A.role]: 'probe' } },
    spec: { containers: [{ name: 'probe', volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }] },
  };
  try {
    parseAnnotations(probe, defaults, { namespace: 'default' });
  } catch (error) {
    if (!(error instanceof InvalidAnnotationsError)) throw error;
    issues.push(...error.issues.filter((issue) => issue.source !== 'pod'));
  }
  return issues;
}
