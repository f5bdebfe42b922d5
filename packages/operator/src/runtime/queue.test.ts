import { WorkQueue, type ReconcileResult } from './queue.ts';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder(result: (key: string) => ReconcileResult | Promise<ReconcileResult> = () => ({})) {
  const calls: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const perKey = new Map<string, number>();
  let maxPerKey = 0;
  const handler = async (key: string): Promise<ReconcileResult> => {
    calls.push(key);
    running++;
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
    maxRunning = Math.max(maxRunning, running);
    maxPerKey = Math.max(maxPerKey, perKey.get(key)!);
    await tick(5);
    running--;
    perKey.set(key, perKey.get(key)! - 1);
    return result(key);
  };
  return { calls, handler, stats: () => ({ maxRunning, maxPerKey }) };
}

test('adds of a waiting key are merged into one reconcile', async () => {
  const { calls, handler } = recorder();
  const queue = new WorkQueue({ handler, concurrency: 1 });
  queue.add('blocker');
  queue.add('a');
  queue.add('a');
  queue.add('a');
  await tick(50);
  expect(calls).toEqual(['blocker', 'a']);
  await queue.stop();
});

test('a key added while it runs runs again after, never twice at once', async () => {
  const { calls, handler, stats } = recorder();
  const queue = new WorkQueue({ handler, concurrency: 4 });
  queue.add('a');
  await tick(1);
  queue.add('a');
  queue.add('a');
  await tick(50);
  expect(calls).toEqual(['a', 'a']);
  expect(stats().maxPerKey).toBe(1);
  await queue.stop();
});

test('concurrency is bounded', async () => {
  const { calls, handler, stats } = recorder();
  const queue = new WorkQueue({ handler, concurrency: 3 });
  for (let index = 0; index < 10; index++) queue.add(`k${index}`);
  await tick(100);
  expect(calls).toHaveLength(10);
  expect(stats().maxRunning).toBe(3);
  await queue.stop();
});

test('backoff grows exponentially per key, stays within [min, max], and resets on forget', () => {
  const queue = new WorkQueue({
    handler: async () => ({}),
    baseDelayMs: 100,
    maxDelayMs: 1000,
    minDelayMs: 10,
    random: () => 0.999999,
  });
  const delays = Array.from({ length: 8 }, () => queue.nextBackoff('a'));
  expect(delays).toEqual([99, 199, 399, 799, 999, 999, 999, 999]);
  expect(queue.nextBackoff('b')).toBe(99);
  queue.forget('a');
  expect(queue.nextBackoff('a')).toBe(99);
  const low = new WorkQueue({
    handler: async () => ({}),
    baseDelayMs: 100,
    maxDelayMs: 1000,
    minDelayMs: 10,
    random: () => 0,
  });
  expect(low.nextBackoff('a')).toBe(10);
});

test('a failing key is retried with backoff and a throw never escapes', async () => {
  let attempts = 0;
  const errors: string[] = [];
  const queue = new WorkQueue({
    handler: async () => {
      attempts++;
      if (attempts < 3) throw new Error('boom');
      return {};
    },
    baseDelayMs: 10,
    maxDelayMs: 20,
    minDelayMs: 1,
    onError: (key) => errors.push(key),
  });
  queue.add('a');
  await tick(150);
  expect(attempts).toBe(3);
  expect(errors).toEqual(['a', 'a']);
  expect(queue.failureCount('a')).toBe(0);
  await queue.stop();
});

test('addAfter keeps the earliest time and requeueAfterMs comes back', async () => {
  const { calls, handler } = recorder((key) =>
    key === 'periodic' && calls.filter((c) => c === key).length < 2 ? { requeueAfterMs: 20 } : {},
  );
  const queue = new WorkQueue({ handler });
  queue.addAfter('x', 10_000);
  queue.addAfter('x', 10);
  queue.add('periodic');
  // Polled, not a fixed sleep: a loaded CI machine can stall timers past a fixed 120 ms.
  const count = (name: string) => calls.filter((key) => key === name).length;
  for (const deadline = Date.now() + 5_000; (count('x') < 1 || count('periodic') < 2) && Date.now() < deadline;)
    await tick(10);
  await tick(40);
  expect(calls.filter((key) => key === 'x')).toHaveLength(1);
  expect(calls.filter((key) => key === 'periodic')).toHaveLength(2);
  await queue.stop();
});

test('remove drops a pending key', async () => {
  const { calls, handler } = recorder();
  const queue = new WorkQueue({ handler });
  queue.addAfter('a', 20);
  queue.remove('a');
  await tick(50);
  expect(calls).toEqual([]);
  await queue.stop();
});

test('idle resolves once every added key ran, a re-add included, and not for delayed adds', async () => {
  const { calls, handler } = recorder();
  const queue = new WorkQueue({ handler, concurrency: 2 });
  await queue.idle();
  for (const key of ['a', 'b', 'c']) queue.add(key);
  queue.addAfter('later', 60_000);
  let idle = false;
  const waited = queue.idle().then(() => (idle = true));
  await tick(1);
  // 'a' runs: an add while it runs makes it run again before the queue counts as idle.
  queue.add('a');
  expect(idle).toBe(false);
  await waited;
  expect([...calls].sort()).toEqual(['a', 'a', 'b', 'c']);
  expect(queue.length).toBe(0);
  await queue.stop();
});

test('idle resolves when the queue stops with work left', async () => {
  const { handler } = recorder();
  const queue = new WorkQueue({ handler, concurrency: 1 });
  for (const key of ['a', 'b', 'c']) queue.add(key);
  const waited = queue.idle();
  await queue.stop();
  await expect(waited).resolves.toBeUndefined();
});
