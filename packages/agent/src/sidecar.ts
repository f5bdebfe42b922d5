// `vaultbridge-agent sidecar`: the first render (as init, within the retry budget), then the ready file;
// afterwards it keeps the token alive (TokenManager), renews or re-issues dynamic leases (LeaseManager)
// and re-renders their secrets when re-issued, re-reads KV secrets every static interval and on Vault's
// KV events for their path (instant.ts), rewrites a file only when its bytes changed and then runs the secret's command. SIGTERM, or POST /agent/v1/quit
// with agent-enable-quit, stops it gracefully; agent-metrics-listener-port serves its metrics.

import {
  LeaseManager,
  VaultClient,
  createShutdown,
  readDynamicSecret,
  startServiceMemoryTrim,
} from '@vaultbridge/core';
import { LeaseCache } from './cache/lease-cache.ts';
import { handoverLocation } from './cache/handover.ts';
import { readHandover, type HandoverState } from './cache/persist.ts';
import { handleCacheRequest } from './cache/proxy.ts';
import { TokenCache } from './cache/token-cache.ts';
import { DEFAULT_STATIC_SECRET_RENDER_INTERVAL_MS } from './contract/index.ts';
import { runSecretCommand } from './commands.ts';
import { InstantRerender, SerialRenders } from './instant.ts';
import type { AgentRunOptions } from './init.ts';
import { noAgentCounters, type AgentCounters } from './counters.ts';
import { startAgentListeners, type AgentListeners } from './listeners.ts';
import { volumeRoots, writeSecretFile } from './write.ts';
import {
  openSession,
  renderAll,
  renderSecret,
  vaultClientOptions,
  withRetryBudget,
  writeTokenSinks,
  type AgentSession,
  type PreparedSecret,
  type RenderedSecret,
} from './session.ts';

export async function runSidecar(options: AgentRunOptions): Promise<number> {
  const { config, logger, paths } = options;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  const graceMs = (config.revokeOnShutdown?.graceSeconds ?? 0) * 1000;
  const shutdown = createShutdown({
    logger,
    timeoutMs: Math.max(25_000, graceMs + 10_000),
    exit: (code) => resolveExit(code),
  }).listen();

  // The init agent's handover (cache/handover.ts: persistent cache, or the secrets volume): its token and
  // leased answers, read once and deleted at once. Anything wrong with it costs a login, never the sidecar
  // (unless agent-cache-exit-on-err asks for that).
  const location = handoverLocation(config);
  let handover: HandoverState | undefined;
  const renderCache = location === undefined ? undefined : new LeaseCache({ agentRequestsOnly: true, logger });
  if (location !== undefined && renderCache !== undefined) {
    try {
      handover = await readHandover(
        new VaultClient(vaultClientOptions(config, paths)),
        paths,
        location.file,
        location.identity,
      );
      if (handover !== undefined)
        logger.info({ leases: renderCache.import(handover.entries) }, 'handover from the init agent restored');
    } catch (error) {
      if (location.exitOnError) {
        logger.error(
          { err: error },
          `sidecar failed: persistent cache restore failed (agent-cache-exit-on-err): ${(error as Error).message}`,
        );
        shutdown.unlisten();
        return 1;
      }
      logger.warn({ err: error }, `handover not restored; logging in afresh: ${(error as Error).message}`);
    }
  }
  const restoredToken = handover?.token;

  let session: AgentSession;
  try {
    session = await openSession(config, paths, logger, {
      ...(renderCache === undefined ? {} : { renderCache }),
      ...(restoredToken === undefined ? {} : { restoreToken: () => Promise.resolve(restoredToken) }),
    });
  } catch (error) {
    logger.error({ err: error }, `sidecar failed: ${(error as Error).message}`);
    shutdown.unlisten();
    return 1;
  }
  const sidecarSession = session;
  // prom-client is loaded only when a metrics listener will serve what is counted.
  const served = config.metrics ? new (await import('./agent-metrics.ts')).AgentMetrics() : undefined;
  const metrics: AgentCounters = served ?? noAgentCounters;
  // Before the first render: that is where the first login happens.
  session.tokens.on('login', () => metrics.tokenLogins.inc());
  session.tokens.on('restored', () => logger.info('vault token adopted from the init agent (no new login)'));
  // The cache listener's own cache: what the app asks for through it, renewed while it is kept.
  const cacheConfig = config.cache;
  const proxyCache =
    cacheConfig === undefined ? undefined : new LeaseCache({ renewWith: session.tokens.client, logger });
  // Tokens from the app's logins and token creations through the listener; a token that goes takes
  // the leases it created along.
  const tokenCache =
    proxyCache === undefined
      ? undefined
      : new TokenCache({ renewWith: session.tokens.client, logger, onEvict: (owner) => proxyCache.clearOwner(owner) });
  let listeners: AgentListeners | undefined;
  try {
    listeners = await startAgentListeners(config, {
      logger,
      hostPath: paths.hostPath,
      ...(served ? { metrics: served } : {}),
      onQuit: () => void shutdown.shutdown('quit requested', 0),
      ...(cacheConfig === undefined || proxyCache === undefined
        ? {}
        : {
            cache: (request, response) =>
              handleCacheRequest(request, response, {
                autoAuth: sidecarSession.tokens.client,
                useAutoAuthToken: cacheConfig.useAutoAuthToken,
                cache: proxyCache,
                logger,
                ...(tokenCache === undefined ? {} : { tokens: tokenCache }),
                ...(renderCache === undefined ? {} : { rendered: renderCache }),
              }),
          }),
    });
  } catch (error) {
    logger.error({ err: error }, `sidecar failed: cannot start its listeners: ${(error as Error).message}`);
    shutdown.unlisten();
    await session.tokens.stop();
    return 1;
  }
  shutdown.onShutdown(
    'close listeners',
    async () => {
      await listeners?.close();
      await tokenCache?.stop();
      await proxyCache?.stop();
    },
    { order: 30 },
  );
  shutdown.onShutdown(
    'stop token manager',
    async () => {
      if (config.revokeOnShutdown) {
        // Give the application time to finish with the token before it stops working.
        if (graceMs > 0) await new Promise((resolve) => setTimeout(resolve, graceMs));
        await sidecarSession.tokens.stop({ revoke: true });
        logger.info('vault token revoked');
      } else {
        await sidecarSession.tokens.stop();
      }
    },
    { order: 20 },
  );

  const started = Date.now();
  let first: RenderedSecret[];
  try {
    first = await withRetryBudget(session, 'first render', () => renderAll(sidecarSession), {
      budgetMs: options.retryBudgetMs,
      signal: shutdown.signal,
    });
  } catch (error) {
    if (shutdown.isShuttingDown) return exited;
    logger.error({ err: error }, `sidecar failed: ${(error as Error).message}`);
    return shutdown.shutdown('first render failed', 1).then(() => exited);
  }
  // The command runs only when a file changed after being there: the init container's files count,
  // a file the sidecar creates for the first time has nobody to notify yet.
  for (const rendered of first) if (rendered.result === 'changed') void runCommandOf(sidecarSession, rendered.secret);
  for (const rendered of first) metrics.renders.inc({ secret: rendered.secret.config.name, result: rendered.result });
  metrics.ready.set(1);

  // Ready and pid files go through the same confined writer as secrets: no symlink is followed.
  const roots = volumeRoots(config);
  if (config.readyFile !== undefined) {
    await writeSecretFile(paths, config.readyFile, `${new Date().toISOString()}\n`, 0o644, roots);
  }
  await writeSecretFile(paths, config.pidFile, `${process.pid}\n`, 0o644, roots).catch((error: unknown) =>
    logger.warn({ err: error }, 'cannot write the pid file'),
  );
  logger.info({ secrets: first.length, durationMs: Date.now() - started }, 'first render complete; sidecar ready');
  // From here the sidecar mostly waits: what the login and the first render grew is given back once quiet.
  const memoryTrim = startServiceMemoryTrim({ logger, onTrim: metrics.memoryTrimmed });
  shutdown.onShutdown('idle memory trim', () => memoryTrim?.stop(), { order: 0 });

  // Token: a new login (renewal refused, max TTL near) means a new token for the sinks.
  session.tokens.on('login', () => {
    writeTokenSinks(sidecarSession).catch((error: unknown) =>
      logger.error({ err: error }, 'cannot write the token sinks'),
    );
  });
  session.tokens.on('error', ({ operation, error }) =>
    logger.warn({ operation, err: error }, `vault token ${operation} failed`),
  );

  // Dynamic secrets: renewed in the background; a re-issue brings new data to render.
  const leaseRenewFraction = config.templateConfig.leaseRenewalThreshold;
  const leases = new LeaseManager({
    client: session.tokens.client,
    ...(leaseRenewFraction !== undefined && leaseRenewFraction > 0 && leaseRenewFraction < 1
      ? { renewFraction: leaseRenewFraction }
      : {}),
  });
  const byName = new Map(session.secrets.map((secret) => [secret.config.name, secret]));
  for (const rendered of first) {
    const fetched = rendered.fetched;
    const vaultPath = rendered.secret.config.path;
    if (fetched?.kind !== 'dynamic' || fetched.secret.leaseId === '' || vaultPath === undefined) continue;
    leases.track(fetched.secret, {
      id: rendered.secret.config.name,
      reissue: () => readDynamicSecret<Record<string, unknown>>(sidecarSession.tokens.client, vaultPath),
    });
  }
  leases.on('renewed', ({ id, leaseDurationSeconds }) => {
    metrics.leaseEvents.inc({ event: 'renewed' });
    logger.debug({ secretName: id, leaseDurationSeconds }, 'lease renewed');
  });
  leases.on('expired', ({ id }) => {
    metrics.leaseEvents.inc({ event: 'expired' });
    logger.warn({ secretName: id }, 'lease expired without renewal or re-issue');
  });
  leases.on('error', ({ id, operation, error }) => {
    metrics.leaseEvents.inc({ event: 'error' });
    logger.warn({ secretName: id, operation, err: error }, `lease ${operation} failed`);
  });
  leases.on('reissued', ({ id, secret }) => {
    metrics.leaseEvents.inc({ event: 'reissued' });
    const prepared = byName.get(id);
    if (prepared === undefined || prepared.config.path === undefined) return;
    logger.info({ secretName: id }, 'lease re-issued; re-rendering');
    const fetched = sidecarSession.fetcher.dynamic(
      prepared.config.path,
      secret as Parameters<AgentSession['fetcher']['dynamic']>[1],
    );
    void rerender(sidecarSession, metrics, prepared, fetched);
  });

  // Static secrets (KV, and templates without a path) are read again on an interval.
  const staticSecrets = first
    .filter((rendered) => rendered.fetched?.kind !== 'dynamic')
    .map((rendered) => rendered.secret);
  const intervalMs = config.templateConfig.staticSecretRenderIntervalMs ?? DEFAULT_STATIC_SECRET_RENDER_INTERVAL_MS;
  // One render of a secret at a time, whether the interval or an event asks.
  const renders = new SerialRenders<PreparedSecret>((secret) => rerender(sidecarSession, metrics, secret));
  let pass: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (pass !== undefined || staticSecrets.length === 0) return;
    pass = (async () => {
      for (const secret of staticSecrets) {
        if (shutdown.isShuttingDown) return;
        await renders.render(secret);
      }
    })().finally(() => (pass = undefined));
  }, intervalMs);

  // KV secrets also re-render on Vault's KV events for their path (the interval stays the safety net).
  const kvSecrets = first.flatMap((rendered) =>
    rendered.fetched?.kind === 'kv' ? [{ path: rendered.fetched.path, secret: rendered.secret }] : [],
  );
  const instant =
    kvSecrets.length === 0
      ? undefined
      : new InstantRerender({
          client: session.tokens.client,
          secrets: kvSecrets,
          logger,
          intervalMs,
          renders,
        });
  instant?.start();

  shutdown.onShutdown(
    'stop re-rendering',
    async () => {
      clearInterval(timer);
      instant?.stop();
      await pass;
      await renders.idle();
    },
    { order: 0 },
  );
  shutdown.onShutdown('stop lease renewal', () => leases.stop(), { order: 10 });
  return exited;
}

async function rerender(
  session: AgentSession,
  metrics: AgentCounters,
  secret: PreparedSecret,
  fetched?: Parameters<typeof renderSecret>[2],
): Promise<void> {
  try {
    const rendered = await renderSecret(session, secret, fetched);
    metrics.renders.inc({ secret: secret.config.name, result: rendered.result });
    if (rendered.result !== 'unchanged') await runCommandOf(session, secret);
  } catch (error) {
    metrics.renders.inc({ secret: secret.config.name, result: 'error' });
    session.logger.error({ err: error, secretName: secret.config.name }, (error as Error).message);
  }
}

async function runCommandOf(session: AgentSession, secret: PreparedSecret): Promise<void> {
  if (secret.config.command === undefined) return;
  await runSecretCommand(secret.config.command, { secretName: secret.config.name, logger: session.logger });
}
