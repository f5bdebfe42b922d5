import {
  createLogger,
  type EventStreamStatus,
  type KvEvent,
  type TokenManager,
  type VaultEventStream,
} from '@vaultbridge/core';
import { eventConcerns, InstantUpdates, type WatchTarget } from './instant-updates.ts';

interface FakeStream {
  manager: TokenManager;
  namespace: string | undefined;
  started: boolean;
  closed: boolean;
  emit: (event: KvEvent) => void;
  status: (status: EventStreamStatus) => void;
}

function setup() {
  const synced: string[] = [];
  const connections: string[] = [];
  const streams: FakeStream[] = [];
  const instant = new InstantUpdates({
    logger: createLogger({ name: 'test', level: 'silent' }),
    sync: (key) => synced.push(key),
    connectionChanged: (key) => connections.push(key),
    openStream: (manager, handlers, namespace) => {
      const fake: FakeStream = {
        manager,
        namespace,
        started: false,
        closed: false,
        emit: handlers.onEvent,
        status: handlers.onStatus,
      };
      streams.push(fake);
      return { start: () => (fake.started = true), close: () => (fake.closed = true) } as unknown as VaultEventStream;
    },
  });
  const stream = (index: number): FakeStream => {
    const found = streams[index];
    if (!found) throw new Error(`no stream ${index} was opened`);
    return found;
  };
  return { instant, synced, connections, streams, stream };
}

const manager = { client: { namespace: undefined } } as unknown as TokenManager;
const target = (path: string, identity = 'kubernetes-aaa', m: TokenManager = manager): WatchTarget => ({
  identity,
  manager: m,
  connectionKey: 'app/vault',
  mount: 'secret',
  path,
});
const write = (path: string): KvEvent => ({ eventType: 'kv-v2/data-write', mount: 'secret', path, version: 2 });

describe('InstantUpdates', () => {
  it('opens one subscription per identity and syncs only the objects reading the changed path', () => {
    const { instant, synced, streams, stream } = setup();
    instant.watch('app/a', target('app/db'));
    instant.watch('app/b', target('app/db'));
    instant.watch('app/c', target('app/other'));
    expect(streams).toHaveLength(1);
    expect(stream(0).started).toBe(true);
    stream(0).emit(write('app/db'));
    expect(synced.sort()).toEqual(['app/a', 'app/b']);
    stream(0).emit({ eventType: 'kv-v2/data-write', mount: 'other', path: 'app/db' });
    expect(synced).toHaveLength(2);
  });

  it('after a reconnect every reader syncs once (Vault replays nothing), and not on the first subscription', () => {
    const { instant, synced, stream } = setup();
    instant.watch('app/a', target('app/db'));
    instant.watch('app/c', target('app/other'));
    stream(0).status({ state: 'subscribed', resumed: false });
    expect(synced).toEqual([]);
    stream(0).status({ state: 'retrying', reason: 'the event connection closed (code 1006)', delayMs: 10 });
    stream(0).status({ state: 'subscribed', resumed: true });
    expect(synced.sort()).toEqual(['app/a', 'app/c']);
  });

  it('moves an object whose path changed, and closes a subscription when its last reader goes', () => {
    const { instant, synced, streams, stream } = setup();
    instant.watch('app/a', target('app/db'));
    instant.watch('app/a', target('app/new'));
    expect(streams).toHaveLength(1);
    expect(stream(0).closed).toBe(false);
    stream(0).emit(write('app/db'));
    expect(synced).toEqual([]);
    stream(0).emit(write('app/new'));
    expect(synced).toEqual(['app/a']);
    instant.unwatch('app/a');
    expect(stream(0).closed).toBe(true);
    expect(instant.size).toBe(0);
  });

  it('follows a replaced client: the old subscription closes, a new one opens', () => {
    const { instant, streams, stream } = setup();
    instant.watch('app/a', target('app/db'));
    const replaced = { client: { namespace: undefined } } as unknown as TokenManager;
    instant.watch('app/a', target('app/db', 'kubernetes-aaa', replaced));
    expect(streams).toHaveLength(2);
    expect(stream(0).closed).toBe(true);
    expect(stream(1).manager).toBe(replaced);
  });

  it('the VaultConnection condition says whether events flow, and why not', () => {
    const { instant, stream, connections } = setup();
    expect(instant.connectionCondition('app/vault', 1)).toBeUndefined();
    instant.watch('app/a', target('app/db'));
    expect(instant.connectionCondition('app/vault', 1)).toMatchObject({
      type: 'InstantUpdates',
      status: 'False',
      reason: 'EventsReconnecting',
    });
    stream(0).status({ state: 'subscribed', resumed: false });
    expect(instant.connectionCondition('app/vault', 1)).toMatchObject({
      status: 'True',
      reason: 'Subscribed',
      observedGeneration: 1,
    });
    const before = connections.length;
    stream(0).status({
      state: 'unavailable',
      reason: 'the token may not subscribe to events: its policy needs "read" on sys/events/subscribe/kv*',
      delayMs: 1,
    });
    expect(connections.length).toBe(before + 1);
    expect(instant.connectionCondition('app/vault', 2)).toEqual({
      type: 'InstantUpdates',
      status: 'False',
      reason: 'EventsUnavailable',
      observedGeneration: 2,
      message:
        'the token may not subscribe to events: its policy needs "read" on sys/events/subscribe/kv*; objects with spec.syncConfig.instantUpdates fall back to their refreshAfter',
    });
    // Reconnect attempts with nothing new to show do not rewrite the status.
    stream(0).status({ state: 'connecting' });
    stream(0).status({ state: 'retrying', reason: 'x', delayMs: 1 });
    stream(0).status({ state: 'connecting' });
    expect(connections.length).toBe(before + 2);
  });

  it('an object pinned to a version is not synced for a new version of its path, but is for what can take its version away', () => {
    const { instant, synced, stream } = setup();
    instant.watch('app/latest', target('app/db'));
    instant.watch('app/pinned', { ...target('app/db'), version: 1 });
    stream(0).emit(write('app/db'));
    expect(synced).toEqual(['app/latest']);
    for (const eventType of [
      'kv-v2/delete',
      'kv-v2/destroy',
      'kv-v2/undelete',
      'kv-v2/metadata-delete',
      'kv-v2/metadata-write',
    ]) {
      synced.length = 0;
      stream(0).emit({ eventType, mount: 'secret', path: 'app/db', version: 2 });
      expect(synced.sort()).toEqual(['app/latest', 'app/pinned']);
    }
  });

  it('an object pinned to a version that does not exist yet is synced by the write that creates it', () => {
    const { instant, synced, stream } = setup();
    instant.watch('app/future', { ...target('app/db'), version: 3 });
    stream(0).emit({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'app/db', version: 2 });
    expect(synced).toEqual([]);
    stream(0).emit({ eventType: 'kv-v2/data-patch', mount: 'secret', path: 'app/db', version: 3 });
    expect(synced).toEqual(['app/future']);
  });

  it('eventConcerns: unversioned events (kv-v1, no current_version) reach pinned readers', () => {
    expect(eventConcerns({ eventType: 'kv-v1/write', mount: 'kv', path: 'a' }, 4)).toBe(true);
    expect(eventConcerns({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'a' }, 4)).toBe(true);
    expect(eventConcerns({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'a', version: 5 }, undefined)).toBe(
      true,
    );
    expect(eventConcerns({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'a', version: 5 }, 4)).toBe(false);
  });

  it('objects in another Vault namespace get their own subscription in that namespace, and events of other namespaces are ignored', () => {
    const { instant, synced, streams, stream } = setup();
    instant.watch('app/root', target('app/db'));
    instant.watch('app/team', { ...target('app/db'), namespace: '/team-a/' });
    instant.watch('app/team-2', { ...target('app/other'), namespace: 'team-a' });
    expect(streams.map((s) => s.namespace)).toEqual([undefined, 'team-a']);
    // Vault 1.13 community sends no namespace: each stream is already scoped by its X-Vault-Namespace.
    stream(1).emit(write('app/db'));
    expect(synced).toEqual(['app/team']);
    synced.length = 0;
    // Enterprise names it: a change in another namespace is not this stream's readers'.
    stream(1).emit({ ...write('app/db'), namespace: 'team-b' });
    stream(0).emit({ ...write('app/db'), namespace: 'team-a' });
    expect(synced).toEqual([]);
    stream(0).emit({ ...write('app/db'), namespace: '' });
    stream(1).emit({ ...write('app/db'), namespace: 'team-a/' });
    expect(synced).toEqual(['app/root', 'app/team']);
    // Moving an object out of the namespace closes that subscription once its last reader is gone.
    instant.watch('app/team', target('app/db'));
    instant.unwatch('app/team-2');
    expect(stream(1).closed).toBe(true);
    expect(stream(0).closed).toBe(false);
  });
});
