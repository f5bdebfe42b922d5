// `vaultbridge-agent init`: log in, write the token sinks, render every secret once, exit 0 — or, after
// the retry budget, exit 1 with one message naming what failed (secret and Vault path, or the role).
// Then it leaves its token and leased answers for the sidecar (cache/handover.ts says where: the
// persistent cache with agent-cache-enable, else by default a hidden file on the secrets volume).

import type { Logger } from '@vaultbridge/core';
import type { AgentConfig } from './contract/index.ts';
import type { AgentPaths } from './paths.ts';
import { LeaseCache } from './cache/lease-cache.ts';
import { handoverLocation, SHARED_WRAP_TTL_SECONDS, type HandoverLocation } from './cache/handover.ts';
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
  const handover = handoverLocation(options.config);
  const renderCache = handover === undefined ? undefined : new LeaseCache({ agentRequestsOnly: true, logger });
  let session;
  try {
    session = await openSession(
      options.config,
      options.paths,
      logger,
      renderCache === undefined ? {} : { renderCache },
    );
  } catch (error) {
    logger.error({ err: error }, `init failed: ${(error as Error).message}`);
    return 1;
  }
  try {
    const rendered = await withRetryBudget(session, 'init render', () => renderAll(session), {
      budgetMs: options.retryBudgetMs,
    });
    if (handover !== undefined && renderCache !== undefined) await handOver(session, handover, renderCache);
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
async function handOver(session: AgentSession, location: HandoverLocation, cache: LeaseCache): Promise<void> {
  try {
    const token = await session.tokens.token();
    const expiresAt = session.tokens.info?.expiresAt ?? Infinity;
    // The key only has to outlive the wait for the sidecar; never longer than the token it protects.
    // On the shared volume minutes suffice (the sidecar starts as init ends): a file nobody takes is
    // then undecryptable soon after.
    const tokenSeconds = Number.isFinite(expiresAt) ? (expiresAt - Date.now()) / 1000 : 24 * 3600;
    const wrapTtlSeconds = location.shared ? Math.min(tokenSeconds, SHARED_WRAP_TTL_SECONDS) : tokenSeconds;
    const entries = cache.export();
    await writeHandover(session.tokens.client, session.paths, location.file, { token, entries }, wrapTtlSeconds);
    session.logger.info({ leases: entries.length, file: location.file }, 'handover written for the sidecar');
  } catch (error) {
    session.logger.warn(
      { err: error },
      `cannot write the handover; the sidecar will log in again: ${(error as Error).message}`,
    );
  }
}
