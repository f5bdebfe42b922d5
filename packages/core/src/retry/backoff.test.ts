import { backoffCeiling, backoffDelay, retry } from './backoff.ts';

class Transient extends Error {
  readonly code = 'TRANSIENT';
}
class Permanent extends Error {
  readonly code = 'PERMANENT';
}

describe('backoffCeiling', () => {
  test.each([
    [0, 100],
    [1, 200],
    [2, 400],
    [3, 800],
    [4, 1000],
    [60, 1000],
    [5000, 1000], // 2 ** 5000 is Infinity: still capped
  ])('attempt %i is capped at %i ms (base 100, max 1000)', (attempt, expected) => {
    expect(backoffCeiling(attempt, { baseDelayMs: 100, maxDelayMs: 1000 })).toBe(expected);
  });
});

describe('backoffDelay', () => {
  test('random 0 gives no delay and random just below 1 gives just below the ceiling', () => {
    expect(backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0.999999 })).toBe(799);
  });

  test('every delay lies in [0, ceiling) for every attempt', () => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const ceiling = backoffCeiling(attempt, { baseDelayMs: 50, maxDelayMs: 3000 });
      for (let i = 0; i < 200; i += 1) {
        const delay = backoffDelay(attempt, { baseDelayMs: 50, maxDelayMs: 3000 });
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });

  test('full jitter is spread uniformly over [0, ceiling): each decile holds about a tenth', () => {
    const samples = 20_000;
    const ceiling = 1000;
    const deciles = new Array<number>(10).fill(0);
    for (let i = 0; i < samples; i += 1) {
      const delay = backoffDelay(10, { baseDelayMs: 100, maxDelayMs: ceiling });
      const bucket = Math.floor(delay / (ceiling / 10));
      deciles[bucket] = (deciles[bucket] ?? 0) + 1;
    }
    // Expected 2000 per decile, sd ≈ 42: ±300 is over 7 sd, so this never flakes but catches a bias
    // such as "equal jitter" (nothing in the lower half) or no jitter at all.
    for (const count of deciles) expect(Math.abs(count - samples / 10)).toBeLessThan(300);
    const mean = deciles.reduce((sum, count, i) => sum + count * (i + 0.5) * 100, 0) / samples;
    expect(Math.abs(mean - ceiling / 2)).toBeLessThan(25);
  });
});

describe('retry', () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 5 };

  test('returns the first success and passes the attempt number', async () => {
    const seen: number[] = [];
    const result = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Transient('not yet');
        return 'ok';
      },
      { maxAttempts: 5, ...fast },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  test('throws the last error unchanged after maxAttempts and reports each retry', async () => {
    const retries: Array<{ attempt: number; delayMs: number }> = [];
    let calls = 0;
    const failing = retry(
      async () => {
        calls += 1;
        throw new Transient(`failure ${calls}`);
      },
      { maxAttempts: 4, ...fast, onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }) },
    );
    await expect(failing).rejects.toThrow('failure 4');
    expect(calls).toBe(4);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    for (const [i, r] of retries.entries()) expect(r.delayMs).toBeLessThan(backoffCeiling(i, fast));
  });

  test('does not retry an error that is not retryable', async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls += 1;
        throw new Permanent('bad request');
      },
      { maxAttempts: 5, ...fast, isRetryable: (error) => error instanceof Transient },
    );
    await expect(failing).rejects.toBeInstanceOf(Permanent);
    expect(calls).toBe(1);
  });

  test('maxAttempts 1 means a single call', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw new Transient('once');
        },
        { maxAttempts: 1, ...fast },
      ),
    ).rejects.toThrow('once');
    expect(calls).toBe(1);
  });

  test('an abort during the wait stops the loop with the signal reason', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const failing = retry(
      async () => {
        calls += 1;
        setTimeout(() => controller.abort(new Permanent('shutting down')), 20);
        throw new Transient('down');
      },
      { maxAttempts: 10, baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.5, signal: controller.signal },
    );
    await expect(failing).rejects.toThrow('shutting down');
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('an already aborted signal makes no call', async () => {
    const controller = new AbortController();
    controller.abort(new Permanent('stopped'));
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          return 1;
        },
        { maxAttempts: 3, ...fast, signal: controller.signal },
      ),
    ).rejects.toThrow('stopped');
    expect(calls).toBe(0);
  });

  test('a deadline is a budget: no wait that would end past it, the last error is thrown instead', async () => {
    let calls = 0;
    const error = new Transient('still down');
    // Delays of ~1 s each (random pinned near 1) against a deadline 1.5 s away: one retry at most
    // would fit only if it waited 1 s; the second wait (up to 2 s) would end past the deadline.
    const started = Date.now();
    await expect(
      retry(
        async () => {
          calls += 1;
          throw error;
        },
        { maxAttempts: 100, baseDelayMs: 1000, maxDelayMs: 2000, random: () => 0.999, deadline: started + 1500 },
      ),
    ).rejects.toBe(error);
    expect(calls).toBe(2);
  });

  test('each attempt gets a signal that aborts at the deadline, so a hung attempt cannot overrun it', async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const error = await retry(
      (_attempt, signal) => {
        seen.push(signal);
        // An attempt that never ends on its own, as a request to a Vault that hangs.
        return new Promise<never>((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      },
      { maxAttempts: 3, ...fast, deadline: Date.now() + 50 },
    ).catch((e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.aborted).toBe(true);
    expect((error as Error).name).toBe('TimeoutError');
  });

  test('without a deadline or signal the attempt gets no signal', async () => {
    let given: AbortSignal | undefined | null = null;
    await retry(
      async (_attempt, signal) => {
        given = signal;
      },
      { maxAttempts: 1, ...fast },
    );
    expect(given).toBeUndefined();
  });
});
