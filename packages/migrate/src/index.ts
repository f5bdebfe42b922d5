// Public API of @vaultbridge/migrate.
export { migrate, TARGETS, type MigrateOptions, type MigrateResult, type Target } from './migrate.ts';
export { convertVsoManifests, isVsoManifest, VSO_GROUP } from './vso.ts';
export { parseManifests, formatManifests, ManifestError, type Manifest } from './manifests.ts';
export { Findings, formatFindings, type Finding, type Severity, type SourceRef } from './report.ts';
export { pruneBySchema } from './schema-prune.ts';
export { runMigrateCli } from './cli.ts';
