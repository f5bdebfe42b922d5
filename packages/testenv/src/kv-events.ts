// Making a KV change arrive as an event on the stack's Vault 1.13.0, for tests about our side of events.
//
// Vault 1.13.0 hands each event to a subscriber in a goroutine that also waits on the context of the
// request that caused it (the KV write), and gives up when that request has returned. So an event whose
// goroutine is scheduled after the write's response is lost at random, whatever the subscriber does:
// hashicorp/vault#23500 ("events: Ignore send context", backported to later 1.13 patch releases).
// On this 2-core machine a full test run lost one of its few dozen events in about two runs of five. A test therefore makes its change again (a new version, so a new event) when the
// result has not arrived within `perAttemptMs`, and is told how many changes it made, so what it counts
// (Vault reads, renders) can be bounded by that instead of assuming every event arrives. A consumer that
// misses events of its own making still fails: every attempt has to be lost for the test to time out.

export interface UntilEventArrivesOptions {
  /** What the test waits for, in its failure message. */
  what: string;
  /** Makes change number `attempt` (0, 1, …); each must publish a new event. */
  change: (attempt: number) => Promise<unknown>;
  /** Whether the result of change `attempt` (or a later one) is visible. */
  arrived: (attempt: number) => Promise<boolean> | boolean;
  /** Changes made at most. Default 4. */
  attempts?: number;
  /** How long each change is given to arrive. Default 6 s. */
  perAttemptMs?: number;
  /** Extra detail for the failure message (e.g. the consumer's log). */
  detail?: () => string;
}

/** Makes the change until its result arrives; returns how many changes were made (1 when none was lost). */
export async function untilEventArrives(options: UntilEventArrivesOptions): Promise<number> {
  const attempts = options.attempts ?? 4;
  const perAttemptMs = options.perAttemptMs ?? 6_000;
  for (let attempt = 0; attempt < attempts; attempt++) {
    await options.change(attempt);
    const deadline = Date.now() + perAttemptMs;
    for (;;) {
      if (await options.arrived(attempt)) return attempt + 1;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (attempt + 1 < attempts) {
      // Visible in the test output, so how often Vault 1.13.0 loses an event stays known.
      process.stderr.write(
        `[testenv] ${options.what}: not arrived ${perAttemptMs} ms after change ${attempt + 1}; ` +
          `Vault 1.13.0 may have lost the event (hashicorp/vault#23500), changing again\n`,
      );
    }
  }
  const detail = options.detail?.();
  throw new Error(
    `timed out waiting for ${options.what}: ${attempts} changes, none arrived within ${perAttemptMs} ms` +
      (detail ? `\n${detail}` : ''),
  );
}
