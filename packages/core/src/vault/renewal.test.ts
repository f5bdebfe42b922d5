import { renewalDelayMs } from './renewal.ts';

test('defaults renew at 2/3 of the TTL, pulled earlier by at most a tenth of it', () => {
  expect(renewalDelayMs(300, { random: () => 0 })).toBe(200_000);
  expect(renewalDelayMs(300, { random: () => 1 })).toBe(170_000);
  for (let i = 0; i < 1000; i += 1) {
    const delay = renewalDelayMs(60);
    expect(delay).toBeGreaterThanOrEqual(34_000);
    expect(delay).toBeLessThanOrEqual(40_000);
  }
});

test('fraction and jitter are configurable and clamped', () => {
  expect(renewalDelayMs(100, { renewFraction: 0.5, jitterFraction: 0, random: () => 0.7 })).toBe(50_000);
  expect(renewalDelayMs(100, { renewFraction: 2, jitterFraction: 0 })).toBe(100_000);
  expect(renewalDelayMs(100, { renewFraction: 0.2, jitterFraction: 0.5, random: () => 1 })).toBe(0);
  expect(renewalDelayMs(0)).toBe(0);
});
