// Container, volume and path names the webhook adds (the paths the agent also uses are the contract's,
// re-exported here). They are vault-k8s's, so existing probes, log
// commands (`kubectl logs -c vault-agent`) and json-patch annotations keep working.

export const INIT_CONTAINER_NAME = 'vault-agent-init';
export const SIDECAR_CONTAINER_NAME = 'vault-agent';

export const HOME_INIT_VOLUME = 'home-init';
export const HOME_SIDECAR_VOLUME = 'home-sidecar';
export const SECRETS_VOLUME = 'vault-secrets';
/** `vault-secrets-custom-<i>` for each distinct per-secret directory */
export const CUSTOM_SECRETS_VOLUME_PREFIX = 'vault-secrets-custom-';
export const CONFIG_VOLUME = 'vault-config';
export const CONFIG_PATH = '/vault/configs';
export const EXTRA_SECRET_VOLUME = 'extra-secrets';
export const EXTRA_SECRET_PATH = '/vault/custom';
export const TLS_SECRET_VOLUME = 'vault-tls-secrets';
export const TLS_SECRET_PATH = '/vault/tls';
export const CACHE_VOLUME = 'vault-agent-cache';
/** env-var secrets (ours): the emptyDir the agent copies the exec wrapper into (EXEC_PATH) */
export const EXEC_VOLUME = 'vault-exec';

export const STATUS_INJECTED = 'injected';

export {
  AGENT_BINARY,
  CACHE_PATH,
  EXEC_PATH,
  EXEC_WRAPPER,
  HOME_PATH,
  PID_FILE,
  READY_FILE,
  SECRETS_PATH,
  TOKEN_FILE,
} from '@vaultbridge/agent/contract';
