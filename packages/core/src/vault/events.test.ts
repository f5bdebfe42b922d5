import { unavailableReason } from './events.ts';
import { parseKvEvent } from './kv-event.ts';

// Frames as Vault 1.13.0 (-experiment events.alpha1) sent them for `kv put`, `kv patch`, `kv delete`
// on a kv-v2 mount at secret/ and `kv put` on a kv-v1 mount at kv1/.
const frame = (eventType: string, mountPath: string, metadata: Record<string, string>): string =>
  JSON.stringify({
    id: 'Fidcesruuk',
    source: 'https://vaultproject.io/',
    specversion: '1.0',
    type: '*',
    data: {
      event: { id: '5c078bf7-fbf0-f4f1-0bfc-5b7cb0caecab', metadata },
      event_type: eventType,
      plugin_info: { mount_class: 'secret', mount_accessor: 'kv_1876bde2', mount_path: mountPath, plugin: 'kv' },
    },
    datacontentype: 'application/cloudevents',
    time: '2026-12-06T07:49:17.630072456Z',
  });

describe('parseKvEvent (Vault 1.13 shape)', () => {
  it('kv-v2 writes, patches and deletes name the mount, the secret path without data/, and the version', () => {
    expect(
      parseKvEvent(
        frame('kv-v2/data-write', 'secret/', { current_version: '1', oldest_version: '0', path: 'data/app/db' }),
      ),
    ).toEqual({ eventType: 'kv-v2/data-write', mount: 'secret', path: 'app/db', version: 1 });
    expect(
      parseKvEvent(
        frame('kv-v2/data-patch', 'secret/', { current_version: '2', oldest_version: '0', path: 'data/app/db' }),
      ),
    ).toEqual({ eventType: 'kv-v2/data-patch', mount: 'secret', path: 'app/db', version: 2 });
    expect(parseKvEvent(frame('kv-v2/metadata-delete', 'team/kv/', { path: 'metadata/app/db' }))).toEqual({
      eventType: 'kv-v2/metadata-delete',
      mount: 'team/kv',
      path: 'app/db',
    });
  });

  it("the namespace Enterprise names is kept without slashes (the root as ''); 1.13 community sends none", () => {
    const withNamespace = JSON.parse(
      frame('kv-v2/data-write', 'secret/', { current_version: '3', path: 'data/app/db' }),
    ) as { data: Record<string, unknown> };
    withNamespace.data.namespace = 'team-a/';
    expect(parseKvEvent(JSON.stringify(withNamespace))).toEqual({
      eventType: 'kv-v2/data-write',
      mount: 'secret',
      path: 'app/db',
      version: 3,
      namespace: 'team-a',
    });
    withNamespace.data.namespace = '';
    expect(parseKvEvent(JSON.stringify(withNamespace))).toEqual({
      eventType: 'kv-v2/data-write',
      mount: 'secret',
      path: 'app/db',
      version: 3,
      namespace: '',
    });
  });

  it('kv-v1 writes carry the path as it is', () => {
    expect(parseKvEvent(frame('kv-v1/write', 'kv1/', { path: 'x/y' }))).toEqual({
      eventType: 'kv-v1/write',
      mount: 'kv1',
      path: 'x/y',
    });
  });

  it('ignores frames that are not KV secret events rather than guessing', () => {
    expect(parseKvEvent('not json')).toBeNull();
    expect(parseKvEvent(JSON.stringify({ data: { event_type: 'kv-v2/data-write' } }))).toBeNull();
    expect(parseKvEvent(frame('database/rotate', 'db/', { path: 'x' }))).toBeNull();
    // Mount configuration, not a secret.
    expect(parseKvEvent(frame('kv-v2/config-write', 'secret/', { path: 'config' }))).toBeNull();
    // A version that is not a positive integer is dropped, the event kept.
    expect(parseKvEvent(frame('kv-v2/data-write', 'secret/', { current_version: 'x', path: 'data/a' }))).toEqual({
      eventType: 'kv-v2/data-write',
      mount: 'secret',
      path: 'a',
    });
  });
});

describe('unavailableReason', () => {
  it('tells "poll instead" answers (404: experiment off or no events; 403: policy) from transient ones', () => {
    expect(unavailableReason(404, 'kv*')).toMatch(/events\.alpha1/);
    expect(unavailableReason(403, 'kv*')).toBe(
      'the token may not subscribe to events: its policy needs "read" on sys/events/subscribe/kv*',
    );
    expect(unavailableReason(503, 'kv*')).toBeNull();
    expect(unavailableReason(500, 'kv*')).toBeNull();
  });
});
