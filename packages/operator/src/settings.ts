// The operator's settings: one schema, read from the flags and from the environment through the same
// checks, so `VSO_MAX_CONCURRENT_RECONCILES=-1` stops the start exactly as `--max-concurrent-reconciles -1`
// does, each error naming what the user wrote (the flag or the variable) and what is expected.
import { booleanValue, fromEnv, logLevel, parseConfig, type LogLevel } from '@vaultbridge/core';
// zod/mini, not zod: the same checks and messages; the bundle keeps only the zod code it calls.
import * as z from 'zod/mini';
import { VaultAddressPolicy } from './guards/vault-address.ts';

const nonEmpty = z.string().check(z.trim(), z.minLength(1));

// Flags arrive as text (or `true` for a bare boolean flag), variables always as text.
const positiveInteger = z.coerce
  .number({ error: 'expected a whole number of 1 or more' })
  .check(
    z.int({ error: 'expected a whole number of 1 or more' }),
    z.gte(1, { error: 'expected a whole number of 1 or more' }),
  );

const hostPort = z.string().check(
  z.refine((text) => splitHostPort(text) !== undefined, {
    error: 'expected host:port such as 0.0.0.0:8081 or :8081',
  }),
);

/** `a, b` → ['a', 'b'], each checked to be a Vault address, so a typo stops the start. */
const addressList = z.pipe(
  z.string(),
  z.transform((text: string, payload): string[] => {
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    try {
      new VaultAddressPolicy(entries);
    } catch (error) {
      // zod/mini's transform has no addIssue: the issue is pushed as zod's addIssue would.
      payload.issues.push({
        code: 'custom',
        message: `${(error as Error).message}; expected comma-separated Vault addresses`,
        input: text,
      });
      return z.NEVER;
    }
    return entries;
  }),
);

const settingsSchema = z.object({
  kubeconfig: z.optional(nonEmpty),
  operatorNamespace: z.optional(nonEmpty),
  installCrds: z.optional(booleanValue()),
  maxConcurrentReconciles: z.optional(positiveInteger),
  healthProbeBindAddress: z.optional(hostPort),
  leaderElect: z.optional(booleanValue()),
  allowedVaultAddresses: z.optional(addressList),
  serveVsoApiGroup: z.optional(booleanValue()),
  vsoHmacKeySecret: z.optional(
    z.string().check(
      z.regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, {
        error: 'expected a Secret as name or namespace/name',
      }),
    ),
  ),
  logLevel: z.optional(logLevel()),
  podName: z.optional(nonEmpty),
  podUid: z.optional(nonEmpty),
});

type SettingsInput = z.output<typeof settingsSchema>;

/** Each variable the operator reads, and the setting it fills (the flags of the same settings win). */
export const SETTING_VARIABLES: Readonly<Record<string, keyof SettingsInput>> = {
  KUBECONFIG: 'kubeconfig',
  OPERATOR_NAMESPACE: 'operatorNamespace',
  VSO_INSTALL_CRDS: 'installCrds',
  VSO_MAX_CONCURRENT_RECONCILES: 'maxConcurrentReconciles',
  VSO_HEALTH_PROBE_BIND_ADDRESS: 'healthProbeBindAddress',
  VSO_LEADER_ELECT: 'leaderElect',
  VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES: 'allowedVaultAddresses',
  VAULTBRIDGE_SERVE_VSO_API_GROUP: 'serveVsoApiGroup',
  VAULTBRIDGE_VSO_HMAC_KEY_SECRET: 'vsoHmacKeySecret',
  LOG_LEVEL: 'logLevel',
  POD_NAME: 'podName',
  OPERATOR_POD_UID: 'podUid',
};

/** The settings the operator runs with, all checked. */
export interface OperatorSettings {
  kubeconfig?: string;
  /** Explicit: the flag, else the in-cluster namespace file, else OPERATOR_NAMESPACE (as VSO), else `default`. */
  operatorNamespace: string;
  installCrds: boolean;
  maxConcurrentReconciles: number;
  healthProbeBind: { host: string; port: number };
  leaderElect: boolean;
  allowedVaultAddresses: string[];
  serveVsoApiGroup: boolean;
  /** VSO group mode: VSO's HMAC key Secret, `[namespace/]name`; found by VSO's labels when absent. */
  vsoHmacKeySecret?: string;
  logLevel: LogLevel;
  podName?: string;
  podUid?: string;
}

export const DEFAULT_SETTINGS = {
  maxConcurrentReconciles: 100,
  healthProbeBindAddress: '0.0.0.0:8081',
  logLevel: 'info',
} as const;

export interface SettingsSources {
  /** Flags the user gave (commander's values whose source is the command line), by setting name. */
  flags: Readonly<Record<string, unknown>>;
  env: Readonly<Record<string, string | undefined>>;
  /** The in-cluster namespace file's text, when there is one. */
  namespaceFile?: string;
}

/**
 * Flags over the environment over the defaults; throws core's ConfigError naming every bad flag
 * (`--max-concurrent-reconciles`) or variable (`VSO_MAX_CONCURRENT_RECONCILES`) with what is expected.
 */
export function readOperatorSettings(sources: SettingsSources): OperatorSettings {
  const known = new Set<string>(Object.values(SETTING_VARIABLES));
  const given = Object.fromEntries(
    Object.entries(sources.flags).filter(([name, value]) => known.has(name) && value !== undefined),
  );
  const flags = parseConfig(settingsSchema, given, { source: 'flags', fieldName: (name) => `--${kebab(name)}` });
  const env = fromEnv(settingsSchema, SETTING_VARIABLES, { env: sources.env, source: 'environment' });
  const namespaceFile = sources.namespaceFile?.trim() || undefined;
  const bind = flags.healthProbeBindAddress ?? env.healthProbeBindAddress ?? DEFAULT_SETTINGS.healthProbeBindAddress;
  return {
    ...optional('kubeconfig', flags.kubeconfig ?? env.kubeconfig),
    operatorNamespace: flags.operatorNamespace ?? namespaceFile ?? env.operatorNamespace ?? 'default',
    installCrds: flags.installCrds ?? env.installCrds ?? false,
    maxConcurrentReconciles:
      flags.maxConcurrentReconciles ?? env.maxConcurrentReconciles ?? DEFAULT_SETTINGS.maxConcurrentReconciles,
    // Checked by the schema above; the default is a valid address.
    healthProbeBind: splitHostPort(bind) ?? { host: '0.0.0.0', port: 8081 },
    leaderElect: flags.leaderElect ?? env.leaderElect ?? false,
    allowedVaultAddresses: flags.allowedVaultAddresses ?? env.allowedVaultAddresses ?? [],
    serveVsoApiGroup: flags.serveVsoApiGroup ?? env.serveVsoApiGroup ?? false,
    ...optional('vsoHmacKeySecret', flags.vsoHmacKeySecret ?? env.vsoHmacKeySecret),
    logLevel: flags.logLevel ?? env.logLevel ?? DEFAULT_SETTINGS.logLevel,
    ...optional('podName', flags.podName ?? env.podName),
    ...optional('podUid', flags.podUid ?? env.podUid),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** `host:port` (host may be empty: all interfaces) → its parts; undefined when it is not that. */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const index = address.lastIndexOf(':');
  const portText = address.slice(index + 1);
  const port = Number(portText);
  if (index < 0 || !/^\d+$/.test(portText) || port > 65535) return undefined;
  return { host: address.slice(0, index) || '0.0.0.0', port };
}
