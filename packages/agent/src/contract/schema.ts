// The contract's validator: the JSON the agent accepts, every field of AgentConfig, once. The webhook's
// tests parse what it writes with it, and the agent parses its input with it at start-up, so a field
// one side writes and the other rejects fails a test, not a pod.

import path from 'node:path/posix';
import { ConfigError, NO_GIVEN_VALUE, parseConfig } from '@vaultbridge/core';
import * as z from 'zod/mini';
import { expandAgentConfig } from './encode.ts';
import { AGENT_CONFIG_VERSION } from './env.ts';
import { AUTH_TYPES, type AgentConfig } from './types.ts';
import { parseAgentLogLevel } from './values.ts';

export interface AgentConfigIssue {
  readonly field: string;
  readonly message: string;
}

export class AgentConfigError extends Error {
  readonly code = 'AGENT_CONFIG_INVALID';
  readonly source: string;
  readonly issues: readonly AgentConfigIssue[];

  constructor(source: string, issues: readonly AgentConfigIssue[]) {
    super(
      `invalid agent configuration from ${source}:\n${issues.map((issue) => `  ${issue.field}: ${issue.message}`).join('\n')}`,
    );
    this.name = 'AgentConfigError';
    this.source = source;
    this.issues = issues;
  }
}

// The contract the agent accepts, every field of AgentConfig, once. `satisfies` below makes the compiler
// hold the schema and the type together: a field added to one and not the other does not build.
// zod/mini, not zod: the same checks and messages, and the bundle keeps only the zod code these call
// (full zod's classes and locales were ~0.65 MiB of code kept at start; README, "Memory footprint").
const given = { params: NO_GIVEN_VALUE };

const text = z.string({ error: 'expected text' });
const nonEmpty = text.check(z.refine((value) => value.trim() !== '', { error: 'must not be empty' }));

function isCleanAbsolute(value: string): boolean {
  return (
    value.startsWith('/') &&
    !value.includes('\0') &&
    !value.split('/').includes('..') &&
    path.normalize(value) === value &&
    !value.endsWith('/')
  );
}

const CLEAN_ABSOLUTE = 'expected a clean absolute file path without ".." (such as /vault/secrets/db)';
const absolutePath = z.string({ error: CLEAN_ABSOLUTE }).check(z.refine(isCleanAbsolute, { error: CLEAN_ABSOLUTE }));

const bool = z.boolean({ error: 'expected true or false' });
const atLeast = (min: number) =>
  z.number({ error: 'expected a number' }).check(z.gte(min, { error: `expected at least ${min}` }));
const wholeAtLeast = (min: number) =>
  z.int({ error: 'expected a whole number' }).check(z.gte(min, { error: `expected at least ${min}` }));
const oneOf = <const T extends readonly [string, ...string[]]>(choices: T) =>
  z.enum(choices, { error: `expected one of ${choices.join(', ')}` });

/** `127.0.0.1:8200`: the agent only listens on what the webhook wrote, always host:port. */
const LISTENER_ADDRESS = 'expected host:port such as 127.0.0.1:8200';
const listenerAddress = z.string({ error: LISTENER_ADDRESS }).check(
  z.refine(
    (value) => {
      const match = /^(.+):(\d+)$/.exec(value);
      return match !== null && Number(match[2]) <= 65_535;
    },
    { error: LISTENER_ADDRESS },
  ),
);
const listener = z.object({ listenerAddress }, { error: 'expected a mapping with listenerAddress' });

const features = z.array(oneOf(['auto-auth', 'caching', 'templating'] as const), {
  error: 'expected a list of auto-auth, caching, templating',
});

const vaultSchema = z.object(
  {
    address: nonEmpty.check(
      z.refine((value) => /^(https?:\/\/[^/]+|unix:\/\/\/.+)/.test(value), {
        error: 'expected a URL like https://vault:8200',
      }),
    ),
    namespace: z.optional(text),
    proxyAddress: z.optional(text),
    caCert: z.optional(absolutePath),
    caPath: z.optional(absolutePath),
    caCertPem: z.optional(text),
    clientCert: z.optional(absolutePath),
    clientKey: z.optional(absolutePath),
    tlsSkipVerify: bool,
    tlsServerName: z.optional(text),
    maxRetries: z.optional(wholeAtLeast(0)),
    timeoutMs: z.optional(atLeast(1)),
  },
  { error: 'expected a mapping' },
);

const authSchema = z
  .object(
    {
      type: oneOf(AUTH_TYPES),
      mountPath: nonEmpty,
      role: z.optional(nonEmpty),
      serviceAccountTokenPath: absolutePath,
      config: z.record(z.string(), text, { error: 'expected a mapping of text' }),
      minBackoffMs: z.optional(atLeast(0)),
      maxBackoffMs: z.optional(atLeast(0)),
      exitOnError: bool,
    },
    { error: 'expected a mapping' },
  )
  .check(
    z.superRefine((auth, context) => {
      if ((auth.type === 'kubernetes' || auth.type === 'jwt') && auth.role === undefined) {
        const method = auth.type === 'jwt' ? 'JWT' : 'Kubernetes';
        context.addIssue({
          code: 'custom',
          path: ['role'],
          message: `missing: ${method} auth needs a Vault role; set the vault.hashicorp.com/role annotation`,
          ...given,
        });
      }
      if (auth.type !== 'approle') return;
      const roleIdFile = auth.config.role_id_file_path;
      if (roleIdFile === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['config', 'role_id_file_path'],
          message:
            'missing: AppRole auth needs the file holding the role_id (vault.hashicorp.com/auth-config-role-id-file-path)',
          ...given,
        });
      }
      for (const key of ['role_id_file_path', 'secret_id_file_path'] as const) {
        const file = auth.config[key];
        if (file !== undefined && !isCleanAbsolute(file)) {
          context.addIssue({
            code: 'custom',
            path: ['config', key],
            message: `${CLEAN_ABSOLUTE}, got "${file}"`,
            ...given,
          });
        }
      }
    }),
  );

const secretSchema = z
  .object(
    {
      name: nonEmpty,
      path: z.optional(nonEmpty),
      template: z.optional(text),
      templateFile: z.optional(absolutePath),
      defaultTemplate: oneOf(['map', 'json'] as const),
      destination: absolutePath,
      volume: z.optional(absolutePath),
      perms: z.optional(wholeAtLeast(0).check(z.lte(0o7777, { error: 'expected at most 4095 (0o7777)' }))),
      command: z.optional(nonEmpty),
      leftDelimiter: nonEmpty,
      rightDelimiter: nonEmpty,
      errorOnMissingKey: bool,
      templateEngine: z.optional(oneOf(['go', 'handlebars'] as const)),
      env: z.optional(
        z.string().check(
          z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, {
            error: 'expected an environment variable name such as DB_PASSWORD',
          }),
        ),
      ),
    },
    { error: 'expected a mapping' },
  )
  .check(
    z.superRefine((secret, context) => {
      if (secret.path === undefined && secret.template === undefined && secret.templateFile === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['path'],
          message: 'missing: a secret needs a Vault path (agent-inject-secret-<name>) or a template',
          ...given,
        });
      }
      if (secret.volume !== undefined && !secret.destination.startsWith(`${secret.volume}/`)) {
        context.addIssue({
          code: 'custom',
          path: ['volume'],
          message: `the destination ${secret.destination} is not inside the volume ${secret.volume}`,
          ...given,
        });
      }
    }),
  );

const secretsSchema = z.array(secretSchema, { error: 'expected a list' }).check(
  z.superRefine((secrets, context) => {
    const destinations = new Map<string, number>();
    secrets.forEach((secret, index) => {
      const clash = destinations.get(secret.destination);
      if (clash !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [index, 'destination'],
          message: `${secret.destination} is also the destination of secrets.${clash}`,
          ...given,
        });
      }
      destinations.set(secret.destination, index);
    });
  }),
);

// A hand-written file may use any spelling Vault accepts (`notice`, `warning`, `err`): the spelling is
// mapped to the agent's level first, and anything else is left for the enum to refuse.
const logLevelSchema = z.pipe(
  z.transform((value: unknown) => {
    if (typeof value !== 'string') return value;
    const level = parseAgentLogLevel(value);
    return typeof level === 'string' ? level : value;
  }),
  oneOf(['trace', 'debug', 'info', 'warn', 'error'] as const),
);

export const agentConfigSchema = z
  .object(
    {
      version: z.literal(AGENT_CONFIG_VERSION, {
        error: `expected ${AGENT_CONFIG_VERSION}; the injector and the agent image are of different releases`,
      }),
      mode: oneOf(['init', 'sidecar'] as const),
      vault: vaultSchema,
      auth: authSchema,
      tokenSinks: z.array(absolutePath, { error: 'expected a list of absolute file paths' }),
      secrets: secretsSchema,
      templateConfig: z.object(
        {
          exitOnRetryFailure: bool,
          staticSecretRenderIntervalMs: z.optional(atLeast(1)),
          maxConnectionsPerHost: z.optional(wholeAtLeast(0)),
          leaseRenewalThreshold: z.optional(
            atLeast(0).check(z.lte(1, { error: 'expected a fraction from 0 to 1, such as 0.9' })),
          ),
        },
        { error: 'expected a mapping' },
      ),
      pidFile: absolutePath,
      readyFile: z.optional(absolutePath),
      envFile: z.optional(absolutePath),
      execWrapper: z.optional(absolutePath),
      revokeOnShutdown: z.optional(
        z.object({ graceSeconds: atLeast(0) }, { error: 'expected a mapping with graceSeconds' }),
      ),
      cache: z.optional(
        z.object(
          {
            listenerAddress,
            useAutoAuthToken: oneOf(['true', 'false', 'force'] as const),
            persist: z.optional(
              z.object(
                { path: absolutePath, exitOnError: bool },
                { error: 'expected a mapping with path and exitOnError' },
              ),
            ),
            tls: z.optional(
              z.object(
                {
                  certFile: absolutePath,
                  keyFile: absolutePath,
                  minVersion: z.optional(oneOf(['tls10', 'tls11', 'tls12', 'tls13'] as const)),
                },
                { error: 'expected a mapping with certFile and keyFile' },
              ),
            ),
          },
          { error: 'expected a mapping' },
        ),
      ),
      handover: z.optional(bool),
      quit: z.optional(listener),
      metrics: z.optional(listener),
      log: z.object(
        { level: logLevelSchema, format: oneOf(['standard', 'json'] as const) },
        { error: 'expected a mapping' },
      ),
      // Vault Agent's telemetry stanza, from agent-telemetry-* (values JSON-parsed when they can be).
      telemetry: z.optional(
        z.record(
          z
            .string()
            .check(z.minLength(1, { error: 'expected a telemetry option name such as prometheus_retention_time' })),
          z.json(),
          { error: 'expected a mapping' },
        ),
      ),
      disableIdleConnections: z.optional(features),
      disableKeepAlives: z.optional(features),
    },
    { error: 'expected an object' },
  )
  .check(
    z.superRefine((config, context) => {
      const index = config.secrets.findIndex((secret) => secret.env !== undefined);
      if (index >= 0 && config.envFile === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['envFile'],
          message: `missing: secrets.${index} has env, so the agent needs the env file to write`,
          ...given,
        });
      }
    }),
  ) satisfies z.ZodMiniType<AgentConfig, unknown>;

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
