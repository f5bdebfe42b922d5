// The sidecar's instant re-render: KV secrets are rendered again as soon as Vault publishes a KV event
// for their path (Vault 1.13 with -experiment events.alpha1; core's VaultEventStream), instead of at
// the next static interval. The interval keeps running as the safety net, and is all there is while
// events are unavailable (no experiment, a release without community events, or a token whose policy
// lacks "read" on sys/events/subscribe/kv*).
import {
  openEventStream,
  type EventStreamStatus,
  type KvEvent,
  type Logger,
  type VaultClient,
  type VaultEventStream,
} from '@vaultbridge/core';

const trim = (path: string): string => path.replace(/^\/+|\/+$/g, '');

/**
 * The API paths an annotation may name for the secret of `event`: kv-v2 secrets are named by their
 * data path (`secret/data/app`) or, as the fetcher also accepts, their logical one (`secret/app`).
 */
export function apiPathsOf(event: KvEvent): string[] {
  const logical = `${trim(event.mount)}/${trim(event.path)}`;
  return event.eventType.startsWith('kv-v2/') ? [`${trim(event.mount)}/data/${trim(event.path)}`, logical] : [logical];
}

/**
 * Renders of one secret one after another, whoever asks (the static interval, an event): a render that
 * read an older version can then never finish after, and overwrite, one that read a newer one. Asked
 * while one runs, one more render follows it (asks meanwhile share that one).
 */
export class SerialRenders<S> {
  private readonly renderOnce: (secret: S) => Promise<void>;
  private readonly running = new Map<S, Promise<void>>();
  private readonly queued = new Map<S, Promise<void>>();

  constructor(renderOnce: (secret: S) => Promise<void>) {
    this.renderOnce = renderOnce;
  }

  render(secret: S): Promise<void> {
    const queued = this.queued.get(secret);
    if (queued) return queued;
    const current = this.running.get(secret);
    if (current) {
      const next = current.then(() => {
        this.queued.delete(secret);
        return this.render(secret);
      });
      this.queued.set(secret, next);
      return next;
    }
    const run = this.renderOnce(secret).finally(() => this.running.delete(secret));
    this.running.set(secret, run);
    return run;
  }

  /** Resolves once no render runs or waits. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.queued.size > 0)
      await Promise.all([...this.running.values(), ...this.queued.values()]);
  }
}

export interface InstantRerenderOptions<S> {
  client: VaultClient;
  /** The KV secrets and the Vault path each was read from (as the annotation names it). */
  secrets: readonly { readonly path: string; readonly secret: S }[];
  /** Renders one secret again (shared with the static interval); never rejects. */
  renders: SerialRenders<S>;
  logger: Logger;
  /** The static interval, for the log line that says what happens without events. */
  intervalMs: number;
  /** Injectable for tests. */
  openStream?: (
    client: VaultClient,
    handlers: { onEvent: (event: KvEvent) => void; onStatus: (status: EventStreamStatus) => void },
  ) => VaultEventStream;
}

export class InstantRerender<S> {
  private readonly options: InstantRerenderOptions<S>;
  private readonly byPath = new Map<string, S[]>();
  private readonly stream: VaultEventStream;
  private lastUnavailable = '';

  constructor(options: InstantRerenderOptions<S>) {
    this.options = options;
    for (const { path, secret } of options.secrets) {
      const key = trim(path);
      this.byPath.set(key, [...(this.byPath.get(key) ?? []), secret]);
    }
    const open = options.openStream ?? ((client, handlers) => openEventStream(client, handlers));
    this.stream = open(options.client, {
      onEvent: (event) => this.onEvent(event),
      onStatus: (status) => this.onStatus(status),
    });
  }

  start(): void {
    this.stream.start();
  }

  /** Stops listening (renders in flight are the SerialRenders' to wait for). */
  stop(): void {
    this.stream.close();
  }

  private onEvent(event: KvEvent): void {
    for (const path of apiPathsOf(event))
      for (const secret of this.byPath.get(path) ?? []) void this.options.renders.render(secret);
  }

  private onStatus(status: EventStreamStatus): void {
    const { logger, intervalMs } = this.options;
    if (status.state === 'subscribed') {
      this.lastUnavailable = '';
      logger.info({ resumed: status.resumed }, 'subscribed to Vault KV events: KV secrets re-render on change');
      // Vault replays nothing: after a gap, every KV secret renders once to catch what it missed.
      if (status.resumed)
        for (const secrets of this.byPath.values())
          for (const secret of secrets) void this.options.renders.render(secret);
    } else if (status.state === 'unavailable' && status.reason !== this.lastUnavailable) {
      this.lastUnavailable = status.reason;
      logger.info(
        { reason: status.reason, staticSecretRenderIntervalMs: intervalMs },
        'Vault KV events unavailable; KV secrets re-render on the static interval',
      );
    }
  }
}
