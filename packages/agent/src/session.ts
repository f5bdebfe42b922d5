// What init and the sidecar share: the Vault client and token manager built from the configuration,
// the compiled renderers, one pass of "log in, write the token sinks, render every secret", and the
// bounded retry around it. Nothing here logs a value or a token.

import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import {
  TemplateError,
  TokenManager,
  UnsafePathError,
  VaultAuthError,
  VaultClient,
  certificateStillGood,
  pemParts,
  pkiValue,
  registerSecret,
  retry,
  vaultDependencyResolver,
  type DependencyResolver,
  type Logger,
  type VaultClientOptions,
} from '@vaultbridge/core';
import type { AgentConfig, AgentSecretConfig } from './contract/index.ts';
import { SecretFetcher, type FetchedSecret } from './fetch.ts';
import type { AgentPaths } from './paths.ts';
import { compileSecretRenderer, type SecretRenderer } from './contract/index.ts';
import { authMethodFor } from './auth.ts';
import { AGENT_RETRY_BUDGET_ENV } from './contract/index.ts';
import { ConfinedPathError } from './confined.ts';
import { placeExecWrapper, updateEnvFile } from './env-file.ts';
import { DEFAULT_FILE_MODE, TOKEN_FILE_MODE, volumeRoots, writeSecretFile, type WriteResult } from './write.ts';
import { CONFIG_PATH, HOME_PATH } from './contract/index.ts';
import { templateFileReader, templateFileWriter } from './template-files.ts';
import type { LeaseCache } from './cache/lease-cache.ts';

export const DEFAULT_MIN_BACKOFF_MS = 1_000;
export const DEFAULT_MAX_BACKOFF_MS = 30_000;

/** A secret that could not be rendered or written; names the secret, its Vault path and its file. */
export class SecretRenderError extends Error {
  readonly code = 'AGENT_SECRET_RENDER';
  readonly secretName: string;

  constructor(secret: AgentSecretConfig, step: 'render' | 'write', cause: unknown) {
    const where = [secret.path === undefined ? undefined : `Vault path ${secret.path}`, `file ${secret.destination}`]
      .filter(Boolean)
      .join(', ');
    super(
      `secret "${secret.name}" (${where}): ${step} failed: ${cause instanceof Error ? cause.message : 'unknown error'}`,
      { cause },
    );
    this.name = 'SecretRenderError';
    this.secretName = secret.name;
  }
}

export interface PreparedSecret {
  readonly config: AgentSecretConfig;
  readonly render: SecretRenderer;
  readonly mode: number;
}

export interface RenderedSecret {
  readonly secret: PreparedSecret;
  readonly fetched: FetchedSecret | undefined;
  readonly result: WriteResult;
}

export interface AgentSession {
  readonly config: AgentConfig;
  readonly paths: AgentPaths;
  readonly logger: Logger;
  readonly tokens: TokenManager;
  readonly fetcher: SecretFetcher;
  /** Answers the Vault calls of Go templates (secret, secrets, pkiCert) with the session's token. */
  readonly resolve: DependencyResolver;
  readonly secrets: readonly PreparedSecret[];
  /** env secrets' current rendered values, by variable name (env-file.ts) */
  readonly envValues: Map<string, string>;
}

export function vaultClientOptions(config: AgentConfig, paths: AgentPaths): VaultClientOptions {
  const vault = config.vault;
  const file = (value: string | undefined): string | undefined =>
    value === undefined ? undefined : paths.hostPath(value);
  const tls = {
    ...(vault.caCert === undefined ? {} : { caFile: file(vault.caCert) }),
    ...(vault.caPath === undefined ? {} : { caPath: file(vault.caPath) }),
    ...(vault.caCertPem === undefined ? {} : { caPem: vault.caCertPem }),
    ...(vault.clientCert === undefined ? {} : { clientCert: file(vault.clientCert) }),
    ...(vault.clientKey === undefined ? {} : { clientKey: file(vault.clientKey) }),
    ...(vault.tlsServerName === undefined ? {} : { tlsServerName: vault.tlsServerName }),
    skipVerify: vault.tlsSkipVerify,
  };
  return {
    address: vault.address,
    ...(vault.namespace === undefined ? {} : { namespace: vault.namespace }),
    tls,
    ...(vault.timeoutMs === undefined ? {} : { timeoutMs: vault.timeoutMs }),
    ...(vault.maxRetries === undefined ? {} : { maxRetries: vault.maxRetries }),
    // agent-inject proxy-address: Vault is reached through it (the env HTTPS_PROXY alone is not used).
    ...(vault.proxyAddress === undefined ? {} : { proxyAddress: vault.proxyAddress }),
  };
}

export interface SessionOptions {
  /** Answers the rendering's Vault reads first (the persistent cache handover; cache/lease-cache.ts). */
  readonly renderCache?: LeaseCache;
  /** A token the init agent left (the handover), adopted instead of the first login while Vault accepts it. */
  readonly restoreToken?: () => Promise<string | undefined>;
}

/** Builds the session; template errors (syntax, unknown helper, unreadable template file) throw here, before any retry. */
export async function openSession(
  config: AgentConfig,
  paths: AgentPaths,
  logger: Logger,
  options: SessionOptions = {},
): Promise<AgentSession> {
  const clientOptions = vaultClientOptions(config, paths);
  const client = new VaultClient(clientOptions);
  const auth = authMethodFor(config, paths, logger, clientOptions);
  const tokens = new TokenManager({
    client,
    auth,
    ...(options.restoreToken === undefined ? {} : { restoreToken: options.restoreToken }),
  });
  const secrets: PreparedSecret[] = [];
  // writeToFile writes into the secrets volumes (never the agent's home with its token); file also reads the ConfigMap.
  const writeRoots = volumeRoots(config).filter((root) => root !== HOME_PATH);
  const files = {
    writeFile: templateFileWriter(paths, writeRoots),
    readFile: templateFileReader(paths, [...writeRoots, CONFIG_PATH]),
  };
  for (const secret of config.secrets) {
    let templateText = secret.template;
    if (templateText === undefined && secret.templateFile !== undefined) {
      try {
        templateText = await fs.readFile(paths.hostPath(secret.templateFile), 'utf8');
      } catch (error) {
        throw new SecretRenderError(
          secret,
          'render',
          new Error(
            `cannot read template file ${secret.templateFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
          ),
        );
      }
    }
    try {
      secrets.push({
        config: secret,
        render: compileSecretRenderer(secret, templateText, files),
        mode: secret.perms ?? DEFAULT_FILE_MODE,
      });
    } catch (error) {
      throw new SecretRenderError(secret, 'render', error);
    }
  }
  // Before any render: the app containers' entrypoint (env-var secrets) must be in place when init ends.
  await placeExecWrapper(config, paths, logger);
  // Secret reads (annotation paths and Go templates alike) go through the render cache when there is one,
  // as Vault Agent routes templating through its cache; renewals and logins never do.
  const reads =
    options.renderCache === undefined ? tokens.client : tokens.client.withResponseCache(options.renderCache);
  return {
    config,
    paths,
    logger,
    tokens,
    fetcher: new SecretFetcher(reads),
    resolve: vaultDependencyResolver(reads),
    secrets,
    envValues: new Map(),
  };
}

/** Writes the current Vault token to every sink (mode 0600). */
export async function writeTokenSinks(session: AgentSession): Promise<void> {
  const token = await session.tokens.token();
  registerSecret(token);
  const roots = volumeRoots(session.config);
  for (const sink of session.config.tokenSinks)
    await writeSecretFile(session.paths, sink, token, TOKEN_FILE_MODE, roots);
}

/** Fetches, renders and writes one secret; `fetched` is given when the caller already has the data (a re-issued lease). */
export async function renderSecret(
  session: AgentSession,
  secret: PreparedSecret,
  given?: FetchedSecret,
): Promise<RenderedSecret> {
  const path = secret.config.path;
  let fetched = given;
  if (fetched === undefined && path !== undefined) {
    try {
      fetched = await session.fetcher.fetch(secret.config.name, path);
    } catch (error) {
      // A Go template asks Vault itself (e.g. a PKI issue, which is a write): its own call decides.
      if (!secret.render.selfFetching) throw error;
    }
  }
  let content: string;
  try {
    content = await secret.render(fetched, reusingCertificates(session, secret));
  } catch (error) {
    throw new SecretRenderError(secret.config, 'render', error);
  }
  let result: WriteResult;
  try {
    const roots = secret.config.volume === undefined ? volumeRoots(session.config) : [secret.config.volume];
    result = await writeSecretFile(session.paths, secret.config.destination, content, secret.mode, roots);
    await updateEnvFile(session, secret, content);
  } catch (error) {
    throw new SecretRenderError(secret.config, 'write', error);
  }
  session.logger.info(
    {
      secretName: secret.config.name,
      destination: secret.config.destination,
      result,
      ...(fetched?.kind === 'kv' ? { version: fetched.version } : {}),
    },
    result === 'unchanged' ? 'secret unchanged' : 'secret rendered',
  );
  return { secret, fetched, result };
}

/**
 * pkiCert as consul-template has it: the certificate already in the secret's file is used again while
 * 90% of its remaining time exceeds 10% of its life; only then is a new one issued. The file is read
 * without following a symlink (the application shares the volume).
 */
function reusingCertificates(session: AgentSession, secret: PreparedSecret): DependencyResolver {
  return async (dep) => {
    if (dep.kind === 'pki') {
      let text: string | undefined;
      try {
        const handle = await fs.open(
          session.paths.hostPath(secret.config.destination),
          fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW,
        );
        try {
          text = await handle.readFile('utf8');
        } finally {
          await handle.close();
        }
      } catch {
        text = undefined; // absent or not a plain file: issue a new certificate
      }
      if (text !== undefined) {
        try {
          const parts = pemParts(text);
          if (certificateStillGood(parts)) return pkiValue(parts);
        } catch {
          // not PEM we can read: issue a new certificate
        }
      }
    }
    return session.resolve(dep);
  };
}

/** One complete pass: log in if needed, write the token sinks, render every secret. */
export async function renderAll(session: AgentSession): Promise<RenderedSecret[]> {
  await session.tokens.token();
  await writeTokenSinks(session);
  const rendered: RenderedSecret[] = [];
  for (const secret of session.secrets) rendered.push(await renderSecret(session, secret));
  return rendered;
}

/** Errors that no retry can fix. */
export function isPermanent(error: unknown, config: AgentConfig): boolean {
  if (error instanceof UnsafePathError || error instanceof ConfinedPathError) return true;
  if (
    error instanceof SecretRenderError &&
    (error.cause instanceof UnsafePathError ||
      error.cause instanceof ConfinedPathError ||
      (error.cause instanceof TemplateError && error.cause.code === 'TEMPLATE_PARSE'))
  )
    return true;
  // agent-auto-auth-exit-on-err: a refused login ends the agent at once.
  return config.auth.exitOnError && error instanceof VaultAuthError;
}

export interface RetryBudget {
  readonly budgetMs: number;
  readonly signal?: AbortSignal;
}

/** The retry budget ran out while an attempt was still waiting on Vault. */
export class RetryBudgetExceededError extends Error {
  readonly code = 'AGENT_RETRY_BUDGET';
  constructor(what: string, budgetMs: number, cause: unknown) {
    const last =
      cause instanceof Error && cause.name !== 'TimeoutError' && cause.name !== 'AbortError'
        ? `; last error: ${cause.message}`
        : '';
    super(
      `${what} did not finish within the retry budget of ${budgetMs} ms (${AGENT_RETRY_BUDGET_ENV}); an attempt was still waiting on Vault${last}`,
      { cause },
    );
    this.name = 'RetryBudgetExceededError';
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (the attempt is abandoned, not awaited). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * `fn` retried with core's capped exponential backoff and full jitter until it succeeds or the budget
 * is spent. The budget is a deadline (issue 12: it was checked only between attempts, so one attempt
 * hanging on a slow Vault ran 16 s on a 5 s budget): no wait runs past it, and an attempt still running
 * at the deadline is abandoned with RetryBudgetExceededError.
 */
export async function withRetryBudget<T>(
  session: AgentSession,
  what: string,
  fn: () => Promise<T>,
  budget: RetryBudget,
): Promise<T> {
  const started = Date.now();
  const baseDelayMs = Math.max(1, session.config.auth.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS);
  const maxDelayMs = Math.max(
    baseDelayMs,
    Math.min(session.config.auth.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, budget.budgetMs),
  );
  let lastError: unknown;
  try {
    return await retry(
      (_attempt, signal) =>
        untilAborted(fn(), signal).catch((error: unknown) => {
          if (!signal?.aborted) lastError = error;
          throw error;
        }),
      {
        maxAttempts: Number.POSITIVE_INFINITY,
        baseDelayMs: Math.min(baseDelayMs, maxDelayMs),
        maxDelayMs,
        deadline: started + budget.budgetMs,
        isRetryable: (error) => !isPermanent(error, session.config) && Date.now() - started < budget.budgetMs,
        ...(budget.signal === undefined ? {} : { signal: budget.signal }),
        onRetry: ({ attempt, delayMs, error }) =>
          session.logger.warn({ attempt, delayMs, err: error }, `${what} failed; retrying`),
      },
    );
  } catch (error) {
    // The deadline fired inside an attempt (not a shutdown, not the attempt's own error).
    if (
      !budget.signal?.aborted &&
      error instanceof Error &&
      (error.name === 'TimeoutError' || error.name === 'AbortError') &&
      Date.now() - started >= budget.budgetMs
    ) {
      throw new RetryBudgetExceededError(what, budget.budgetMs, lastError ?? error);
    }
    throw error;
  }
}
