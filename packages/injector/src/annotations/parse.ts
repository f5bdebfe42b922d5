// Pod annotations (+ cluster defaults) → AgentSpec. Every annotation is read once, here, through the
// layered reader; all problems are collected and reported together as an InvalidAnnotationsError.

import type { V1Pod } from '@kubernetes/client-node';
import { readResources, readSecurityContext } from './agent-shape.ts';
import { withoutUndefined } from './compact.ts';
import { readAuth, readVault } from './connection.ts';
import { checkEnvSecrets } from './env.ts';
import { checkAnnotationDefaultKeys, clusterAnnotations, flagAnnotations, type InjectorDefaults } from './defaults.ts';
import { InvalidAnnotationsError, type AnnotationIssue } from './errors.ts';
import { jsonPatchValue } from './json-patch.ts';
import { mountPathValue } from './paths.ts';
import { readCopyVolumeMounts, readInjectContainers, readShareProcessNamespace } from './pod-shape.ts';
import { AnnotationReader, FixedLayer } from './reader.ts';
import { readSecrets, secretRawNames } from './secrets.ts';
import { findServiceAccountToken } from './service-account.ts';
import { AGENT_KINDS, type AgentFeature, type AgentSpec } from './spec.ts';
import { A, DEFAULT_AGENT_IMAGE, DEFAULT_VAULT_AGENT_IMAGE } from './table.ts';
import { parseBool, splitList, type Parsed } from '@vaultbridge/agent/contract';
import {
  agentLogLevelValue,
  boolValue,
  choiceValue,
  fractionValue,
  goDurationValue,
  integerValue,
  nonEmptyValue,
  portValue,
  secondsOrDurationValue,
  valueSyntax,
} from './values.ts';
import { annotationWarnings } from './warnings.ts';

export interface ParseContext {
  /** namespace of the admission request (pods from controllers carry none yet) */
  readonly namespace?: string;
}

const FEATURES = ['auto-auth', 'caching', 'templating'] as const;

const featureList = valueSyntax((raw): Parsed<AgentFeature[]> => {
  const items = splitList(raw);
  const bad = items.find((item) => !(FEATURES as readonly string[]).includes(item));
  return bad === undefined
    ? (items as AgentFeature[])
    : { rejected: true, expected: `a comma list of ${FEATURES.join(', ')}` };
});

const templateKind = choiceValue(['map', 'json'] as const);
const agentKindValue = choiceValue(AGENT_KINDS);
const logFormat = choiceValue(['standard', 'json'] as const);
const atLeastZero = integerValue(0);
const atLeastOne = integerValue(1);
// agent-cache-use-auto-auth-token: a Go boolean, or `force`.
const cacheTokenValue = valueSyntax((raw): Parsed<'true' | 'false' | 'force'> => {
  if (raw === 'force') return 'force';
  const bool = parseBool(raw);
  return typeof bool === 'boolean'
    ? bool
      ? 'true'
      : 'false'
    : { rejected: true, expected: `force, or ${bool.expected}` };
});

function readTelemetry(reader: AnnotationReader): Record<string, unknown> {
  const telemetry: Record<string, unknown> = {};
  const prefix = `${A.agentTelemetry}-`;
  for (const [name, value] of reader.podWithPrefix(prefix)) {
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

/**
 * The layers under the pod's, built once per defaults object: the webhook reads the same defaults for
 * every review until the ConfigMap (or a worker's copy of it) changes, and the layers keep what their
 * values read as (reader.ts, FixedLayer).
 */
const fixedLayersOf = new WeakMap<InjectorDefaults, readonly FixedLayer[]>();

function fixedLayers(defaults: InjectorDefaults): readonly FixedLayer[] {
  let layers = fixedLayersOf.get(defaults);
  if (layers === undefined) {
    layers = [
      new FixedLayer('cluster default', clusterAnnotations(defaults)),
      new FixedLayer('flag', flagAnnotations(defaults)),
    ];
    fixedLayersOf.set(defaults, layers);
  }
  return layers;
}

function readerFor(pod: V1Pod, defaults: InjectorDefaults): AnnotationReader {
  // The API server only sends string values; anything else is ignored rather than trusted.
  const annotations = pod.metadata?.annotations ?? {};
  const values = new Map<string, string>();
  for (const name of Object.keys(annotations)) {
    const value: unknown = annotations[name];
    if (typeof value === 'string') values.set(name, value);
  }
  return new AnnotationReader({ source: 'pod', values }, fixedLayers(defaults));
}

/**
 * The image of an `agent-kind: vault` pod. The pod's (or a cluster default's) `agent-image` wins; else
 * `--vault-agent-image`; else the `--vault-image` flag when it is not our agent's (vault-helm sets
 * HashiCorp's image there); else upstream's image, since ours has no `vault` binary. Without the second
 * step a webhook whose `--vault-image` is our agent from a private registry would give a pod that asks
 * for Vault Agent an image without it.
 */
function vaultAgentImage(reader: AnnotationReader, defaults: InjectorDefaults, image: string): string {
  if (reader.setByUser(A.agentImage)) return image;
  if (defaults.vaultAgentImage !== undefined) return defaults.vaultAgentImage;
  return image === DEFAULT_AGENT_IMAGE ? DEFAULT_VAULT_AGENT_IMAGE : image;
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
  const secretVolumePath = reader.parse(A.secretVolumePath, mountPathValue) ?? '/vault/secrets';
  const defaultTemplate = reader.parse(A.agentInjectDefaultTemplate, templateKind) ?? 'map';
  const preserveCase = reader.parse(A.preserveSecretCase, boolValue) ?? false;

  const tokenVolumeName = optional(A.agentServiceAccountTokenVolumeName);
  const serviceAccount = findServiceAccountToken(pod, tokenVolumeName);
  if (!serviceAccount.ok)
    reader.fail(
      A.agentServiceAccountTokenVolumeName,
      serviceAccount.message,
      reader.find(A.agentServiceAccountTokenVolumeName),
    );

  // `auth-config-token-path` is where the agent reads the JWT from, not a login parameter: it becomes the
  // token path and leaves the auth config (the agent would otherwise report it as an ignored extra).
  // For jwt, Vault Agent reads the JWT from `path` (auth-config-path): the same role, for the same reason.
  const agentKind = reader.parse(A.agentKind, agentKindValue) ?? 'vaultbridge';
  const parsedAuth = readAuth(reader, configMap !== undefined, agentKind);
  const { token_path: tokenPathParam, ...withoutTokenPath } = parsedAuth.config;
  const { path: jwtPathParam, ...jwtConfig } = withoutTokenPath;
  const authConfig = parsedAuth.type === 'jwt' ? jwtConfig : withoutTokenPath;
  const auth = { ...parsedAuth, config: authConfig };
  const tokenPathOverride = (parsedAuth.type === 'jwt' ? jwtPathParam?.trim() : undefined) || tokenPathParam?.trim();
  const serviceAccountToken = serviceAccount.ok
    ? { ...serviceAccount.token, ...(tokenPathOverride ? { tokenPath: tokenPathOverride } : {}) }
    : { volumeName: '', mountPath: '', tokenPath: '' };

  const maxConnectionsPerHost = reader.parseOptional(A.templateMaxConnectionsPerHost, atLeastZero);
  const leaseRenewalThreshold = reader.parseOptional(A.templateLeaseRenewalThreshold, fractionValue);
  const staticSecretRenderIntervalMs = reader.parseOptional(A.templateStaticSecretRenderInterval, goDurationValue);
  const cacheToken = reader.parse(A.agentCacheUseAutoAuthToken, cacheTokenValue);

  const annotations = reader.pod;
  const image = reader.parse(A.agentImage, nonEmptyValue) ?? '';
  const spec: AgentSpec = {
    namespace: context.namespace ?? pod.metadata?.namespace ?? 'default',
    image: agentKind === 'vault' ? vaultAgentImage(reader, defaults, image) : image,
    agentKind,
    nativeSidecar: reader.parse(A.agentNativeSidecar, boolValue) ?? false,
    prePopulate: reader.parse(A.agentPrePopulate, boolValue) ?? true,
    prePopulateOnly: reader.parse(A.agentPrePopulateOnly, boolValue) ?? false,
    handover: reader.parse(A.agentHandover, boolValue) ?? true,
    initFirst: reader.parse(A.agentInitFirst, boolValue) ?? false,
    injectContainers: readInjectContainers(reader, pod),
    shareProcessNamespace: readShareProcessNamespace(reader, pod),
    configMap,
    extraSecret: optional(A.agentExtraSecret),
    tlsSecret: optional(A.tlsSecret),
    copyVolumeMountsFrom: readCopyVolumeMounts(reader, pod),
    serviceAccountToken,
    ...(auth.type === 'aws' ? { awsWebIdentity: awsWebIdentity(pod) } : {}),
    resources: readResources(reader),
    securityContext: readSecurityContext(reader, pod),
    jsonPatch: reader.parseOptional(A.agentJsonPatch, jsonPatchValue) ?? [],
    initJsonPatch: reader.parseOptional(A.agentInitJsonPatch, jsonPatchValue) ?? [],
    goMaxProcs: reader.parseOptional(A.goMaxProcs, atLeastOne),
    log: {
      level: reader.parse(A.logLevel, agentLogLevelValue) ?? 'info',
      format: reader.parse(A.logFormat, logFormat) ?? 'standard',
    },
    vault: readVault(reader, defaults),
    auth,
    secretVolumePath,
    secrets: readSecrets(reader, { mountPath: secretVolumePath, defaultTemplate, preserveCase }),
    injectToken: reader.parse(A.agentInjectToken, boolValue) ?? false,
    revokeOnShutdown: reader.parse(A.agentRevokeOnShutdown, boolValue) ?? false,
    revokeGraceSeconds: reader.parse(A.agentRevokeGrace, secondsOrDurationValue) ?? 5,
    enableQuit: reader.parse(A.agentEnableQuit, boolValue) ?? false,
    templateConfig: withoutUndefined({
      exitOnRetryFailure: reader.parse(A.templateConfigExitOnRetryFailure, boolValue) ?? true,
      staticSecretRenderIntervalMs,
      // 0 means "not set" upstream, so it is left out of the agent config.
      maxConnectionsPerHost: maxConnectionsPerHost === 0 ? undefined : maxConnectionsPerHost,
      leaseRenewalThreshold: leaseRenewalThreshold === 0 ? undefined : leaseRenewalThreshold,
    }),
    cache: {
      enabled: reader.parse(A.agentCacheEnable, boolValue) ?? false,
      useAutoAuthToken: cacheToken ?? 'true',
      listenerPort: reader.parse(A.agentCacheListenerPort, portValue) ?? 8200,
      exitOnError: reader.parse(A.agentCacheExitOnErr, boolValue) ?? false,
    },
    metricsListenerPort: reader.parseOptional(A.agentMetricsListenerPort, portValue),
    disableIdleConnections: reader.parseOptional(A.agentDisableIdleConnections, featureList) ?? [],
    disableKeepAlives: reader.parseOptional(A.agentDisableKeepAlives, featureList) ?? [],
    telemetry: readTelemetry(reader),
    warnings: annotationWarningsFor(annotations),
  };
  checkEnvSecrets(reader, pod, spec.secrets, spec);
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
    // runAsUser set, so a run-as-same-user default can be checked (it copies containers[0]'s).
    spec: {
      containers: [
        {
          name: 'probe',
          securityContext: { runAsUser: 1000 },
          volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        },
      ],
    },
  };
  try {
    parseAnnotations(probe, defaults, { namespace: 'default' });
  } catch (error) {
    if (!(error instanceof InvalidAnnotationsError)) throw error;
    issues.push(...error.issues.filter((issue) => issue.source !== 'pod'));
  }
  return issues;
}

// vault-k8s's IRSA support (agent.go getAwsIamTokenVolume, getAwsEnvsFromContainer): EKS's pod identity
// webhook gives the app containers a token mount under .../eks.amazonaws.com/... and AWS_* env; the
// agents need the same to log in with auth-type aws. First container wins, as upstream.
const AWS_IRSA_ENV = ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_DEFAULT_REGION', 'AWS_REGION'];

function awsWebIdentity(pod: V1Pod): NonNullable<AgentSpec['awsWebIdentity']> {
  const containers = pod.spec?.containers ?? [];
  const mount = containers.flatMap((c) => c.volumeMounts ?? []).find((m) => m.mountPath.includes('eks.amazonaws.com'));
  const env = new Map<string, string>();
  for (const c of containers) {
    for (const e of c.env ?? [])
      if (AWS_IRSA_ENV.includes(e.name) && !env.has(e.name) && e.value !== undefined) env.set(e.name, e.value);
  }
  return {
    ...(mount === undefined ? {} : { volumeMount: { name: mount.name, mountPath: mount.mountPath } }),
    env: [...env].sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
  };
}
