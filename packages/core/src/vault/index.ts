export {
  VaultClient,
  type VaultClientOptions,
  type TokenProvider,
  type PermissionDeniedHandler,
  type CacheableRequest,
  type VaultResponseCache,
} from './client.ts';
export type { RawReply } from './connection.ts';
export type { VaultRetryEvent, VaultSettingNames } from './connection.ts';
export type { VaultTlsOptions } from './tls.ts';
export { defaultVaultAddress, vaultSettingsFromEnv, type VaultEnvSettings } from './env.ts';
export { parseVaultAddress, type VaultAddress } from './address.ts';
export type { VaultResponse, VaultAuthInfo, VaultWrapInfo, VaultMethod, VaultRequestOptions } from './types.ts';
export {
  VaultError,
  VaultPermissionError,
  VaultNotFoundError,
  VaultUnavailableError,
  VaultConfigError,
  VaultSecretVersionError,
  VaultProtocolError,
  isVaultDown,
  redactVaultErrorText,
  type VaultErrorDetails,
  type SecretVersionState,
} from './errors.ts';
export {
  KvSecrets,
  type KvVersion,
  type KvMount,
  type KvLocation,
  type KvReadOptions,
  type KvSecret,
  type KvVersionMetadata,
  type KvSecretMetadata,
} from './kv.ts';
export { renewalDelayMs, defaultRenewFraction, defaultJitterFraction, type RenewalTiming } from './renewal.ts';
export { readDynamicSecret, writeDynamicSecret, dynamicSecretFromResponse, type DynamicSecret } from './dynamic.ts';
export { renewLease, revokeLease, type RenewedLease, type LeaseCallOptions } from './lease-calls.ts';
export { lookupSelfToken, revokeSelfToken, vaultHealth, type TokenLookup, type VaultHealth } from './sys-calls.ts';
export {
  LeaseManager,
  LeaseTrackingError,
  type LeaseManagerOptions,
  type LeaseManagerEvents,
  type LeaseEvent,
  type TrackOptions,
  type TrackedLease,
} from './leases.ts';
export {
  issueCertificate,
  revokeCertificate,
  pkiIssuePath,
  pkiIssueBody,
  parseCertificate,
  splitPemCertificates,
  type IssueCertificateOptions,
  type IssuedCertificate,
  type ParsedCertificate,
  type PkiIssueData,
} from './pki.ts';
export { transitEncrypt, transitDecrypt, type TransitKeyOptions } from './transit.ts';
export {
  VaultEventStream,
  openEventStream,
  unavailableReason,
  type EventStreamStatus,
  type EventStreamOptions,
} from './events.ts';
// parseKvEvent stays internal: re-exported here, it would put zod in the graph of every importer.
export type { KvEvent } from './kv-event.ts';
