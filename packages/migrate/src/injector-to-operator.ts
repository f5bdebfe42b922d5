// Injector plan → operator objects: a VaultConnection and VaultAuth (shared per namespace), one synced
// object per Vault path the workload reads (VaultStaticSecret for KV, VaultDynamicSecret for leased
// credentials) whose destination Secret holds one key per file, rendered by a transformation template,
// and a projected volume per secret directory that puts each key back at the agent's file path.
import type { V1Volume } from '@kubernetes/client-node';
import { A } from '@vaultbridge/injector';
import { API_VERSION, MAX_RENEWAL_PERCENT } from '@vaultbridge/operator';
import { rewriteWorkload, type FilePlan, type InjectedWorkload } from './injector.ts';
import type { Manifest } from './manifests.ts';
import { dnsName, durationText } from './names.ts';
import { annotationField, type Findings } from './report.ts';
import type { SharedObjects } from './shared-objects.ts';
import { OPERATOR_DEFAULT_JSON, OPERATOR_DEFAULT_MAP, toOperatorTemplate } from './templates.ts';

/** The agent's default for re-reading KV when the pod does not set template-static-secret-render-interval. */
const AGENT_STATIC_RENDER_INTERVAL_MS = 5 * 60_000;
const TLS_SECRET_MOUNT = '/vault/tls/';

function connectionSpec(workload: InjectedWorkload, findings: Findings): Record<string, unknown> {
  const { vault, tlsSecret } = workload.spec;
  const spec: Record<string, unknown> = { address: vault.address };
  if (vault.tlsSkipVerify) spec.skipTLSVerify = true;
  if (vault.tlsServerName) spec.tlsServerName = vault.tlsServerName;
  if (vault.caCert !== undefined) {
    const fromTlsSecret = tlsSecret !== undefined && vault.caCert.startsWith(TLS_SECRET_MOUNT);
    const key = fromTlsSecret ? vault.caCert.slice(TLS_SECRET_MOUNT.length) : undefined;
    if (fromTlsSecret && key === 'ca.crt') spec.caCertSecretRef = tlsSecret;
    else if (fromTlsSecret) {
      spec.caCertSecretRef = tlsSecret;
      findings.add(
        'error',
        workload.source,
        annotationField(A.caCert),
        `the CA is key "${key}" of Secret ${tlsSecret}; a VaultConnection reads key ca.crt of spec.caCertSecretRef, so add the CA under ca.crt to that Secret`,
      );
    } else {
      findings.add(
        'error',
        workload.source,
        annotationField(A.caCert),
        `${vault.caCert} is a file in the agent container; put the CA in a Secret under key ca.crt and set spec.caCertSecretRef of the VaultConnection`,
      );
    }
  }
  if (vault.caPath !== undefined)
    findings.add(
      'error',
      workload.source,
      annotationField(A.caKey),
      'a CA directory in the agent container; put the CA in a Secret under ca.crt and set the VaultConnection spec.caCertSecretRef',
    );
  if (vault.clientCert !== undefined || vault.clientKey !== undefined) {
    findings.add(
      'error',
      workload.source,
      annotationField(vault.clientCert !== undefined ? A.clientCert : A.clientKey),
      'TLS client certificates for Vault are not a VaultConnection setting; the operator cannot present one',
    );
  }
  if (vault.caCertPem !== undefined)
    findings.add(
      'error',
      workload.source,
      'injector flag --vault-cacert-bytes',
      'the CA came from the injector; put it in a Secret under ca.crt and set the VaultConnection spec.caCertSecretRef',
    );
  return spec;
}

function authSpec(workload: InjectedWorkload, connection: string): Record<string, unknown> {
  const { auth, vault } = workload.spec;
  return {
    vaultConnectionRef: connection,
    method: 'kubernetes',
    mount: auth.mountPath.replace(/^auth\//, ''),
    ...(vault.namespace ? { namespace: vault.namespace } : {}),
    kubernetes: { role: auth.role ?? '', serviceAccount: workload.serviceAccount },
  };
}

function templateFor(file: FilePlan): string {
  if (file.template !== undefined)
    return toOperatorTemplate(file.template, file.secret.leftDelimiter, file.secret.rightDelimiter);
  return file.secret.defaultTemplate === 'json' ? OPERATOR_DEFAULT_JSON : OPERATOR_DEFAULT_MAP;
}

interface SyncedObject {
  readonly manifest: Manifest;
  readonly secretName: string;
}

function syncedObject(
  workload: InjectedWorkload,
  files: readonly FilePlan[],
  authName: string,
  shared: SharedObjects,
  findings: Findings,
): SyncedObject {
  const first = files[0]!;
  const kind = first.source.kind === 'kv' ? 'VaultStaticSecret' : 'VaultDynamicSecret';
  // Unique among the synced objects and the Secrets this run creates (two workloads may share a name).
  const name = shared.uniqueName([kind, 'Secret'], workload.namespace, dnsName(workload.name, first.secret.name));
  const destination = {
    name,
    create: true,
    transformation: {
      excludes: ['.*'],
      excludeRaw: true,
      templates: Object.fromEntries(files.map((file) => [file.key, { text: templateFor(file) }])),
    },
  };
  const metadata = { name, namespace: workload.namespace };
  const source = first.source;
  if (source.kind === 'kv') {
    const refreshMs = workload.spec.templateConfig.staticSecretRenderIntervalMs ?? AGENT_STATIC_RENDER_INTERVAL_MS;
    return {
      secretName: name,
      manifest: {
        apiVersion: API_VERSION,
        kind: 'VaultStaticSecret',
        metadata,
        spec: {
          vaultAuthRef: authName,
          mount: source.mount,
          path: source.path,
          type: `kv-v${source.version}`,
          refreshAfter: durationText(refreshMs),
          destination,
        },
      },
    };
  }
  const threshold = workload.spec.templateConfig.leaseRenewalThreshold;
  const renewalPercent =
    threshold === undefined ? undefined : Math.min(MAX_RENEWAL_PERCENT, Math.round(threshold * 100));
  if (threshold !== undefined && threshold * 100 > MAX_RENEWAL_PERCENT) {
    findings.add(
      'changed',
      workload.source,
      annotationField(A.templateLeaseRenewalThreshold),
      `renewal at ${threshold * 100}% of the lease is capped at ${MAX_RENEWAL_PERCENT}% (renewalPercent)`,
    );
  }
  return {
    secretName: name,
    manifest: {
      apiVersion: API_VERSION,
      kind: 'VaultDynamicSecret',
      metadata,
      spec: {
        vaultAuthRef: authName,
        mount: source.kind === 'dynamic' ? source.mount : '',
        path: source.kind === 'dynamic' ? source.path : '',
        ...(source.kind === 'dynamic' && source.staticCreds ? { allowStaticCreds: true } : {}),
        ...(renewalPercent === undefined ? {} : { renewalPercent }),
        ...(workload.spec.revokeOnShutdown ? { revoke: true } : {}),
        destination,
      },
    },
  };
}

export interface ConvertedWorkload {
  readonly objects: Manifest[];
  readonly workload: Manifest;
}

export function injectorToOperator(
  workload: InjectedWorkload,
  shared: SharedObjects,
  findings: Findings,
): ConvertedWorkload {
  const connection = shared.ensure('VaultConnection', workload.namespace, 'vault', connectionSpec(workload, findings));
  const auth = shared.ensure(
    'VaultAuth',
    workload.namespace,
    dnsName(workload.serviceAccount, workload.spec.auth.role ?? 'vault'),
    authSpec(workload, connection),
  );
  findings.add(
    'info',
    workload.source,
    'metadata.annotations["vault.hashicorp.com/role"]',
    `the agent logged in with the pod's own token (the API server's audience); the operator mints tokens for audience "vault" and refuses the API server's own, so Vault role ${workload.spec.auth.role ?? ''} must have no audience or accept "vault"`,
  );
  // One synced object per Vault path: files rendered from the same secret share one read and one Secret.
  const byPath = new Map<string, FilePlan[]>();
  for (const mount of workload.mounts) {
    for (const file of mount.files)
      byPath.set(file.secret.vaultPath!, [...(byPath.get(file.secret.vaultPath!) ?? []), file]);
  }
  const secretOf = new Map<FilePlan, string>();
  const objects: Manifest[] = [];
  for (const files of byPath.values()) {
    const synced = syncedObject(workload, files, auth, shared, findings);
    objects.push(synced.manifest);
    for (const file of files) secretOf.set(file, synced.secretName);
  }
  const volumes = workload.mounts.map((mount) => {
    const bySecret = new Map<string, FilePlan[]>();
    for (const file of mount.files)
      bySecret.set(secretOf.get(file)!, [...(bySecret.get(secretOf.get(file)!) ?? []), file]);
    const volume: V1Volume = {
      name: mount.volumeName,
      projected: {
        sources: [...bySecret].map(([name, files]) => ({
          secret: {
            name,
            items: files.map((file) => ({
              key: file.key,
              path: file.file,
              ...(file.mode === undefined ? {} : { mode: file.mode }),
            })),
          },
        })),
      },
    };
    return { mountPath: mount.mountPath, volume };
  });
  return { objects, workload: rewriteWorkload(workload, volumes) };
}
