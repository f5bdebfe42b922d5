// The whole conversion: every document of the input, to one target method. Documents that hold nothing
// to convert pass through unchanged and in order, so the output is a complete manifest set to apply;
// new objects come just before the workload that needs them.
import type { InjectorDefaults } from '@vaultbridge/injector';
import { readInjectedWorkloads } from './injector.ts';
import { injectorToOperator } from './injector-to-operator.ts';
import type { Manifest } from './manifests.ts';
import { Findings, type Finding } from './report.ts';
import { SharedObjects } from './shared-objects.ts';
import type { MountTable } from './vault-paths.ts';
import { convertVsoManifests } from './vso.ts';

export const TARGETS = ['operator'] as const;
export type Target = (typeof TARGETS)[number];

export interface MigrateOptions {
  readonly to: Target;
  /** the injector's flags (Vault address, auth path…) as the webhook ran, for pods that rely on them */
  readonly injectorDefaults?: InjectorDefaults;
  /** namespace for documents that name none */
  readonly namespace?: string;
  /** Vault mounts and their engines, when read from Vault (else paths are classified by shape) */
  readonly mounts?: MountTable;
}

export interface MigrateResult {
  readonly manifests: Manifest[];
  readonly findings: readonly Finding[];
}

export function migrate(input: readonly Manifest[], options: MigrateOptions): MigrateResult {
  if (options.to !== 'operator') throw new Error(`unknown target ${String(options.to)}`);
  const findings = new Findings();
  // VSO objects become ours first whatever the target: the other converters read only our group.
  const manifests = convertVsoManifests(input, findings);
  const workloads = readInjectedWorkloads(manifests, {
    ...(options.injectorDefaults ? { defaults: options.injectorDefaults } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.mounts ? { mounts: options.mounts } : {}),
  }, findings);
  const shared = new SharedObjects();
  const replaced = new Map<number, Manifest[]>();
  const emitted = new Set<Manifest>();
  for (const workload of workloads) {
    const converted = injectorToOperator(workload, shared, findings);
    const newShared = shared.objects().filter((object) => !emitted.has(object));
    newShared.forEach((object) => emitted.add(object));
    replaced.set(workload.index, [...newShared, ...converted.objects, converted.workload]);
  }
  const out = manifests.flatMap((manifest, index) => replaced.get(index) ?? [manifest]);
  return { manifests: out, findings: findings.list };
}
