// The well-known places in the pod both sides agree on: the webhook mounts volumes there and writes
// them into the config; the agent writes its token, pid and ready files there. They are vault-k8s's,
// so existing probes and scripts keep working.

export const HOME_PATH = '/home/vault';
/** where `vault-secrets` is mounted unless `secret-volume-path` says otherwise */
export const SECRETS_PATH = '/vault/secrets';
/** where the `agent-configmap` ConfigMap is mounted (its config(-init).hcl and template files) */
export const CONFIG_PATH = '/vault/configs';
/** the init → sidecar persistent cache (the `vault-agent-cache` memory volume) */
export const CACHE_PATH = '/vault/agent-cache';

/** env-var secrets (ours): the static exec wrapper in the agent image (tools/images/vaultbridge-exec.c) */
export const EXEC_WRAPPER_IN_IMAGE = '/usr/local/bin/vaultbridge-exec';
/** where the `vault-exec` emptyDir is mounted: the agent copies the wrapper there, read-only for the apps */
export const EXEC_PATH = '/vault/exec';
export const EXEC_WRAPPER = `${EXEC_PATH}/vaultbridge-exec`;

export const TOKEN_FILE = `${HOME_PATH}/.vault-token`;
export const PID_FILE = `${HOME_PATH}/.pid`;
/** Written by the sidecar after its first complete render; the native-sidecar startup probe checks it. */
export const READY_FILE = `${HOME_PATH}/.vaultbridge-ready`;

/** The agent binary in the agent image; subcommands `init`, `sidecar`, `probe`, `template`. */
export const AGENT_BINARY = 'vaultbridge-agent';
