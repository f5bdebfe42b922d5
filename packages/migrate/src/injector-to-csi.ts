// Injector plan → a SecretProviderClass per secret directory (one CSI volume is one directory) and the
// workload with CSI volumes where the agent's volumes were. Each file becomes one object: `secretKey`
// when the template only prints one key (what upstream vault-csi-provider understands), else the
// template itself (a Vaultbridge provider extension; the same handlebars over the same data as the agent).
import { toHandlebarsSource } from '@vaultbridge/agent/contract';
import { A } from '@vaultbridge/injector';
import { rewriteWorkload, type FilePlan, type InjectedWorkload } from './injector.ts';
import type { Manifest } from './manifests.ts';
import { dnsName } from './names.ts';
import { annotationField, type Findings } from './report.ts';
import type { SharedObjects } from './shared-objects.ts';
import { csiVolume, secretProviderClass, type SpcConnection, type SpcObject } from './spc.ts';
import { CSI_DEFAULT_JSON, CSI_DEFAULT_MAP } from './templates.ts';

/** `{{key}}` or `{{secret "key"}}` alone: upstream's secretKey says the same. */
const SINGLE_KEY = /^\{\{\s*(?:secret\s+"([^"]+)"|([A-Za-z_][A-Za-z0-9_-]*))\s*\}\}$/;

function connectionOf(workload: InjectedWorkload, findings: Findings): SpcConnection {
  const { vault, auth } = workload.spec;
  if (vault.caCert !== undefined || vault.caPath !== undefined) {
    findings.add(
      'error',
      workload.source,
      annotationField(vault.caCert !== undefined ? A.caCert : A.caKey),
      "the CA is a file in the agent container; the provider reads vaultCACertPath from its own pod, so set it in the provider's flags (-vault-tls-ca-cert) or mount it there",
    );
  }
  if (vault.clientCert !== undefined) {
    findings.add(
      'error',
      workload.source,
      annotationField(A.clientCert),
      'a client certificate in the agent container; the provider reads vaultTLSClientCertPath/KeyPath from its own pod',
    );
  }
  return {
    vaultAddress: vault.address,
    roleName: auth.role ?? '',
    vaultKubernetesMountPath: auth.mountPath.replace(/^auth\//, ''),
    ...(vault.namespace ? { vaultNamespace: vault.namespace } : {}),
    ...(vault.tlsSkipVerify ? { vaultSkipTLSVerify: true } : {}),
    ...(vault.tlsServerName ? { vaultTLSServerName: vault.tlsServerName } : {}),
  };
}

function objectFor(workload: InjectedWorkload, file: FilePlan, findings: Findings): SpcObject {
  const base = {
    objectName: file.file,
    secretPath: file.secret.vaultPath!,
    ...(file.mode === undefined ? {} : { filePermission: file.mode }),
  };
  if (file.template !== undefined) {
    const handlebars = toHandlebarsSource(file.template, file.secret.leftDelimiter, file.secret.rightDelimiter);
    const single = SINGLE_KEY.exec(handlebars);
    if (single) return { ...base, secretKey: single[1] ?? single[2]! };
    findings.add(
      'changed',
      workload.source,
      annotationField(`${A.agentInjectTemplate}-${file.secret.rawName}`),
      "kept as the object's template, which the Vaultbridge CSI provider renders; upstream vault-csi-provider has no templates (it writes one key or the whole response)",
    );
    return { ...base, template: handlebars };
  }
  findings.add(
    'changed',
    workload.source,
    file.field,
    "the agent's default rendering (key: value lines, or JSON) is kept as the object's template for the Vaultbridge CSI provider; upstream vault-csi-provider would write Vault's whole JSON response instead",
  );
  return { ...base, template: file.secret.defaultTemplate === 'json' ? CSI_DEFAULT_JSON : CSI_DEFAULT_MAP };
}

export function injectorToCsi(
  workload: InjectedWorkload,
  shared: SharedObjects,
  findings: Findings,
): { objects: Manifest[]; workload: Manifest } {
  const connection = connectionOf(workload, findings);
  if (workload.mounts.some((mount) => mount.files.some((file) => file.source.kind === 'dynamic'))) {
    findings.add(
      'changed',
      workload.source,
      annotationField(A.agentInject),
      'leased credentials are read when the volume is mounted and kept while their lease is valid; the agent renewed the lease and re-rendered on its own schedule',
    );
  }
  if (!workload.spec.prePopulateOnly) {
    findings.add(
      'info',
      workload.source,
      annotationField(A.agentInject),
      'the agent re-rendered files while the pod ran; the CSI driver refreshes mounted files only with its rotation enabled (--enable-secret-rotation, rotation-poll-interval)',
    );
  }
  const objects: Manifest[] = [];
  const volumes = workload.mounts.map((mount) => {
    const name = shared.uniqueName(
      ['SecretProviderClass'],
      workload.namespace,
      dnsName(workload.name, mount.volumeName),
    );
    objects.push(
      secretProviderClass(
        name,
        workload.namespace,
        connection,
        mount.files.map((file) => objectFor(workload, file, findings)),
      ),
    );
    return { mountPath: mount.mountPath, volume: csiVolume(mount.volumeName, name) };
  });
  return { objects, workload: rewriteWorkload(workload, volumes) };
}
