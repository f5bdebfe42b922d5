// The agent's configuration, parsed once at the edge: VAULTBRIDGE_AGENT_CONFIG (base64 JSON) or the JSON
// file named by VAULTBRIDGE_AGENT_CONFIG_FILE becomes an AgentConfig, or an AgentConfigError listing
// every bad field by its dotted name. The rest of the agent trusts the type.

import path from 'node:path/posix';
import { ConfigError, NO_GIVEN_VALUE, parseConfig } from '@vaultbridge/core';
import { z } from 'zod';
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

// The contract the agent accepts, every field of AgentConfig, once. `satisfies` below makes the compiler
// hold the schema and the type together: a field added to one and not the other does not build.
const given = { params: NO_GIVEN_VALUE };

const text = z.string({ error: 'expected text' });
const nonEmpty = text.refine((value) => value.trim() !== '', { error: 'must not be empty' });

function isCleanAbsolute(value: string): boolean {
  return value.startsWith('/') && !value.includes('\0') && !value.split('/').includes('..') && path.normalize(value) === value && !value.endsWith('/');
}

const absolutePath = z
  .string({ error: 'expected a clean absolute file path without ".." (such as /vault/secrets/db)' })
  .refine(isCleanAbsolute, { error: 'expected a clean absolute file path without ".." (such as /vault/secrets/db)' });

const bool = z.boolean({ error: 'expected true or false' });
const atLeast = (min: number) => z.number({ error: 'expected a number' }).min(min, { error: `expected at least ${min}` });
const wholeAtLeast = (min: number) => z.int({ error: 'expected a whole number' }).min(min, { error: `expected at least ${min}` });
const oneOf = <const T extends readonly [string, ...string[]]>(choices: T) => z.enum(choices, { error: `expected one of ${choices.join(', ')}` });

/** `127.0.0.1:8200`: the agent only listens on what the webhook wrote, always host:port. */
const listenerAddress = z.string({ error: 'expected host:port such as 127.0.0.1:8200' }).refine((value) => {
  const match = /^(.+):(\d+)$/.exec(value);
  return match !== null && Number(match[2]) <= 65_535;
}, { error: 'expected host:port such as 127.0.0.1:8200' });
const listener = z.object({ listenerAddress }, { error: 'expected a mapping with listenerAddress' });

const features = z.array(oneOf(['auto-auth', 'caching', 'templating'] as const), { error: 'expected a list of auto-auth, caching, templating' });

const vaultSchema = z.object({
  address: nonEmpty.refine((value) => /^(https?:\/\/[^/]+|unix:\/\/\/.+)/.test(value), { error: 'expected a URL like https://vault:8200' }),
  namespace: text.optional(),
  proxyAddress: text.optional(),
  caCert: absolutePath.optional(),
  caPath: absolutePath.optional(),
  caCertPem: text.optional(),
  clientCert: absolutePath.optional(),
  clientKey: absolutePath.optional(),
  tlsSkipVerify: bool,
  tlsServerName: text.optional(),
  maxRetries: wholeAtLeast(0).optional(),
  timeoutMs: atLeast(1).optional(),
}, { error: 'expected a mapping' });

const authSchema = z.object({
  type: oneOf(AUTH_TYPES),
  mountPath: nonEmpty,
  role: nonEmpty.optional(),
  serviceAccountTokenPath: absolutePath,
  config: z.record(z.string(), text, { error: 'expected a mapping of text' }),
  minBackoffMs: atLeast(0).optional(),
  maxBackoffMs: atLeast(0).optional(),
  exitOnError: bool,
}, { error: 'expected a mapping' }).superRefine((auth, context) => {
  if ((auth.type === 'kubernetes' || auth.type === 'jwt') && auth.role === undefined) {
    const method = auth.type === 'jwt' ? 'JWT' : 'Kubernetes';
    context.addIssue({ code: 'custom', path: ['role'], message: `missing: ${method} auth needs a Vault role; set the vault.hashicorp.com/role annotation`, ...given });
  }
  if (auth.type !== 'approle') return;
  const roleIdFile = auth.config.role_id_file_path;
  if (roleIdFile === undefined) {
    context.addIssue({ code: 'custom', path: ['config', 'role_id_file_path'], message: 'missing: AppRole auth needs the file holding the role_id (vault.hashicorp.com/auth-config-role-id-file-path)', ...given });
  }
  for (const key of ['role_id_file_path', 'secret_id_file_path'] as const) {
    const file = auth.config[key];
    if (file !== undefined && !isCleanAbsolute(file)) {
      context.addIssue({ code: 'custom', path: ['config', key], message: `expected a clean absolute file path without ".." (such as /vault/secrets/db), got "${file}"`, ...given });
    }
  }
});

const secretSchema = z.object({
  name: nonEmpty,
  path: nonEmpty.optional(),
  template: text.optional(),
  templateFile: absolutePath.optional(),
  defaultTemplate: oneOf(['map', 'json'] as const),
  destination: absolutePath,
  volume: absolutePath.optional(),
  perms: wholeAtLeast(0).max(0o7777, { error: 'expected at most 4095 (0o7777)' }).optional(),
  command: nonEmpty.optional(),
  leftDelimiter: nonEmpty,
  rightDelimiter: nonEmpty,
  errorOnMissingKey: bool,
  templateEngine: oneOf(['go', 'handlebars'] as const).optional(),
}, { error: 'expected a mapping' }).superRefine((secret, context) => {
  if (secret.path === undefined && secret.template === undefined && secret.templateFile === undefined) {
    context.addIssue({ code: 'custom', path: ['path'], message: 'missing: a secret needs a Vault path (agent-inject-secret-<name>) or a template', ...given });
  }
  if (secret.volume !== undefined && !secret.destination.startsWith(`${secret.volume}/`)) {
    context.addIssue({ code: 'custom', path: ['volume'], message: `the destination ${secret.destination} is not inside the volume ${secret.volume}`, ...given });
  }
});

const secretsSchema = z.array(secretSchema, { error: 'expected a list' }).superRefine((secrets, context) => {
  const destinations = new Map<string, number>();
  secrets.forEach((secret, index) => {
    const clash = destinations.get(secret.destination);
    if (clash !== undefined) {
      context.addIssue({ code: 'custom', path: [index, 'destination'], message: `${secret.destination} is also the destination of secrets.${clash}`, ...given });
    }
    destinations.set(secret.destination, index);
  });
});

// A hand-written file may use any spelling Vault accepts (`notice`, `warning`, `err`).
const logLevelSchema = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const level = parseAgentLogLevel(value);
  return typeof level === 'string' ? level : value;
}, oneOf(['trace', 'debug', 'info', 'warn', 'error'] as const));

export const agentConfigSchema = z.object({
  version: z.literal(AGENT_CONFIG_VERSION, { error: `expected ${AGENT_CONFIG_VERSION}; the injector and the agent image are of different releases` }),
  mode: oneOf(['init', 'sidecar'] as const),
  vault: vaultSchema,
  auth: authSchema,
  tokenSinks: z.array(absolutePath, { error: 'expected a list of absolute file paths' }),
  secrets: secretsSchema,
  templateConfig: z.object({
    exitOnRetryFailure: bool,
    staticSecretRenderIntervalMs: atLeast(1).optional(),
    maxConnectionsPerHost: wholeAtLeast(0).optional(),
    leaseRenewalThreshold: atLeast(0).max(1, { error: 'expected a fraction from 0 to 1, such as 0.9' }).optional(),
  }, { error: 'expected a mapping' }),
  pidFile: absolutePath,
  readyFile: absolutePath.optional(),
  revokeOnShutdown: z.object({ graceSeconds: atLeast(0) }, { error: 'expected a mapping with graceSeconds' }).optional(),
  cache: z.object({
    listenerAddress,
    useAutoAuthToken: oneOf(['true', 'false', 'force'] as const),
    persist: z.object({ path: absolutePath, exitOnError: bool }, { error: 'expected a mapping with path and exitOnError' }).optional(),
  }, { error: 'expected a mapping' }).optional(),
  quit: listener.optional(),
  metrics: listener.optional(),
  log: z.object({ level: logLevelSchema, format: oneOf(['standard', 'json'] as const) }, { error: 'expected a mapping' }),
  // Vault Agent's telemetry stanza, from agent-telemetry-* (values JSON-parsed when they can be).
  telemetry: z.record(z.string().min(1, { error: 'expected a telemetry option name such as prometheus_retention_time' }), z.json(), { error: 'expected a mapping' }).optional(),
  disableIdleConnections: features.optional(),
  disableKeepAlives: features.optional(),
}, { error: 'expected an object' }) satisfies z.ZodType<AgentConfig, unknown>;

// Nothing the agent configuration holds is a secret value: tokens and keys are files it names, so
// every refused value can be shown.
const NOTHING_SECRET = (): boolean => false;

/** The AgentConfig from its JSON (defaults filled in); throws AgentConfigError naming every bad field. */
export function parseAgentConfig(value: unknown, source = 'configuration'): AgentConfig {
  try {
    // Fields left out take the agent's defaults (the webhook leaves out every default-valued one).
    return parseConfig(agentConfigSchema, expandAgentConfig(value), { source, isSecret: NOTHING_SECRET });
  } catch (error) {
    if (error instanceof ConfigError) throw new AgentConfigError(source, error.issues);
    throw error;
  }
}
