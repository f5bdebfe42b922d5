// The whole conversion: every document of the input, to one target method. Documents that hold nothing
// to convert pass through unchanged and in order, so the output is a complete manifest set to apply.
import type { Manifest } from './manifests.ts';
import { Findings, type Finding } from './report.ts';
import { convertVsoManifests } from './vso.ts';

export const TARGETS = ['operator'] as const;
export type Target = (typeof TARGETS)[number];

export interface MigrateOptions {
  readonly to: Target;
}

export interface MigrateResult {
  readonly manifests: Manifest[];
  readonly findings: readonly Finding[];
}

export function migrate(input: readonly Manifest[], options: MigrateOptions): MigrateResult {
  const findings = new Findings();
  // VSO objects become ours first whatever the target: the other converters read only our group.
  const manifests = convertVsoManifests(input, findings);
  if (options.to !== 'operator') throw new Error(`unknown target ${String(options.to)}`);
  return { manifests, findings: findings.list };
}
