// Container, volume and path names the webhook adds. They are vault-k8s's, so existing probes, log
// commands (`kubectl logs -c vault-agent`) and json-patch annotations keep working.

export const INIT_CONTAINER_NAME = 'vault-agent-init';
export const SIDECAR_CONTAINER_NAME = 'vault-agent';

export const HOME_INIT_VOLUME = 'home-init';
export const HOME_SIDECAR_VOLUME = 'home-sidecar';
export const HOME_PATH = '/home/vault';
export const SECRETS_VOLUME = 'vault-secrets';
/** where `vault-secrets` is mounted unless `secret-volume-path` says otherwise */
export const SECRETS_PATH = '/vault/secrets';
/** `vault-secrets-custom-<i>` for each distinct per-secret directory */
export const CUSTOM_SECRETS_VOLUME_PREFIX = 'vault-secrets-custom-';
export const CONFIG_VOLUME = 'vault-config';
export const CONFIG_PATH = '/vault/configs';
export const EXTRA_SECRET_VOLUME = 'extra-secrets';
export const EXTRA_SECRET_PATH = '/vault/custom';
export const TLS_SECRET_VOLUME = 'vault-tls-secrets';
export const TLS_SECRET_PATH = '/vault/tls';
export const CACHE_VOLUME = 'vault-agent-cache';
export const CACHE_PATH = '/vault/agent-cache';

export const TOKEN_FILE = `${HOME_PATH}/.vault-token`;
export const PID_FILE = `${HOME_PATH}/.pid`;
/** Written by the sidecar after its first complete render; the native-sidecar startup probe checks it. */
export const READY_FILE = `${HOME_PATH}/.vaultbridge-ready`;

/** The agent binary in the agent image; subcommands `init`, `sidecar`, `probe`. */
export const AGENT_BINARY = 'vaultbridge-agent';

export const STATUS_INJECTED = 'injected';
