import {
  createLogger,
  type EventStreamStatus,
  type KvEvent,
  type VaultClient,
  type VaultEventStream,
} from '@vaultbridge/core';
import { apiPathsOf, InstantRerender, SerialRenders } from './instant.ts';

describe('apiPathsOf', () => {
  it('names a kv-v2 secret by its data path and its logical path, a kv-v1 secret by its path', () => {
    expect(apiPathsOf({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'app/db', version: 3 })).toEqual([
      'secret/data/app/db',
      'secret/app/db',
    ]);
    expect(apiPathsOf({ eventType: 'kv-v1/write', mount: 'kv', path: 'app/db' })).toEqual(['kv/app/db']);
  });
});

describe('SerialRenders', () => {
  it('never runs two renders of one secret at once; asks meanwhile share one more render after it', async () => {
    const log: string[] = [];
    const gates: (() => void)[] = [];
    const renders = new SerialRenders<string>(async (secret) => {
      log.push(`start ${secret}`);
      await new Promise<void>((resolve) => gates.push(resolve));
      log.push(`end ${secret}`);
    });
    const first = renders.render('a');
    const second = renders.render('a');
    const third = renders.render('a');
    expect(second).toBe(third);
    void renders.render('b');
    expect(log).toEqual(['start a', 'start b']);
    gates.shift()?.();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['start a', 'start b', 'end a', 'start a']);
    for (const gate of gates.splice(0)) gate();
    await renders.idle();
    expect(log.filter((line) => line === 'start a')).toHaveLength(2);
  });
});

describe('InstantRerender', () => {
  function setup() {
    const rendered: string[] = [];
    let handlers: { onEvent: (event: KvEvent) => void; onStatus: (status: EventStreamStatus) => void } | undefined;
    const renders = new SerialRenders<string>(async (secret) => {
      rendered.push(secret);
    });
    const instant = new InstantRerender<string>({
      client: {} as VaultClient,
      secrets: [
        { path: 'secret/data/app/db', secret: 'db' },
        { path: '/secret/app/other/', secret: 'other' },
        { path: 'kv/legacy', secret: 'legacy' },
      ],
      renders,
      logger: createLogger({ name: 'test', level: 'silent' }),
      intervalMs: 300_000,
      openStream: (_client, given) => {
        handlers = given;
        return { start: () => undefined, close: () => undefined } as unknown as VaultEventStream;
      },
    });
    instant.start();
    if (!handlers) throw new Error('no stream opened');
    return { rendered, handlers, renders };
  }

  it('renders only the secrets whose path the event names, however the annotation spelled it', async () => {
    const { rendered, handlers, renders } = setup();
    handlers.onEvent({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'app/db', version: 2 });
    handlers.onEvent({ eventType: 'kv-v2/data-patch', mount: 'secret', path: 'app/other' });
    handlers.onEvent({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'app/unrelated' });
    handlers.onEvent({ eventType: 'kv-v1/write', mount: 'kv', path: 'legacy' });
    await renders.idle();
    expect(rendered).toEqual(['db', 'other', 'legacy']);
  });

  it('renders every KV secret once after a reconnect, not on the first subscription', async () => {
    const { rendered, handlers, renders } = setup();
    handlers.onStatus({ state: 'subscribed', resumed: false });
    await renders.idle();
    expect(rendered).toEqual([]);
    handlers.onStatus({ state: 'subscribed', resumed: true });
    await renders.idle();
    expect(rendered.sort()).toEqual(['db', 'legacy', 'other']);
  });
});
