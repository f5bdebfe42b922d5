// The environment the webhook sets on both agent containers and the agent reads: the names, the
// config version and the agent's defaults for settings the webhook does not send.

/** Env var holding base64(JSON(AgentConfig)), as vault-k8s does with VAULT_CONFIG. */
export const AGENT_CONFIG_ENV = 'VAULTBRIDGE_AGENT_CONFIG';
/** Env var naming a JSON AgentConfig file instead (set with `agent-configmap`). */
export const AGENT_CONFIG_FILE_ENV = 'VAULTBRIDGE_AGENT_CONFIG_FILE';
/** Bumped when a webhook of one release would write a config an agent of another misreads. */
export const AGENT_CONFIG_VERSION = 1;
/** Prefix for every absolute path the agent reads or writes: a test and local-run aid, unset in pods. */
export const AGENT_ROOT_ENV = 'VAULTBRIDGE_AGENT_ROOT';
/** How long init (and the sidecar's first render) keeps retrying before giving up, in milliseconds. */
export const AGENT_RETRY_BUDGET_ENV = 'VAULTBRIDGE_AGENT_RETRY_BUDGET_MS';
export const DEFAULT_RETRY_BUDGET_MS = 120_000;
/** Vault Agent's default for `static_secret_render_interval`. */
export const DEFAULT_STATIC_SECRET_RENDER_INTERVAL_MS = 5 * 60_000;
