import { jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { reuseKubeConnections } from './connection-reuse.ts';

type Fake = {
  createDispatcher: (
    cluster: unknown,
    options: Record<string, unknown>,
  ) => { id: number; close: jest.Mock<() => Promise<void>> };
};

function fakeConfig(): { config: KubeConfig; created: () => number } {
  let count = 0;
  const fake: Fake = { createDispatcher: () => ({ id: ++count, close: jest.fn(async () => undefined) }) };
  return { config: fake as unknown as KubeConfig, created: () => count };
}

const dispatch = (config: KubeConfig, cluster: object, options: Record<string, unknown>) =>
  (config as unknown as Fake).createDispatcher(cluster, options);

test('client-node still builds its dispatcher in createDispatcher (the method this hooks)', () => {
  expect(typeof (new KubeConfig() as unknown as Fake).createDispatcher).toBe('function');
});

test('the same cluster and TLS material get the same dispatcher; new material a new one', () => {
  const { config, created } = fakeConfig();
  reuseKubeConnections(config);
  const cluster = { name: 'c', server: 'https://api:6443' };
  const options = { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') };
  const first = dispatch(config, cluster, options);
  for (let i = 0; i < 20; i++) expect(dispatch(config, cluster, { ...options, ca: Buffer.from('CA') })).toBe(first);
  expect(created()).toBe(1);
  const rotated = dispatch(config, cluster, { ...options, cert: Buffer.from('CERT-2') });
  expect(rotated).not.toBe(first);
  expect(dispatch(config, { ...cluster, server: 'https://other:6443' }, options)).not.toBe(first);
  expect(created()).toBe(3);
});

test('beyond four TLS identities the least recently used dispatcher is closed', () => {
  const { config } = fakeConfig();
  reuseKubeConnections(config);
  const cluster = { name: 'c', server: 'https://api:6443' };
  const made = [0, 1, 2, 3].map((i) => dispatch(config, cluster, { cert: `cert-${i}` }));
  dispatch(config, cluster, { cert: 'cert-0' }); // used again: cert-1 is now the oldest
  dispatch(config, cluster, { cert: 'cert-4' });
  expect(made[1]!.close).toHaveBeenCalledTimes(1);
  expect(made[0]!.close).not.toHaveBeenCalled();
});

test('patching twice is a no-op', () => {
  const { config, created } = fakeConfig();
  reuseKubeConnections(reuseKubeConnections(config));
  dispatch(config, { name: 'c' }, {});
  dispatch(config, { name: 'c' }, {});
  expect(created()).toBe(1);
});
