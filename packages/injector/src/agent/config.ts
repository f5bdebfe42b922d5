// The agent's configuration, parsed once at the edge: VAULTBRIDGE_AGENT_CONFIG (base64 JSON) or the JSON
// file named by VAULTBRIDGE_AGENT_CONFIG_FILE becomes an AgentConfig, or an AgentConfigError listing
// every bad field by its dotted name. The rest of the agent trusts the type.

import path from 'node:path/posix';
import { AUTH_TYPES } from '../annotations/spec.ts';
import { parseAgentLogLevel, parseBool, parseTimeout } from '../annotations/values.ts';
import { AGENT_CONFIG_ENV, AGENT_CONFIG_FILE_ENV, AGENT_CONFIG_VERSION, expandAgentConfig, type AgentConfig } from '../mutate/agent-config.ts';

/** Prefix for every absolute path the agent reads or writes: a test and local-run aid, unset in pods. */
export const AGENT_ROOT_ENV = 'VAULTBRIDGE_AGENT_ROOT';
/** How long init (and the sidecar's first render) keeps retrying before giving up, in milliseconds. */
export const AGENT_RETRY_BUDGET_ENV = 'VAULTBRIDGE_AGENT_RETRY_BUDGET_MS';
export const DEFAULT_RETRY_BUDGET_MS = 120_000;
export const DEFAULT_STATIC_SECRET_RENDER_INTERVAL_MS = 5 * 60_000;

export interface AgentConfigIssue {
  readonly field: string;
  readonly message: string;
}

export class AgentConfigError extends Error {
  readonly code = 'AGENT_CONFIG_INVALID';
  readonly source: string;
  readonly issues: readonly AgentConfigIssue[];

  constructor(source: string, issues: readonly AgentConfigIssue[]) {
    super(`invalid agent configuration from ${source}:\n${issues.map((issue) => `  ${issue.field}: ${issue.message}`).join('\n')}`);
    this.name = 'AgentConfigError';
    this.source = source;
    this.issues = issues;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where the configuration came from, and the JSON text. */
export function readAgentConfigText(env: Env, readFile: (file: string) => string): { source: string; text: string } {
  const encoded = env[AGENT_CONFIG_ENV];
  if (encoded !== undefined && encoded.trim() !== '') {
    const text = Buffer.from(encoded.trim(), 'base64').toString('utf8');
    return { source: AGENT_CONFIG_ENV, text };
  }
  const file = env[AGENT_CONFIG_FILE_ENV];
  if (file !== undefined && file.trim() !== '') {
    try {
      return { source: `${AGENT_CONFIG_FILE_ENV} (${file})`, text: readFile(file) };
    } catch (error) {
      throw new AgentConfigError(AGENT_CONFIG_FILE_ENV, [{ field: AGENT_CONFIG_FILE_ENV, message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})` }]);
    }
  }
  throw new AgentConfigError('environment', [
    { field: AGENT_CONFIG_ENV, message: `not set: the injector sets it (base64 JSON), or name a JSON file in ${AGENT_CONFIG_FILE_ENV}` },
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
    else issues.push({ field: 'VAULT_CLIENT_TIMEOUT', message: `expected seconds such as 60, or a duration such as 60s, got "${timeout}"` });
  }
  const retries = set('VAULT_MAX_RETRIES');
  if (retries !== undefined) {
    if (/^\d+$/.test(retries.trim())) vault.maxRetries = Number(retries);
    else issues.push({ field: 'VAULT_MAX_RETRIES', message: `expected a number of retries such as 2, got "${retries}"` });
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

/** Parses the environment into an AgentConfig. */
export function loadAgentConfig(env: Env, readFile: (file: string) => string): AgentConfig {
  const { source, text } = readAgentConfigText(env, readFile);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const hint = source === AGENT_CONFIG_ENV ? 'expected base64 of a JSON object' : 'expected a JSON object';
    throw new AgentConfigError(source, [{ field: source === AGENT_CONFIG_ENV ? AGENT_CONFIG_ENV : AGENT_CONFIG_FILE_ENV, message: `not valid JSON; ${hint}` }]);
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
    throw new AgentConfigError('environment', [{ field: AGENT_RETRY_BUDGET_ENV, message: `expected a number of milliseconds, got "${raw}"` }]);
  }
  return value;
}

class Checker {
  readonly issues: AgentConfigIssue[] = [];

  fail(field: string, message: string): undefined {
    this.issues.push({ field, message });
    return undefined;
  }

  object(value: unknown, field: string): Record<string, unknown> | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    return this.fail(field, `expected an object, got ${describe(value)}`);
  }

  string(value: unknown, field: string, options: { optional?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    if (value === undefined && options.optional) return undefined;
    if (typeof value !== 'string') return this.fail(field, `expected a string, got ${describe(value)}`);
    if (options.nonEmpty && value.trim() === '') return this.fail(field, 'must not be empty');
    return value;
  }

  boolean(value: unknown, field: string): boolean | undefined {
    if (typeof value === 'boolean') return value;
    return this.fail(field, `expected true or false, got ${describe(value)}`);
  }

  number(value: unknown, field: string, options: { min?: number; max?: number; optional?: boolean } = {}): number | undefined {
    if (value === undefined && options.optional) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(field, `expected a number, got ${describe(value)}`);
    if (options.min !== undefined && value < options.min) return this.fail(field, `expected at least ${options.min}, got ${value}`);
    if (options.max !== undefined && value > options.max) return this.fail(field, `expected at most ${options.max}, got ${value}`);
    return value;
  }

  absolutePath(value: unknown, field: string, options: { optional?: boolean } = {}): string | undefined {
    const text = this.string(value, field, { ...options, nonEmpty: true });
    if (text === undefined) return undefined;
    if (!text.startsWith('/') || text.includes('\0') || text.split('/').includes('..') || path.normalize(text) !== text || text.endsWith('/')) {
      return this.fail(field, `expected a clean absolute file path without ".." (such as /vault/secrets/db), got "${text}"`);
    }
    return text;
  }

  oneOf<T extends string>(value: unknown, field: string, choices: readonly T[]): T | undefined {
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
    return this.fail(field, `expected one of ${choices.join(', ')}, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/**
 * Checks the fields the agent acts on; the rest of the injector's config (cache, telemetry…) passes
 * through unchecked because this agent does not implement it yet.
 */
export function parseAgentConfig(value: unknown, source = 'configuration'): AgentConfig {
  const check = new Checker();
  // Fields left out take the agent's defaults (the webhook leaves out every default-valued one).
  const root = check.object(expandAgentConfig(value), '(root)');
  if (root === undefined) throw new AgentConfigError(source, check.issues);

  if (root.version !== AGENT_CONFIG_VERSION) check.fail('version', `expected ${AGENT_CONFIG_VERSION}, got ${describe(root.version)}; the injector and the agent image are of different releases`);
  check.oneOf(root.mode, 'mode', ['init', 'sidecar'] as const);

  const vault = check.object(root.vault, 'vault');
  if (vault) {
    const address = check.string(vault.address, 'vault.address', { nonEmpty: true });
    if (address !== undefined && !/^(https?:\/\/[^/]+|unix:\/\/\/.+)/.test(address)) {
      check.fail('vault.address', `expected a URL like https://vault:8200, got "${address}"`);
    }
    check.boolean(vault.tlsSkipVerify, 'vault.tlsSkipVerify');
    for (const key of ['namespace', 'caCertPem', 'tlsServerName'] as const) check.string(vault[key], `vault.${key}`, { optional: true });
    for (const key of ['caCert', 'caPath', 'clientCert', 'clientKey'] as const) check.absolutePath(vault[key], `vault.${key}`, { optional: true });
    check.number(vault.maxRetries, 'vault.maxRetries', { min: 0, optional: true });
    check.number(vault.timeoutMs, 'vault.timeoutMs', { min: 1, optional: true });
  }

  const auth = check.object(root.auth, 'auth');
  if (auth) {
    const type = check.oneOf(auth.type, 'auth.type', AUTH_TYPES);
    check.string(auth.mountPath, 'auth.mountPath', { nonEmpty: true });
    if (type === 'kubernetes' || type === 'jwt') {
      if (auth.role === undefined) check.fail('auth.role', `missing: ${type === 'jwt' ? 'JWT' : 'Kubernetes'} auth needs a Vault role; set the vault.hashicorp.com/role annotation`);
      else check.string(auth.role, 'auth.role', { nonEmpty: true });
    }
    check.absolutePath(auth.serviceAccountTokenPath, 'auth.serviceAccountTokenPath');
    const config = auth.config === undefined ? undefined : check.object(auth.config, 'auth.config');
    for (const [key, item] of Object.entries(config ?? {})) check.string(item, `auth.config.${key}`);
    if (type === 'approle') {
      if (config?.role_id_file_path === undefined) check.fail('auth.config.role_id_file_path', 'missing: AppRole auth needs the file holding the role_id (vault.hashicorp.com/auth-config-role-id-file-path)');
      else check.absolutePath(config.role_id_file_path, 'auth.config.role_id_file_path');
      check.absolutePath(config?.secret_id_file_path, 'auth.config.secret_id_file_path', { optional: true });
    }
    check.number(auth.minBackoffMs, 'auth.minBackoffMs', { min: 0, optional: true });
    check.number(auth.maxBackoffMs, 'auth.maxBackoffMs', { min: 0, optional: true });
    check.boolean(auth.exitOnError, 'auth.exitOnError');
  }

  if (!Array.isArray(root.tokenSinks)) check.fail('tokenSinks', `expected a list of absolute file paths, got ${describe(root.tokenSinks)}`);
  else root.tokenSinks.forEach((sink, index) => check.absolutePath(sink, `tokenSinks.${index}`));

  if (!Array.isArray(root.secrets)) check.fail('secrets', `expected a list, got ${describe(root.secrets)}`);
  else {
    const destinations = new Map<string, number>();
    root.secrets.forEach((item, index) => {
      const field = `secrets.${index}`;
      const secret = check.object(item, field);
      if (!secret) return;
      check.string(secret.name, `${field}.name`, { nonEmpty: true });
      const vaultPath = check.string(secret.path, `${field}.path`, { optional: true, nonEmpty: true });
      const template = check.string(secret.template, `${field}.template`, { optional: true });
      const templateFile = check.absolutePath(secret.templateFile, `${field}.templateFile`, { optional: true });
      if (vaultPath === undefined && template === undefined && templateFile === undefined) {
        check.fail(`${field}.path`, 'missing: a secret needs a Vault path (agent-inject-secret-<name>) or a template');
      }
      check.oneOf(secret.defaultTemplate, `${field}.defaultTemplate`, ['map', 'json'] as const);
      const destination = check.absolutePath(secret.destination, `${field}.destination`);
      const volume = check.absolutePath(secret.volume, `${field}.volume`, { optional: true });
      if (volume !== undefined && destination !== undefined && !destination.startsWith(`${volume}/`)) {
        check.fail(`${field}.volume`, `the destination ${destination} is not inside the volume ${volume}`);
      }
      if (destination !== undefined) {
        const clash = destinations.get(destination);
        if (clash !== undefined) check.fail(`${field}.destination`, `${destination} is also the destination of secrets.${clash}`);
        destinations.set(destination, index);
      }
      check.number(secret.perms, `${field}.perms`, { min: 0, max: 0o7777, optional: true });
      check.string(secret.command, `${field}.command`, { optional: true, nonEmpty: true });
      check.string(secret.leftDelimiter, `${field}.leftDelimiter`, { nonEmpty: true });
      check.string(secret.rightDelimiter, `${field}.rightDelimiter`, { nonEmpty: true });
      check.boolean(secret.errorOnMissingKey, `${field}.errorOnMissingKey`);
      const engine = check.string(secret.templateEngine, `${field}.templateEngine`, { optional: true });
      if (engine !== undefined && engine !== 'go' && engine !== 'handlebars') check.fail(`${field}.templateEngine`, `"${engine}" is not go or handlebars`);
    });
  }

  const templateConfig = check.object(root.templateConfig, 'templateConfig');
  if (templateConfig) {
    check.boolean(templateConfig.exitOnRetryFailure, 'templateConfig.exitOnRetryFailure');
    check.number(templateConfig.staticSecretRenderIntervalMs, 'templateConfig.staticSecretRenderIntervalMs', { min: 1, optional: true });
  }
  check.absolutePath(root.pidFile, 'pidFile');
  check.absolutePath(root.readyFile, 'readyFile', { optional: true });
  if (root.revokeOnShutdown !== undefined) {
    const revoke = check.object(root.revokeOnShutdown, 'revokeOnShutdown');
    if (revoke) check.number(revoke.graceSeconds, 'revokeOnShutdown.graceSeconds', { min: 0 });
  }
  const log = check.object(root.log, 'log');
  if (log) {
    // A hand-written file may use any spelling Vault accepts (`notice`, `warning`, `err`).
    const level = typeof log.level === 'string' ? parseAgentLogLevel(log.level) : undefined;
    if (typeof level === 'string') log.level = level;
    check.oneOf(log.level, 'log.level', ['trace', 'debug', 'info', 'warn', 'error'] as const);
    check.oneOf(log.format, 'log.format', ['standard', 'json'] as const);
  }

  if (check.issues.length > 0) throw new AgentConfigError(source, check.issues);
  return root as unknown as AgentConfig;
}
