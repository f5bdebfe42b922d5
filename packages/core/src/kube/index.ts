export { LeaseLock, microTime, type LeaseLockOptions, type LeaseLockEvents } from './lease-lock.ts';
export { withAbortSignal, withKubeRequestDeadline } from './request-deadline.ts';
export { KubeError, KubeConfigError, ServiceAccountTokenError } from './errors.ts';
export { loadKubeConfig } from './kubeconfig.ts';
export { reuseKubeConnections } from './connection-reuse.ts';
export {
  FileTokenSource, StaticTokenSource, TokenRequestSource, defaultServiceAccountTokenPath, type ServiceAccountTokenSource,
  type TokenRequestApi, type TokenRequestSourceOptions,
} from './token-source.ts';
export { loadOrCreateSecretKey, type SecretKeyOptions } from './secret-key.ts';
