// When to renew something that expires (a token, a lease): at a fraction of its TTL, pulled earlier by
// a random jitter so that many clients that got their leases together do not renew together.

export interface RenewalTiming {
  /** Fraction of the TTL after which to renew. Default 2/3 (VSO's renewalPercent 67). */
  renewFraction?: number;
  /** Up to this fraction of the TTL is taken off at random. Default 0.1. */
  jitterFraction?: number;
  random?: () => number;
}

export const defaultRenewFraction = 2 / 3;
export const defaultJitterFraction = 0.1;

/** Milliseconds from now until renewal of something with `ttlSeconds` left: in [ttl·(f − j), ttl·f]. */
export function renewalDelayMs(ttlSeconds: number, timing: RenewalTiming = {}): number {
  const fraction = Math.min(1, Math.max(0, timing.renewFraction ?? defaultRenewFraction));
  const jitter = Math.min(fraction, Math.max(0, timing.jitterFraction ?? defaultJitterFraction));
  const random = timing.random ?? Math.random;
  return Math.max(0, Math.round(ttlSeconds * 1000 * (fraction - jitter * random())));
}

/** A timer that does not keep the process alive: renewals must never block a clean exit. */
export function unrefTimer(callback: () => void, delayMs: number): NodeJS.Timeout {
  // setTimeout caps at 2^31-1 ms (~24.8 days); longer TTLs are re-armed by their renewal anyway.
  const timer = setTimeout(callback, Math.min(delayMs, 2_147_483_647));
  timer.unref();
  return timer;
}
