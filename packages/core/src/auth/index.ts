export { VaultAuthError, TokenManagerStoppedError } from './errors.ts';
export { authMountPath, type VaultAuthMethod, type VaultLogin } from './login.ts';
export { KubernetesAuth, type KubernetesAuthOptions } from './kubernetes.ts';
export { JwtAuth, type JwtAuthOptions } from './jwt.ts';
export { AppRoleAuth, type AppRoleAuthOptions } from './approle.ts';
export { CertAuth, type CertAuthOptions } from './cert.ts';
export {
  TokenManager,
  type TokenManagerOptions,
  type TokenManagerEvents,
  type TokenInfo,
  type TokenOperation,
} from './token-manager.ts';
export { TokenManagerCache, tokenManagerKey } from './token-cache.ts';
export {
  FileTokenSource,
  StaticTokenSource,
  defaultServiceAccountTokenPath,
  type ServiceAccountTokenSource,
} from '../kube/token-file.ts';
export {
  AwsAuth,
  awsCredentialChain,
  awsIamLoginData,
  parseSharedCredentials,
  sharedCredentialsFile,
  sharedCredentialsProfile,
  stsHost,
  type AwsAuthOptions,
  type AwsCredentials,
  type AwsCredentialChainOptions,
} from './aws.ts';
export { GcpAuth, type GcpAuthOptions } from './gcp.ts';
export { AzureAuth, type AzureAuthOptions } from './azure.ts';
export { CloudCredentialError } from './cloud-http.ts';
