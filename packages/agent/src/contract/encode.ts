// The wire form of the config: base64 JSON with every default-valued field left out (the webhook's
// side, `encodeAgentConfig`) and put back (the agent's side, `expandAgentConfig`, before validation).

import { PID_FILE, TOKEN_FILE } from './paths.ts';
import type { AgentConfig } from './types.ts';

/**
 * What the agent assumes for a field the encoded config leaves out. The webhook leaves out every field
 * that equals these, so the env var of a typical pod is about half as long (it is in the pod object,
 * stored in etcd, sent to every watcher, twice per pod); `expandAgentConfig` puts them back.
 */
export const AGENT_CONFIG_DEFAULTS = {
  tlsSkipVerify: false,
  authConfig: {},
  authExitOnError: false,
  tokenSinks: [TOKEN_FILE],
  secret: { defaultTemplate: 'map', leftDelimiter: '{{', rightDelimiter: '}}', errorOnMissingKey: false },
  exitOnRetryFailure: true,
  pidFile: PID_FILE,
  log: { level: 'info', format: 'standard' },
} as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` is the default: primitives by value, lists element-wise, `{}` only as `{}`. */
function isDefault(value: unknown, fallback: unknown): boolean {
  if (typeof fallback !== 'object' || fallback === null) return value === fallback;
  if (Array.isArray(fallback))
    return Array.isArray(value) && value.length === fallback.length && value.every((item, i) => item === fallback[i]);
  return isObject(value) && Object.keys(value).length === 0 && Object.keys(fallback).length === 0;
}

/** `record` without the keys whose value is the default (this runs for every review: no JSON round trips). */
function without(record: Json, defaults: Record<string, unknown>): Json {
  const out: Json = {};
  for (const key of Object.keys(record)) {
    const value = record[key];
    // Undefined is what JSON leaves out anyway; the webhook writes optional fields that way (no spreads).
    if (value === undefined) continue;
    if (Object.hasOwn(defaults, key) && isDefault(value, defaults[key])) continue;
    out[key] = value;
  }
  return out;
}

const TOP_DEFAULTS = { tokenSinks: AGENT_CONFIG_DEFAULTS.tokenSinks, pidFile: AGENT_CONFIG_DEFAULTS.pidFile };
const VAULT_DEFAULTS = { tlsSkipVerify: AGENT_CONFIG_DEFAULTS.tlsSkipVerify };
const AUTH_DEFAULTS = { config: AGENT_CONFIG_DEFAULTS.authConfig, exitOnError: AGENT_CONFIG_DEFAULTS.authExitOnError };
const TEMPLATE_CONFIG_DEFAULTS = { exitOnRetryFailure: AGENT_CONFIG_DEFAULTS.exitOnRetryFailure };

function isEmpty(record: Json): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

/**
 * The config with every default-valued field left out (see AGENT_CONFIG_DEFAULTS). One pass over the
 * config's keys, in its order: the webhook runs this twice per review, and copying the config and then
 * deleting the usual empty `templateConfig` and `log` from the copy made a slow dictionary object each time.
 */
export function compactAgentConfig(config: AgentConfig): Json {
  const record = config as unknown as Json;
  const out: Json = {};
  for (const key of Object.keys(record)) {
    let value = record[key];
    if (value === undefined) continue;
    switch (key) {
      case 'vault':
        value = without(value as Json, VAULT_DEFAULTS);
        break;
      case 'auth':
        value = without(value as Json, AUTH_DEFAULTS);
        break;
      case 'secrets':
        value = config.secrets.map((secret) => without(secret as unknown as Json, AGENT_CONFIG_DEFAULTS.secret));
        break;
      case 'templateConfig':
        value = without(value as Json, TEMPLATE_CONFIG_DEFAULTS);
        if (isEmpty(value as Json)) continue;
        break;
      case 'log':
        value = without(value as Json, AGENT_CONFIG_DEFAULTS.log);
        if (isEmpty(value as Json)) continue;
        break;
      default:
        if (Object.hasOwn(TOP_DEFAULTS, key) && isDefault(value, TOP_DEFAULTS[key as keyof typeof TOP_DEFAULTS]))
          continue;
    }
    out[key] = value;
  }
  return out;
}

/** A config as encoded (or hand-written in a ConfigMap) with the defaults filled in; anything else untouched. */
export function expandAgentConfig(value: unknown): unknown {
  if (!isObject(value)) return value;
  const d = AGENT_CONFIG_DEFAULTS;
  return {
    ...value,
    ...(isObject(value.vault) ? { vault: { tlsSkipVerify: d.tlsSkipVerify, ...value.vault } } : {}),
    ...(isObject(value.auth) ? { auth: { config: {}, exitOnError: d.authExitOnError, ...value.auth } } : {}),
    tokenSinks: value.tokenSinks ?? [...d.tokenSinks],
    ...(Array.isArray(value.secrets)
      ? { secrets: value.secrets.map((secret: unknown) => (isObject(secret) ? { ...d.secret, ...secret } : secret)) }
      : {}),
    templateConfig:
      value.templateConfig === undefined
        ? { exitOnRetryFailure: d.exitOnRetryFailure }
        : isObject(value.templateConfig)
          ? { exitOnRetryFailure: d.exitOnRetryFailure, ...value.templateConfig }
          : value.templateConfig,
    pidFile: value.pidFile ?? d.pidFile,
    log: value.log === undefined ? { ...d.log } : isObject(value.log) ? { ...d.log, ...value.log } : value.log,
  };
}

export function encodeAgentConfig(config: AgentConfig): string {
  return Buffer.from(JSON.stringify(compactAgentConfig(config)), 'utf8').toString('base64');
}

/** The JSON text of base64 `VAULTBRIDGE_AGENT_CONFIG` (the inverse of encodeAgentConfig, before expanding). */
export function decodeAgentConfigText(encoded: string): string {
  return Buffer.from(encoded.trim(), 'base64').toString('utf8');
}
