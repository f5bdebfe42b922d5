// Workloads that use the injector (`vault.hashicorp.com/agent-inject: "true"` on the pod template): read
// with the injector's own parser (parseAnnotations, the same defaults and validation as the webhook),
// then planned method-neutrally: which files at which paths, from which Vault path, rendered how.
// injector-to-operator.ts and injector-to-csi.ts turn the plan into objects of their method.
import type { V1Container, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import {
  A,
  ANNOTATION_PREFIX,
  applyServiceAccountAdmission,
  findPod,
  InvalidAnnotationsError,
  parseAnnotations,
  shouldInject,
  formatIssue,
  type AgentSpec,
  type InjectorDefaults,
  type PodSlot,
  type SecretSpec,
} from '@vaultbridge/injector';
import { isRecord, sourceOf, type Manifest } from './manifests.ts';
import { secretKeyFor } from './names.ts';
import { annotationField, type Findings, type SourceRef } from './report.ts';
import { agentTemplateEngine } from './templates.ts';
import { classifyVaultPath, type MountTable, type VaultSource } from './vault-paths.ts';

export interface FilePlan {
  readonly secret: SecretSpec;
  /** the per-secret annotation that defined it, for the report */
  readonly field: string;
  readonly source: VaultSource;
  /** Secret data key / object name stem */
  readonly key: string;
  /** path relative to the mount directory */
  readonly file: string;
  readonly mode?: number;
  /** handlebars over the secret's data, delimiters as written (undefined: the agent's default rendering) */
  readonly template?: string;
}

export interface MountPlan {
  readonly mountPath: string;
  /** the injector's own volume name for this directory (vault-secrets, vault-secrets-custom-<i>) */
  readonly volumeName: string;
  readonly files: FilePlan[];
}

export interface InjectedWorkload {
  readonly index: number;
  readonly manifest: Manifest;
  readonly slot: PodSlot;
  readonly source: SourceRef;
  readonly namespace: string;
  /** the workload's name, to derive the new objects' names from */
  readonly name: string;
  readonly serviceAccount: string;
  readonly spec: AgentSpec;
  readonly mounts: MountPlan[];
}

export interface InjectorReadOptions {
  /** the injector's flags and defaults (Vault address, auth path…), as the webhook was run */
  readonly defaults?: InjectorDefaults;
  /** namespace for documents that name none */
  readonly namespace?: string;
  readonly mounts?: MountTable;
}

/** Annotations that only shape the agent container or its process: nothing to carry when there is no agent. */
const AGENT_ONLY = new Set([
  A.agentImage,
  A.agentLimitsCpu,
  A.agentLimitsMem,
  A.agentLimitsEphemeral,
  A.agentRequestsCpu,
  A.agentRequestsMem,
  A.agentRequestsEphemeral,
  A.agentInitLimitsCpu,
  A.agentInitLimitsMem,
  A.agentInitLimitsEphemeral,
  A.agentInitRequestsCpu,
  A.agentInitRequestsMem,
  A.agentInitRequestsEphemeral,
  A.agentSetSecurityContext,
  A.agentRunAsUser,
  A.agentRunAsGroup,
  A.agentRunAsSameUser,
  A.agentCopyVolumeMounts,
  A.agentServiceAccountTokenVolumeName,
  A.agentJsonPatch,
  A.agentInitJsonPatch,
  A.goMaxProcs,
  A.logLevel,
  A.logFormat,
  A.agentInitFirst,
  A.agentNativeSidecar,
  A.agentShareProcessNamespace,
  A.agentRevokeGrace,
  A.authMinBackoff,
  A.authMaxBackoff,
  A.agentAutoAuthExitOnErr,
  A.templateConfigExitOnRetryFailure,
  A.templateMaxConnectionsPerHost,
  A.agentDisableIdleConnections,
  A.agentDisableKeepAlives,
  A.agentMetricsListenerPort,
  A.clientMaxRetries,
  A.clientTimeout,
  A.proxyAddress,
]);

function workloadName(manifest: Manifest, pod: V1Pod): string {
  return sourceOf(manifest).name || pod.metadata?.name || pod.metadata?.generateName || 'workload';
}

function definingField(secret: SecretSpec, annotations: Record<string, string>): string {
  for (const family of [A.agentInjectSecret, A.agentInjectTemplate, A.agentInjectTemplateFile]) {
    const name = `${family}-${secret.rawName}`;
    if (annotations[name] !== undefined) return annotationField(name);
  }
  return annotationField(`${A.agentInjectSecret}-${secret.rawName}`);
}

/** What the agent did that the file plan does not carry: reported once per workload, per annotation. */
function reportAgentFeatures(
  spec: AgentSpec,
  annotations: Record<string, string>,
  source: SourceRef,
  findings: Findings,
): void {
  const present = (name: string) => annotations[name] !== undefined;
  if (spec.injectToken) {
    findings.add(
      'error',
      source,
      annotationField(A.agentInjectToken),
      `the agent wrote its Vault token to ${spec.secretVolumePath}/token for the app; no method delivers a Vault token to the app, so the app must log in itself`,
    );
  }
  if (spec.cache.enabled || spec.enableQuit) {
    findings.add(
      'error',
      source,
      annotationField(spec.cache.enabled ? A.agentCacheEnable : A.agentEnableQuit),
      `the app could reach the agent's listener on 127.0.0.1:${spec.cache.listenerPort} (Vault proxy/cache or the quit endpoint); there is no agent after the move`,
    );
  }
  if (spec.configMap !== undefined) {
    findings.add(
      'error',
      source,
      annotationField(A.agentConfigmap),
      'the agent ran a hand-written config from this ConfigMap; its templates and auth are not in the annotations, so they were not converted',
    );
  }
  if (spec.prePopulateOnly) {
    findings.add(
      'changed',
      source,
      annotationField(A.agentPrePopulateOnly),
      'the agent wrote the files once, before the app started; after the move the files follow Vault while the pod runs',
    );
  }
  if (spec.revokeOnShutdown && present(A.agentRevokeOnShutdown)) {
    findings.add(
      'changed',
      source,
      annotationField(A.agentRevokeOnShutdown),
      "the agent revoked its token (and the leases under it) when the pod stopped; leases now belong to the new method's lifecycle",
    );
  }
  if (Object.keys(spec.telemetry).length > 0)
    findings.add(
      'info',
      source,
      `${annotationField(`${A.agentTelemetry}-*`)}`,
      'agent telemetry settings: there is no agent after the move',
    );
  const authConfig = Object.keys(spec.auth.config).filter((key) => key !== 'role' && key !== 'token_path');
  for (const key of authConfig) {
    findings.add(
      'dropped',
      source,
      annotationField(`${A.authConfig}-${key.replaceAll('_', '-')}`),
      `an extra Kubernetes auth login parameter (${key}); the new method logs in with role and JWT only`,
    );
  }
  for (const name of Object.keys(annotations).sort()) {
    if (AGENT_ONLY.has(name))
      findings.add(
        'info',
        source,
        annotationField(name),
        'configures the agent container or process, which no longer exists after the move',
      );
  }
}

function planFiles(
  spec: AgentSpec,
  annotations: Record<string, string>,
  source: SourceRef,
  options: InjectorReadOptions,
  findings: Findings,
): MountPlan[] {
  const mounts = new Map<string, MountPlan>();
  let custom = 0;
  const usedKeys = new Set<string>();
  for (const secret of spec.secrets) {
    const field = definingField(secret, annotations);
    if (secret.templateFile !== undefined) {
      findings.add(
        'error',
        source,
        annotationField(`${A.agentInjectTemplateFile}-${secret.rawName}`),
        `the template is a file on the agent's file system (${secret.templateFile}), which the converter cannot read; put its text in ${A.agentInjectTemplate}-${secret.rawName} and convert again`,
      );
      continue;
    }
    if (secret.vaultPath === undefined) {
      findings.add(
        'error',
        source,
        field,
        'a template with no Vault path: the other methods render a template over one Vault secret, named by agent-inject-secret-<name>',
      );
      continue;
    }
    const vaultSource = classifyVaultPath(secret.vaultPath, options.mounts);
    if (vaultSource === undefined) {
      findings.add(
        'error',
        source,
        annotationField(`${A.agentInjectSecret}-${secret.rawName}`),
        `"${secret.vaultPath}" is not a Vault secret path (expected <mount>/<path>)`,
      );
      continue;
    }
    if (vaultSource.guessed) {
      const what =
        vaultSource.kind === 'kv'
          ? `KV v${vaultSource.version} secret on mount "${vaultSource.mount}"`
          : vaultSource.kind === 'pki'
            ? `PKI issue endpoint on mount "${vaultSource.mount}"`
            : `dynamic secret on mount "${vaultSource.mount}"`;
      findings.add(
        'info',
        source,
        annotationField(`${A.agentInjectSecret}-${secret.rawName}`),
        `read as a ${what} from the path's shape; pass --ask-vault (VAULT_ADDR, VAULT_TOKEN) to ask Vault for the mount's type`,
      );
    }
    if (vaultSource.kind === 'pki') {
      findings.add(
        'error',
        source,
        annotationField(`${A.agentInjectSecret}-${secret.rawName}`),
        'a PKI issue endpoint needs a write with a common name, which the agent never sent for agent-inject-secret (only a template can call pkiCert); write a VaultPKISecret by hand',
      );
      continue;
    }
    if (secret.template !== undefined) {
      const engine = agentTemplateEngine(
        secret.name,
        secret.template,
        secret.leftDelimiter,
        secret.rightDelimiter,
        secret.errorOnMissingKey,
      );
      if (engine.engine === 'invalid') {
        findings.add(
          'error',
          source,
          annotationField(`${A.agentInjectTemplate}-${secret.rawName}`),
          `the agent cannot render this template either (${engine.reason}); fix it and convert again`,
        );
        continue;
      }
      if (engine.engine === 'go') {
        findings.add(
          'error',
          source,
          annotationField(`${A.agentInjectTemplate}-${secret.rawName}`),
          'a Go (consul-template) template: operator transformations and CSI object templates render handlebars today, so it was not converted; rewrite it over the secret\'s data ({{username}}, {{secret "password"}}) or keep the injector for this workload',
        );
        continue;
      }
    }
    if (secret.command !== undefined) {
      findings.add(
        'dropped',
        source,
        annotationField(`${A.agentInjectCommand}-${secret.rawName}`),
        'the agent ran this command after each render; the new method updates the file in place and runs nothing (signal the app another way, or restart it with rolloutRestartTargets)',
      );
    }
    if (secret.template !== undefined && !secret.errorOnMissingKey) {
      findings.add(
        'changed',
        source,
        annotationField(`${A.agentInjectTemplate}-${secret.rawName}`),
        'the agent printed nothing for a missing key; the new method refuses to render the template and keeps the last good content, reporting the error',
      );
    }
    let mount = mounts.get(secret.mountPath);
    if (mount === undefined) {
      mount = {
        mountPath: secret.mountPath,
        volumeName: secret.mountPath === spec.secretVolumePath ? 'vault-secrets' : `vault-secrets-custom-${custom++}`,
        files: [],
      };
      mounts.set(secret.mountPath, mount);
    }
    let key = secretKeyFor(secret.file);
    while (usedKeys.has(key)) key = `${key}_`;
    usedKeys.add(key);
    const mode = secret.perms;
    mount.files.push({
      secret,
      field,
      source: vaultSource,
      key,
      file: secret.file,
      ...(mode === undefined ? {} : { mode }),
      ...(secret.template === undefined ? {} : { template: secret.template }),
    });
  }
  return [...mounts.values()];
}

/** Every document of `manifests` whose pod (template) asks for injection, parsed and planned. */
export function readInjectedWorkloads(
  manifests: readonly Manifest[],
  options: InjectorReadOptions,
  findings: Findings,
): InjectedWorkload[] {
  const workloads: InjectedWorkload[] = [];
  manifests.forEach((manifest, index) => {
    const slot = findPod(manifest);
    if (slot === undefined) return;
    const annotations = slot.pod.metadata?.annotations ?? {};
    if (!Object.keys(annotations).some((key) => key.startsWith(ANNOTATION_PREFIX))) return;
    const source = sourceOf(manifest);
    const gate = shouldInject(slot.pod);
    if (!gate.inject) {
      if (gate.decision.kind === 'deny')
        findings.add('error', source, annotationField(A.agentInject), gate.decision.message);
      else if (annotations[A.agentInjectStatus] === 'injected') {
        findings.add(
          'error',
          source,
          annotationField(A.agentInjectStatus),
          'a pod the injector already mutated (its agent containers are in the spec); convert the workload that owns it, or the pod as it was written, and recreate the pod',
        );
      }
      return;
    }
    const namespace = source.namespace ?? options.namespace ?? 'default';
    let spec: AgentSpec;
    try {
      spec = parseAnnotations(applyServiceAccountAdmission(slot.pod), options.defaults ?? {}, { namespace });
    } catch (error) {
      if (!(error instanceof InvalidAnnotationsError)) throw error;
      for (const issue of error.issues) {
        findings.add(
          'error',
          source,
          annotationField(issue.annotation),
          `the injector refuses this pod, so it was not converted: ${formatIssue(issue)}`,
        );
      }
      return;
    }
    reportAgentFeatures(spec, annotations, source, findings);
    const mounts = planFiles(spec, annotations, source, options, findings);
    if (mounts.length === 0 && findings.errorsFor(source) === 0)
      findings.add(
        'info',
        source,
        annotationField(A.agentInject),
        'the pod asks for injection but names no secret; only the annotations are removed',
      );
    workloads.push({
      index,
      manifest,
      slot,
      source,
      namespace,
      name: workloadName(manifest, slot.pod),
      serviceAccount: slot.pod.spec?.serviceAccountName || 'default',
      spec,
      mounts,
    });
  });
  return workloads;
}

/**
 * The workload without its injector annotations and with `volumes` mounted where the agent wrote the
 * files: in the containers the agent served (agent-inject-containers) and, as the init agent did, in
 * every init container when pre-populating.
 */
export function rewriteWorkload(
  workload: InjectedWorkload,
  volumes: ReadonlyArray<{ mountPath: string; volume: V1Volume }>,
): Manifest {
  const pod = structuredClone(workload.slot.pod);
  const annotations = Object.fromEntries(
    Object.entries(pod.metadata?.annotations ?? {}).filter(([key]) => !key.startsWith(ANNOTATION_PREFIX)),
  );
  if (pod.metadata) {
    if (Object.keys(annotations).length > 0) pod.metadata.annotations = annotations;
    else delete pod.metadata.annotations;
  }
  const spec = pod.spec!;
  const names = new Set(volumes.map((entry) => entry.volume.name));
  spec.volumes = [
    ...(spec.volumes ?? []).filter((volume) => !names.has(volume.name)),
    ...volumes.map((entry) => entry.volume),
  ];
  const mount = (container: V1Container): V1Container => {
    const kept = (container.volumeMounts ?? []).filter((existing) => !names.has(existing.name));
    const added: V1VolumeMount[] = volumes.map((entry) => ({
      name: entry.volume.name,
      mountPath: entry.mountPath,
      readOnly: true,
    }));
    return { ...container, volumeMounts: [...kept, ...added] };
  };
  const served = new Set(workload.spec.injectContainers);
  spec.containers = spec.containers.map((container) => (served.has(container.name) ? mount(container) : container));
  if (spec.initContainers !== undefined && workload.spec.prePopulate)
    spec.initContainers = spec.initContainers.map(mount);
  const put = workload.slot.put(pod);
  // findPod hands a bare Pod back as is; keep the document's own apiVersion/kind/metadata otherwise.
  return isRecord(put) ? put : workload.manifest;
}
