// The whole conversion: every document of the input, to one target method, in stages (VSO → ours, then
// the injector's workloads, then SecretProviderClasses or operator objects). Documents that hold nothing
// to convert pass through unchanged and in order, so the output is a complete manifest set to apply.
// New VaultConnections and VaultAuths come first; other new objects just before what replaced them.
import type { InjectorDefaults } from '@vaultbridge/injector';
import { API_VERSION } from '@vaultbridge/operator';
import { csiToOperator } from './csi-to-operator.ts';
import { readInjectedWorkloads } from './injector.ts';
import { injectorToCsi } from './injector-to-csi.ts';
import { injectorToOperator } from './injector-to-operator.ts';
import { sourceOf, type Manifest } from './manifests.ts';
import { operatorToCsi } from './operator-to-csi.ts';
import { Findings, type Finding } from './report.ts';
import { SharedObjects } from './shared-objects.ts';
import type { MountTable } from './vault-paths.ts';
import { convertVsoManifests } from './vso.ts';
import { podDocuments } from './workload-volumes.ts';

export const TARGETS = ['operator', 'csi'] as const;
export type Target = (typeof TARGETS)[number];

export interface MigrateOptions {
  readonly to: Target;
  /** the injector's flags (Vault address, auth path…) as the webhook ran, for pods that rely on them */
  readonly injectorDefaults?: InjectorDefaults;
  /** the CSI provider's -vault-addr, for SecretProviderClasses without vaultAddress */
  readonly providerVaultAddress?: string;
  /** namespace for documents that name none */
  readonly namespace?: string;
  /** Vault mounts and their engines, when read from Vault (else paths are classified by shape) */
  readonly mounts?: MountTable;
}

export interface MigrateResult {
  readonly manifests: Manifest[];
  readonly findings: readonly Finding[];
}

function applyReplacements(manifests: readonly Manifest[], replaced: ReadonlyMap<number, Manifest[]>): Manifest[] {
  return manifests.flatMap((manifest, index) => replaced.get(index) ?? [manifest]);
}

export function migrate(input: readonly Manifest[], options: MigrateOptions): MigrateResult {
  const findings = new Findings();
  const namespace = options.namespace ?? 'default';
  // VSO objects become ours first whatever the target: the other converters read only our group.
  let manifests = convertVsoManifests(input, findings);
  const shared = new SharedObjects();
  for (const manifest of manifests) {
    // Names the input already uses: new objects (and the Secrets they create) must not take them.
    if (
      (manifest.apiVersion === API_VERSION || manifest.kind === 'Secret' || manifest.kind === 'SecretProviderClass') &&
      typeof manifest.kind === 'string'
    ) {
      shared.reserve(manifest.kind, sourceOf(manifest).namespace ?? namespace, sourceOf(manifest).name);
    }
    const destination =
      manifest.apiVersion === API_VERSION && typeof manifest.spec === 'object' && manifest.spec !== null
        ? (manifest.spec as { destination?: { name?: unknown } }).destination
        : undefined;
    if (typeof destination?.name === 'string')
      shared.reserve('Secret', sourceOf(manifest).namespace ?? namespace, destination.name);
  }

  const workloads = readInjectedWorkloads(
    manifests,
    {
      ...(options.injectorDefaults ? { defaults: options.injectorDefaults } : {}),
      namespace,
      ...(options.mounts ? { mounts: options.mounts } : {}),
    },
    findings,
  );
  const fromInjector = new Map<number, Manifest[]>();
  for (const workload of workloads) {
    // All or nothing: a workload with an error keeps the injector, rather than losing a file or the
    // agent's token or listener the app relies on.
    const rollback = shared.mark();
    const converted =
      options.to === 'operator'
        ? injectorToOperator(workload, shared, findings)
        : injectorToCsi(workload, shared, findings);
    if (findings.errorsFor(workload.source) > 0) {
      rollback();
      findings.add(
        'error',
        workload.source,
        'metadata.annotations',
        'not converted: the workload keeps the injector until the errors above are resolved',
      );
      continue;
    }
    fromInjector.set(workload.index, [...converted.objects, converted.workload]);
  }
  manifests = applyReplacements(manifests, fromInjector);

  const documents = podDocuments(manifests, namespace);
  if (options.to === 'operator') {
    const { replaced } = csiToOperator(
      manifests,
      documents,
      shared,
      {
        ...(options.providerVaultAddress ? { vaultAddress: options.providerVaultAddress } : {}),
        ...(options.mounts ? { mounts: options.mounts } : {}),
      },
      findings,
    );
    manifests = applyReplacements(manifests, replaced);
  } else {
    manifests = applyReplacements(manifests, operatorToCsi(manifests, documents, namespace, shared, findings));
  }
  return { manifests: [...shared.objects(), ...manifests], findings: findings.list };
}
