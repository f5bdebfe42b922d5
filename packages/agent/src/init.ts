// `vaultbridge-agent init`: log in, write the token sinks, render every secret once, exit 0 — or, after
// the retry budget, exit 1 with one message naming what failed (secret and Vault path, or the role).

import type { Logger } from '@vaultbridge/core';
import type { AgentConfig } from './contract/index.ts';
import type { AgentPaths } from './paths.ts';
import { openSession, renderAll, withRetryBudget } from './session.ts';

export interface AgentRunOptions {
  readonly config: AgentConfig;
  readonly paths: AgentPaths;
  readonly logger: Logger;
  readonly retryBudgetMs: number;
}

export async function runInit(options: AgentRunOptions): Promise<number> {
  const { logger } = options;
  const started = Date.now();
  let session;
  try {
    session = await openSession(options.config, options.paths, logger);
  } catch (error) {
    logger.error({ err: error }, `init failed: ${(error as Error).message}`);
    return 1;
  }
  try {
    const rendered = await withRetryBudget(session, 'init render', () => renderAll(session), { budgetMs: options.retryBudgetMs });
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
