// Public API of @vaultbridge/csi-provider.
export {
  parseMountRequest,
  parseObjects,
  splitSecretPath,
  fileNameProblem,
  resolveConnection,
  defaultTokenAudience,
  defaultFilePermission,
  type MountConfig,
  type SecretObject,
  type PodInfo,
  type ProviderFlags,
  type ConnectionSettings,
  type ObjectEncoding,
  type ObjectMethod,
} from './config.ts';
export { goJson, marshalVaultSecret, selectKey, decodeValue, objectContent } from './encode.ts';
export {
  buildMountResult,
  objectVersion,
  generateHmacKey,
  type MountFile,
  type MountResult,
  type ObjectVersion,
} from './mount.ts';
export { VaultFetcher, mapLimit, requestKey, type FetcherOptions } from './fetch.ts';
export {
  ProviderServer,
  loadProviderService,
  defaultEndpoint,
  runtimeName,
  runtimeVersion,
  type ProviderServerOptions,
} from './server.ts';
export {
  MountConfigError,
  SecretContentError,
  ObjectFetchError,
  MountTooLargeError,
  withoutVaultText,
  withheldVaultText,
  type ConfigIssue,
} from './errors.ts';
export { sameVaultAddress } from './vault-address.ts';
export { runCsiProviderCli, normalizeGoFlags } from './cli.ts';
