// `vaultbridge-agent init`: log in, write the token sinks, render every secret once, exit 0 — or, after
// the retry budget, exit 1 with one message naming what failed (secret and Vault path, or the role).
// With a persistent cache (cache.persist) it then leaves its token and leased answers for the sidecar.

import type { Logger } from '@vaultbridge/core';
import type { AgentConfig } from './contract/index.ts';
import type { AgentPaths } from './paths.ts';
import { LeaseCache } from './cache/lease-cache.ts';
import { writeHandover } from './cache/persist.ts';
import { openSession, renderAll, withRetryBudget, type AgentSession } from './session.ts';

export interface AgentRunOptions {
  readonly config: AgentConfig;
  readonly paths: AgentPaths;
  readonly logger: Logger;
  readonly retryBudgetMs: number;
}

export async function runInit(options: AgentRunOptions): Promise<number> {
  const { logger } = options;
  const started = Date.now();
  const persist = options.config.cache?.persist;
  const renderCache = persist === undefined ? undefined : new LeaseCache({ agentRequestsOnly: true, logger });
  let session;
  try {
    session = await openSession(options.config, options.paths, logger, renderCache === undefined ? {} : { renderCache });
  } catch (error) {
    logger.error({ err: error }, `init failed: ${(error as Error).message}`);
    return 1;
  }
  try {
    const rendered = await withRetryBudget(session, 'init render', () => renderAll(session), { budgetMs: options.retryBudgetMs });
    if (persist !== undefined && renderCache !== undefined) await handOver(session, persist.path, renderCache);
    logger.info({ secrets: rendered.length, durationMs: Date.now() - started }, 'init complete: every secret rendered');
    return 0;
  } catch (error) {
    logger.error({ err: error, durationMs: Date.now() - started }, `init failed: ${(error as Error).message}`);
    return 1;
  } finally {
    // The token stays valid for the sink's readers; only the renewal timers stop.
    await session.tokens.stop();
  }
}

/** Leaves the token and the leased answers for the sidecar; a failure costs the sidecar a login, no more. */
async function handOver(session: AgentSession, dir: string, cache: LeaseCache): Promise<void> {
  try {
    const token = await session.tokens.token();
    const expiresAt = session.tokens.info?.expiresAt ?? Infinity;
    // The key only has to outlive the wait for the sidecar; never longer than the token it protects.
    const wrapTtlSeconds = Number.isFinite(expiresAt) ? (expiresAt - Date.now()) / 1000 : 24 * 3600;
    const entries = cache.export();
    await writeHandover(session.tokens.client, session.paths, dir, { token, entries }, wrapTtlSeconds);
    session.logger.info({ leases: entries.length }, 'persistent cache written for the sidecar');
  } catch (error) {
    session.logger.warn({ err: error }, `cannot write the persistent cache; the sidecar will log in again: ${(error as Error).message}`);
  }
}
