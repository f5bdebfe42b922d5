// Leader election against the real API server: one leader at a time, hand-over on stop and on expiry.
import * as k8s from '@kubernetes/client-node';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { LeaseLock } from '../src/kube/lease-lock.ts';

let stack: TestStack;
beforeAll(() => {
  stack = sharedStack();
});

function lock(name: string, identity: string, leaseDurationSeconds = 15): LeaseLock {
  return new LeaseLock({ kubeConfig: stack.kube.config, namespace: 'default', name, identity, leaseDurationSeconds, retryPeriodMs: 100 });
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
    await new Promise((r) => setTimeout(r, 150));
    expect(a.isLeader).toBe(true);
    await a.stop();
    expect(await b.tryAcquireOrRenew()).toBe(true);
    const lease = await stack.kube.config.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: 'default', name });
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
});
