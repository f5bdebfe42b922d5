export { VaultAuthError, TokenManagerStoppedError } from './errors.ts';
export type { VaultAuthMethod, VaultLogin } from './login.ts';
export { KubernetesAuth, type KubernetesAuthOptions } from './kubernetes.ts';
export { JwtAuth, type JwtAuthOptions } from './jwt.ts';
export { AppRoleAuth, type AppRoleAuthOptions } from './approle.ts';
export { CertAuth, type CertAuthOptions } from './cert.ts';
export { TokenManager, type TokenManagerOptions, type TokenManagerEvents, type TokenInfo, type TokenOperation } from './token-manager.ts';
export { TokenManagerCache, tokenManagerKey } from './token-cache.ts';
export {
  FileTokenSource, StaticTokenSource, defaultServiceAccountTokenPath, type ServiceAccountTokenSource,
} from '../kube/token-file.ts';
