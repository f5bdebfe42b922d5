// The agent's configuration, parsed once at the edge: VAULTBRIDGE_AGENT_CONFIG (base64 JSON) or the JSON
// file named by VAULTBRIDGE_AGENT_CONFIG_FILE becomes an AgentConfig, or an AgentConfigError listing
// every bad field by its dotted name. The rest of the agent trusts the type.

import {
  AGENT_CONFIG_ENV,
  AGENT_CONFIG_FILE_ENV,
  AGENT_RETRY_BUDGET_ENV,
  AgentConfigError,
  DEFAULT_RETRY_BUDGET_MS,
  decodeAgentConfigText,
  parseAgentConfig,
  parseAgentLogLevel,
  parseBool,
  parseTimeout,
  type AgentConfig,
  type AgentConfigIssue,
} from './contract/index.ts';
import { readVaultAgentFile } from './vault-agent-file.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Where the configuration came from, and the JSON text. */
export function readAgentConfigText(env: Env, readFile: (file: string) => string): { source: string; text: string } {
  const encoded = env[AGENT_CONFIG_ENV];
  if (encoded !== undefined && encoded.trim() !== '') {
    return { source: AGENT_CONFIG_ENV, text: decodeAgentConfigText(encoded) };
  }
  const file = env[AGENT_CONFIG_FILE_ENV];
  if (file !== undefined && file.trim() !== '') {
    try {
      return { source: `${AGENT_CONFIG_FILE_ENV} (${file})`, text: readFile(file) };
    } catch (error) {
      throw new AgentConfigError(AGENT_CONFIG_FILE_ENV, [
        {
          field: AGENT_CONFIG_FILE_ENV,
          message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        },
      ]);
    }
  }
  throw new AgentConfigError('environment', [
    {
      field: AGENT_CONFIG_ENV,
      message: `not set: the injector sets it (base64 JSON), or name a JSON file in ${AGENT_CONFIG_FILE_ENV}`,
    },
  ]);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Vault's client variables, applied over the configuration as Vault Agent applies them over its file
// (an env var beats the file). The webhook sets them with `agent-configmap`, as vault-k8s does
// (container_env.go), so the pod's log and client annotations reach a hand-written config.
const VAULT_STRING_ENV: ReadonlyArray<readonly [string, string]> = [
  ['VAULT_ADDR', 'address'],
  ['VAULT_NAMESPACE', 'namespace'],
  ['VAULT_CACERT', 'caCert'],
  ['VAULT_CAPATH', 'caPath'],
  ['VAULT_CACERT_BYTES', 'caCertPem'],
  ['VAULT_CLIENT_CERT', 'clientCert'],
  ['VAULT_CLIENT_KEY', 'clientKey'],
  ['VAULT_TLS_SERVER_NAME', 'tlsServerName'],
];

/** `VAULT_*` variables over the parsed JSON; a bad value is an issue naming the variable. */
export function applyVaultEnv(value: unknown, env: Env): { value: unknown; issues: AgentConfigIssue[] } {
  if (!isObject(value)) return { value, issues: [] };
  const issues: AgentConfigIssue[] = [];
  const set = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw;
  };
  const vault: Json = isObject(value.vault) ? { ...value.vault } : {};
  for (const [name, field] of VAULT_STRING_ENV) {
    const raw = set(name);
    // A PEM keeps its bytes; addresses and paths lose stray blanks.
    if (raw !== undefined) vault[field] = field === 'caCertPem' ? raw : raw.trim();
  }
  const skipVerify = set('VAULT_SKIP_VERIFY');
  if (skipVerify !== undefined) {
    const parsed = parseBool(skipVerify.trim());
    if (typeof parsed === 'boolean') vault.tlsSkipVerify = parsed;
    else issues.push({ field: 'VAULT_SKIP_VERIFY', message: `expected ${parsed.expected}, got "${skipVerify}"` });
  }
  const timeout = set('VAULT_CLIENT_TIMEOUT');
  if (timeout !== undefined) {
    const parsed = parseTimeout(timeout.trim());
    if (typeof parsed === 'number' && parsed > 0) vault.timeoutMs = parsed;
    else
      issues.push({
        field: 'VAULT_CLIENT_TIMEOUT',
        message: `expected seconds such as 60, or a duration such as 60s, got "${timeout}"`,
      });
  }
  const retries = set('VAULT_MAX_RETRIES');
  if (retries !== undefined) {
    if (/^\d+$/.test(retries.trim())) vault.maxRetries = Number(retries);
    else
      issues.push({ field: 'VAULT_MAX_RETRIES', message: `expected a number of retries such as 2, got "${retries}"` });
  }
  const log: Json = isObject(value.log) ? { ...value.log } : {};
  const level = set('VAULT_LOG_LEVEL');
  if (level !== undefined) {
    const parsed = parseAgentLogLevel(level);
    if (typeof parsed === 'string') log.level = parsed;
    else issues.push({ field: 'VAULT_LOG_LEVEL', message: `expected ${parsed.expected}, got "${level}"` });
  }
  const format = set('VAULT_LOG_FORMAT');
  if (format !== undefined) {
    const lower = format.trim().toLowerCase();
    if (lower === 'standard' || lower === 'json') log.format = lower;
    else issues.push({ field: 'VAULT_LOG_FORMAT', message: `expected standard or json, got "${format}"` });
  }
  const out: Json = { ...value };
  if (Object.keys(vault).length > 0 || isObject(value.vault)) out.vault = vault;
  if (Object.keys(log).length > 0 || isObject(value.log)) out.log = log;
  return { value: out, issues };
}

/**
 * A Vault Agent configuration brought in an agent-configmap from vault-k8s: the webhook names
 * config(-init).json; when the ConfigMap holds only Vault Agent's config(-init).hcl, that is read.
 */
function vaultAgentFileBeside(
  env: Env,
  readFile: (file: string) => string,
): { source: string; file: string; text: string } | undefined {
  const file = env[AGENT_CONFIG_FILE_ENV]?.trim();
  if (file === undefined || !/\.(json|hcl)$/.test(file)) return undefined;
  const hcl = file.replace(/\.json$/, '.hcl');
  if (file.endsWith('.json')) {
    try {
      readFile(file);
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    }
  }
  try {
    return { source: `${AGENT_CONFIG_FILE_ENV} (${hcl}, Vault Agent's format)`, file: hcl, text: readFile(hcl) };
  } catch {
    return undefined;
  }
}

/** Parses the environment into an AgentConfig. */
export function loadAgentConfig(env: Env, readFile: (file: string) => string): AgentConfig {
  const vaultAgent = env[AGENT_CONFIG_ENV]?.trim() ? undefined : vaultAgentFileBeside(env, readFile);
  if (vaultAgent !== undefined) {
    const { value: translated, issues } = readVaultAgentFile(vaultAgent.text, vaultAgent.file);
    if (issues.length > 0) throw new AgentConfigError(vaultAgent.source, issues);
    const applied = applyVaultEnv(translated, env);
    if (applied.issues.length > 0) throw new AgentConfigError('environment', applied.issues);
    return parseAgentConfig(applied.value, vaultAgent.source);
  }
  const { source, text } = readAgentConfigText(env, readFile);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const hint = source === AGENT_CONFIG_ENV ? 'expected base64 of a JSON object' : 'expected a JSON object';
    throw new AgentConfigError(source, [
      {
        field: source === AGENT_CONFIG_ENV ? AGENT_CONFIG_ENV : AGENT_CONFIG_FILE_ENV,
        message: `not valid JSON; ${hint}`,
      },
    ]);
  }
  const applied = applyVaultEnv(value, env);
  if (applied.issues.length > 0) throw new AgentConfigError('environment', applied.issues);
  return parseAgentConfig(applied.value, source);
}

/** Retry budget of init and of the sidecar's first render. */
export function retryBudgetMs(env: Env): number {
  const raw = env[AGENT_RETRY_BUDGET_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_RETRY_BUDGET_MS;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new AgentConfigError('environment', [
      { field: AGENT_RETRY_BUDGET_ENV, message: `expected a number of milliseconds, got "${raw}"` },
    ]);
  }
  return value;
}
