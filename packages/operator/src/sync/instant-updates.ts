// Instant updates (VSO's spec.syncConfig.instantUpdates) from Vault 1.13's KV events, without Vault
// Enterprise. One event subscription per Vault client identity (VaultConnection + VaultAuth + service
// account, i.e. the client cache key) and Vault namespace, however many objects use it; each event's
// mount/path is looked up in an index of the objects that read it, and only those are synced. An
// object pinned to a KV version is not synced for a new version of its path (nothing it reads changed),
// but is for deletes, destroys, undeletes and metadata changes, which may take its version away or
// bring it back. The normal refreshAfter stays scheduled as the safety net, and is all there is while
// events are unavailable.
import {
  openEventStream,
  type EventStreamStatus,
  type KvEvent,
  type Logger,
  type TokenManager,
  type VaultEventStream,
} from '@vaultbridge/core';
import type { ConditionInput } from '../runtime/conditions.ts';

export interface InstantUpdatesOptions {
  logger: Logger;
  /** Sync this object now (its Vault path changed, or the stream resumed and events may have been missed). */
  sync: (key: string) => void;
  /** The instant-updates state of this VaultConnection (`namespace/name`) changed: write its status. */
  connectionChanged: (connectionKey: string) => void;
  /**
   * Made per identity and Vault namespace; injectable for unit tests. Default: the event stream of the
   * manager's client in `namespace` (the client's own when undefined).
   */
  openStream?: (
    manager: TokenManager,
    handlers: { onEvent: (event: KvEvent) => void; onStatus: (status: EventStreamStatus) => void },
    namespace: string | undefined,
  ) => VaultEventStream;
}

/** What an object reads and through which client, as its last successful reconcile found it. */
export interface WatchTarget {
  /** The client cache key (one per connection + identity). */
  identity: string;
  manager: TokenManager;
  /** `namespace/name` of the VaultConnection behind the client. */
  connectionKey: string;
  mount: string;
  path: string;
  /** The object's own Vault namespace (spec.namespace); the client's when absent. */
  namespace?: string;
  /** The KV v2 version the object is pinned to (spec.version). */
  version?: number;
}

interface Subscription {
  manager: TokenManager;
  stream: VaultEventStream;
  connectionKey: string;
  /** The Vault namespace subscribed in, without slashes at either end ('' for the root). */
  namespace: string;
  status: EventStreamStatus;
  /** `mount/path` → object keys reading it, each with the version it is pinned to (undefined: the latest). */
  readers: Map<string, Map<string, number | undefined>>;
}

/** Events that create a version: they change nothing an object pinned to another version reads. */
const NEW_VERSION_EVENTS = new Set(['kv-v2/data-write', 'kv-v2/data-patch']);

/** Whether `event` may change what a reader pinned to `pinned` (undefined: the latest version) reads. */
export function eventConcerns(event: KvEvent, pinned: number | undefined): boolean {
  if (pinned === undefined || !NEW_VERSION_EVENTS.has(event.eventType) || event.version === undefined) return true;
  // A write creating exactly the pinned version (it did not exist yet) is what such an object waits for.
  return event.version === pinned;
}

const trimNamespace = (namespace: string | undefined): string => (namespace ?? '').replace(/^\/+|\/+$/g, '');

const stateClass = (status: EventStreamStatus): 'up' | 'unavailable' | 'down' =>
  status.state === 'subscribed' ? 'up' : status.state === 'unavailable' ? 'unavailable' : 'down';

const pathKey = (mount: string, path: string): string =>
  `${mount.replace(/^\/+|\/+$/g, '')}/${path.replace(/^\/+|\/+$/g, '')}`;

export class InstantUpdates {
  private readonly options: InstantUpdatesOptions;
  private readonly subscriptions = new Map<string, Subscription>();
  /** Object key → where it is indexed (`subscription`: the identity and namespace key). */
  private readonly watched = new Map<string, { subscription: string; path: string; version: number | undefined }>();

  constructor(options: InstantUpdatesOptions) {
    this.options = options;
  }

  /** Objects currently indexed (for tests and metrics). */
  get size(): number {
    return this.watched.size;
  }

  /** Indexes `key` under its target, moving it if the target changed; opens the subscription on first use. */
  watch(key: string, target: WatchTarget): void {
    const path = pathKey(target.mount, target.path);
    const namespace = target.namespace === undefined ? undefined : trimNamespace(target.namespace) || undefined;
    // One subscription per identity and namespace: an object in another namespace needs its own stream.
    const subscriptionKey = namespace === undefined ? target.identity : `${target.identity}\u0000${namespace}`;
    const current = this.watched.get(key);
    let subscription = this.subscriptions.get(subscriptionKey);
    if (
      current?.subscription === subscriptionKey &&
      current.path === path &&
      current.version === target.version &&
      subscription?.manager === target.manager
    )
      return;
    if (subscription && subscription.manager !== target.manager) {
      // The client behind this identity was replaced (new token manager): follow it.
      this.close(subscriptionKey, subscription);
      subscription = undefined;
    }
    subscription ??= this.open(subscriptionKey, target, namespace);
    // Indexed at the new place before leaving the old one, so a move within one subscription keeps it open.
    let readers = subscription.readers.get(path);
    if (!readers) subscription.readers.set(path, (readers = new Map()));
    readers.set(key, target.version);
    if (current && (current.subscription !== subscriptionKey || current.path !== path)) this.remove(key, current);
    this.watched.set(key, { subscription: subscriptionKey, path, version: target.version });
  }

  /** Stops following `key` (instant updates off, object gone or failing); the last reader closes the subscription. */
  unwatch(key: string): void {
    const current = this.watched.get(key);
    if (!current) return;
    this.watched.delete(key);
    this.remove(key, current);
  }

  private remove(key: string, where: { subscription: string; path: string }): void {
    const subscription = this.subscriptions.get(where.subscription);
    if (!subscription) return;
    const readers = subscription.readers.get(where.path);
    readers?.delete(key);
    if (readers?.size === 0) subscription.readers.delete(where.path);
    if (subscription.readers.size === 0) this.close(where.subscription, subscription);
  }

  /**
   * The `InstantUpdates` condition of a VaultConnection: True while every subscription through it
   * delivers events, False (with why, and that refreshAfter polling is used) otherwise, undefined
   * when no object through it asks for instant updates.
   */
  connectionCondition(connectionKey: string, generation: number): ConditionInput | undefined {
    const statuses = [...this.subscriptions.values()]
      .filter((s) => s.connectionKey === connectionKey)
      .map((s) => s.status);
    if (statuses.length === 0) return undefined;
    const down =
      statuses.find((status) => status.state === 'unavailable') ??
      statuses.find((status) => status.state !== 'subscribed');
    if (!down) {
      return {
        type: 'InstantUpdates',
        status: 'True',
        reason: 'Subscribed',
        message: 'subscribed to Vault KV events; objects with spec.syncConfig.instantUpdates sync on change',
        observedGeneration: generation,
      };
    }
    const why =
      'reason' in down
        ? down.reason
        : down.state === 'connecting'
          ? 'subscribing to Vault KV events'
          : 'not subscribed';
    return {
      type: 'InstantUpdates',
      status: 'False',
      reason: down.state === 'unavailable' ? 'EventsUnavailable' : 'EventsReconnecting',
      observedGeneration: generation,
      message: `${why}; objects with spec.syncConfig.instantUpdates fall back to their refreshAfter`,
    };
  }

  stop(): void {
    for (const [identity, subscription] of this.subscriptions) this.close(identity, subscription);
    this.watched.clear();
  }

  private open(subscriptionKey: string, target: WatchTarget, namespace: string | undefined): Subscription {
    const open =
      this.options.openStream ??
      ((manager, handlers, ns) => openEventStream(manager.client.withNamespace(ns), handlers));
    const subscription: Subscription = {
      manager: target.manager,
      connectionKey: target.connectionKey,
      namespace: trimNamespace(namespace ?? target.manager.client.namespace),
      status: { state: 'connecting' },
      readers: new Map(),
      stream: undefined as unknown as VaultEventStream,
    };
    subscription.stream = open(
      target.manager,
      {
        onEvent: (event) => {
          // Enterprise names the namespace of each event; a change elsewhere is not this subscription's.
          if (event.namespace !== undefined && trimNamespace(event.namespace) !== subscription.namespace) return;
          const readers = subscription.readers.get(pathKey(event.mount, event.path));
          if (!readers) return;
          for (const [key, pinned] of readers) if (eventConcerns(event, pinned)) this.options.sync(key);
        },
        onStatus: (status) => this.statusChanged(subscriptionKey, subscription, status),
      },
      namespace,
    );
    this.subscriptions.set(subscriptionKey, subscription);
    subscription.stream.start();
    return subscription;
  }

  private statusChanged(identity: string, subscription: Subscription, status: EventStreamStatus): void {
    if (this.subscriptions.get(identity) !== subscription || status.state === 'closed') return;
    const before = subscription.status;
    subscription.status = status;
    // Vault replays nothing: after a gap, every reader syncs once to catch what it missed.
    if (status.state === 'subscribed' && status.resumed) {
      for (const readers of subscription.readers.values()) for (const key of readers.keys()) this.options.sync(key);
    }
    if (status.state === 'unavailable' && before.state !== 'unavailable') {
      this.options.logger.warn(
        { identity, vaultConnection: subscription.connectionKey, reason: status.reason },
        'Vault KV events unavailable; instant updates fall back to refreshAfter',
      );
    }
    // Only a change the condition shows is news: retries and reconnect attempts are not.
    if (
      stateClass(before) !== stateClass(status) ||
      (status.state === 'unavailable' && before.state === 'unavailable' && before.reason !== status.reason)
    ) {
      this.options.connectionChanged(subscription.connectionKey);
    }
  }

  private close(identity: string, subscription: Subscription): void {
    this.subscriptions.delete(identity);
    subscription.stream.close();
    this.options.connectionChanged(subscription.connectionKey);
  }
}
