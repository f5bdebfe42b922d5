export { VaultClient, type VaultClientOptions, type TokenProvider, type PermissionDeniedHandler } from './client.ts';
export type { VaultRetryEvent, VaultSettingNames } from './connection.ts';
export type { VaultTlsOptions } from './tls.ts';
export { defaultVaultAddress, vaultSettingsFromEnv, type VaultEnvSettings } from './env.ts';
export type { VaultResponse, VaultAuthInfo, VaultWrapInfo, VaultMethod, VaultRequestOptions } from './types.ts';
export {
  VaultError, VaultPermissionError, VaultNotFoundError, VaultUnavailableError, VaultConfigError, VaultSecretVersionError,
  VaultProtocolError, type VaultErrorDetails, type SecretVersionState,
} from './errors.ts';
export {
  KvSecrets, type KvVersion, type KvMount, type KvLocation, type KvReadOptions, type KvSecret, type KvVersionMetadata,
  type KvSecretMetadata,
} from './kv.ts';
export { renewalDelayMs, defaultRenewFraction, defaultJitterFraction, type RenewalTiming } from './renewal.ts';
