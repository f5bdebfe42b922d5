export { LeaseLock, microTime, type LeaseLockOptions, type LeaseLockEvents } from './lease-lock.ts';
export { withAbortSignal, withKubeRequestDeadline } from './request-deadline.ts';
export { KubeError, KubeConfigError, ServiceAccountTokenError } from './errors.ts';
export { isConflict, isNotFound, kubeStatusOf } from './api-errors.ts';
export { loadKubeConfig } from './kubeconfig.ts';
export { reuseKubeConnections } from './connection-reuse.ts';
// The file and static sources straight from token-file.ts: a re-export through token-source.ts would
// keep its @kubernetes/client-node import (and undici with it) in every bundle that reads a token file.
export {
  FileTokenSource,
  StaticTokenSource,
  defaultServiceAccountTokenPath,
  type ServiceAccountTokenSource,
} from './token-file.ts';
export { TokenRequestSource, type TokenRequestApi, type TokenRequestSourceOptions } from './token-source.ts';
export { loadOrCreateSecretKey, type SecretKeyOptions } from './secret-key.ts';
export {
  KubeHttp,
  KubeApiError,
  KubeWatchIdleError,
  KUBE_HTTP_DEADLINE_MS,
  inClusterCredentials,
  inClusterNamespace,
  kubeConfigCredentials,
  serviceAccountDir,
  type KubeCredentials,
  type KubeHttpOptions,
  type KubeRequestOptions,
  type KubeWatchOptions,
} from './kube-http.ts';
export {
  asLocalKubeError,
  chooseKubeAccess,
  connectKube,
  kubeConfigClientFile,
  type ConnectKubeOptions,
  type KubeAccessChoice,
  type KubeAccessOptions,
} from './connect.ts';
export { WatchLineParser, WatchStreamError, type WatchEvent, type WatchEventType } from './watch-stream.ts';
