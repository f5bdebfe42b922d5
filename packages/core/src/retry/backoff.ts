// Capped exponential backoff with full jitter, and the one retry loop of the workspace.
// Full jitter (delay drawn uniformly from [0, cap)) spreads the retries of many clients that failed at
// the same moment, so a Vault that comes back is not hit by all of them in the same instant.

export interface BackoffOptions {
  /** Delay cap of the first retry; it doubles on each further attempt. */
  baseDelayMs: number;
  /** No delay is ever longer than this. */
  maxDelayMs: number;
  /** Source of randomness in [0, 1); injectable so tests can pin it. */
  random?: () => number;
}

/** The ceiling of the delay before retry number `attempt` (0 for the first retry): min(max, base·2^attempt). */
export function backoffCeiling(attempt: number, options: Pick<BackoffOptions, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.max(0, Math.floor(attempt));
  // 2 ** exponent overflows to Infinity for large attempts; Math.min then yields the cap, as intended.
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
}

/** Full-jitter delay before retry number `attempt`: uniform in [0, min(max, base·2^attempt)). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  return Math.floor(random() * backoffCeiling(attempt, options));
}

export interface RetryEvent {
  /** Attempt that just failed, counted from 1. */
  attempt: number;
  /** Wait before the next attempt. */
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Total attempts including the first one; 1 means no retry. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Only errors for which this returns true are retried; any other error is thrown at once. */
  isRetryable?: (error: unknown, attempt: number) => boolean;
  /** Aborting stops the loop (also during a wait) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Epoch milliseconds by which the whole loop must end: a budget, not a count. No wait runs past it
   * (the last error is thrown instead), and the signal handed to each attempt aborts at it, so an
   * attempt that honours its signal cannot overrun it either.
   */
  deadline?: number;
  /** Told before each wait, e.g. to log or count retries. */
  onRetry?: (event: RetryEvent) => void;
  random?: () => number;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, it throws an error that is not retryable, or `maxAttempts` attempts
 * have failed; then the last error is thrown unchanged, so callers see their own typed errors.
 */
export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  const isRetryable = options.isRetryable ?? (() => true);
  const { deadline } = options;
  const deadlineSignal =
    deadline === undefined ? undefined : AbortSignal.timeout(Math.max(0, Math.ceil(deadline - Date.now())));
  const attemptSignal =
    deadlineSignal && options.signal
      ? AbortSignal.any([deadlineSignal, options.signal])
      : (deadlineSignal ?? options.signal);
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt, attemptSignal);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error, attempt) || options.signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt - 1, options);
      // Waiting past the deadline only to fail after it: give the last error now.
      if (deadline !== undefined && Date.now() + delayMs >= deadline) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}
