// Leader election against the real API server: one leader at a time, hand-over on stop and on expiry.
import * as k8s from '@kubernetes/client-node';
import { apiServerThroughProxy, sharedStack, type TestStack } from '@vaultbridge/testenv';
import { LeaseLock } from '../src/kube/lease-lock.ts';

let stack: TestStack;
beforeAll(() => {
  stack = sharedStack();
});

function lock(name: string, identity: string, leaseDurationSeconds = 15): LeaseLock {
  return new LeaseLock({
    kubeConfig: stack.kube.config,
    namespace: 'default',
    name,
    identity,
    leaseDurationSeconds,
    renewDeadlineMs: leaseDurationSeconds * 800,
    retryPeriodMs: 100,
  });
}

describe('LeaseLock', () => {
  it('lets exactly one of two replicas lead, and hands over when the leader stops', async () => {
    const name = stack.uniqueName('lease');
    const a = lock(name, 'replica-a');
    const b = lock(name, 'replica-b');
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(await a.tryAcquireOrRenew()).toBe(true); // renewal by the holder

    a.start();
    await until('the first round', () => a.isLeader);
    await a.stop();
    expect(await b.tryAcquireOrRenew()).toBe(true);
    const lease = await stack.kube.config
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ namespace: 'default', name });
    expect(lease.spec?.holderIdentity).toBe('replica-b');
    expect(lease.spec?.leaseTransitions).toBe(2);
  });

  it('takes over an expired lease but not a live one', async () => {
    const name = stack.uniqueName('lease');
    const a = lock(name, 'replica-a', 1);
    const b = lock(name, 'replica-b', 1);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew(new Date(Date.now() + 500))).toBe(false);
    expect(await b.tryAcquireOrRenew(new Date(Date.now() + 2500))).toBe(true);
  });

  it('never lets two contenders win the same round', async () => {
    const name = stack.uniqueName('lease');
    const contenders = Array.from({ length: 8 }, (_, i) => lock(name, `replica-${i}`));
    const results = await Promise.all(contenders.map((c) => c.tryAcquireOrRenew()));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps leading through a 3 s API-server outage with client-go defaults (lease 15 s, renew deadline 10 s, retry 2 s)', async () => {
    const name = stack.uniqueName('lease');
    const { proxy, kubeConfig } = await apiServerThroughProxy(stack.kube.config);
    const leases = stack.kube.config.makeApiClient(k8s.CoordinationV1Api);
    const holder = new LeaseLock({ kubeConfig, namespace: 'default', name, identity: 'replica-a' });
    const events: string[] = [];
    holder.on('leading', () => events.push('leading'));
    holder.on('lost', () => events.push('lost'));
    holder.on('error', () => events.push('error'));
    try {
      holder.start();
      await until('leading', () => holder.isLeader);
      const readSpec = async () => (await leases.readNamespacedLease({ namespace: 'default', name })).spec ?? {};
      const renewedAt = (spec: k8s.V1LeaseSpec) => (spec.renewTime ? new Date(spec.renewTime).getTime() : 0);
      const before = await readSpec();
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      // The outage was seen: renewals failed while the connection was cut.
      expect(events).toContain('error');
      expect(holder.isLeader).toBe(true);
      proxy.restore();
      const renewed = await until(
        'a renewal after the outage',
        async () => {
          const spec = await readSpec();
          return renewedAt(spec) > renewedAt(before) + 3_000 && spec;
        },
        10_000,
      );
      expect(renewed.holderIdentity).toBe('replica-a');
      expect(renewed.leaseTransitions).toBe(before.leaseTransitions);
      expect(events.filter((event) => event !== 'error')).toEqual(['leading']);
      expect(holder.isLeader).toBe(true);
    } finally {
      await holder.stop();
      await proxy.close();
    }
  }, 30_000);

  it('gives up once the renew deadline passes, also when requests hang instead of failing', async () => {
    const name = stack.uniqueName('lease');
    const { proxy, kubeConfig } = await apiServerThroughProxy(stack.kube.config);
    const holder = new LeaseLock({
      kubeConfig,
      namespace: 'default',
      name,
      identity: 'replica-a',
      leaseDurationSeconds: 3,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
    });
    let lost = false;
    holder.on('lost', () => (lost = true));
    holder.on('error', () => undefined);
    try {
      holder.start();
      await until('leading', () => holder.isLeader);
      // Requests now hang (accepted, never answered): only the lock's own deadline can end them.
      proxy.blackhole();
      await until('the lease given up', () => lost, 10_000);
      expect(holder.isLeader).toBe(false);
      // The lease was not renewed meanwhile: another replica takes it once it has expired.
      const contender = lock(name, 'replica-b', 3);
      await until('the contender taking over the expired lease', () => contender.tryAcquireOrRenew(), 10_000);
    } finally {
      await holder.stop();
      await proxy.close();
    }
  }, 30_000);

  it('refuses timings client-go refuses', () => {
    expect(
      () =>
        new LeaseLock({
          kubeConfig: stack.kube.config,
          namespace: 'default',
          name: 'x',
          identity: 'a',
          leaseDurationSeconds: 10,
          renewDeadlineMs: 10_000,
        }),
    ).toThrow('must be longer than the renew deadline');
    expect(
      () =>
        new LeaseLock({
          kubeConfig: stack.kube.config,
          namespace: 'default',
          name: 'x',
          identity: 'a',
          renewDeadlineMs: 2_000,
          retryPeriodMs: 2_000,
        }),
    ).toThrow('must be longer than 1.2 × the retry period');
  });
});

async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 5_000,
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Exclude<T, false | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
