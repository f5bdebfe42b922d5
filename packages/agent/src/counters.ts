// The counters the sidecar updates, without prom-client: AgentMetrics (agent-metrics.ts) when a metrics
// listener serves them, noAgentCounters otherwise.
import type { TrimmedMemory } from '@vaultbridge/core/metrics';

export interface AgentCounters {
  readonly renders: { inc(labels: { secret: string; result: string }): void };
  readonly leaseEvents: { inc(labels: { event: string }): void };
  readonly tokenLogins: { inc(): void };
  readonly ready: { set(value: number): void };
  /** Told of each idle memory trim (core's startServiceMemoryTrim). */
  readonly memoryTrimmed: (trim: TrimmedMemory) => void;
}

/** Counts nothing: a sidecar without a metrics listener has no one to tell. */
export const noAgentCounters: AgentCounters = {
  renders: { inc: () => undefined },
  leaseEvents: { inc: () => undefined },
  tokenLogins: { inc: () => undefined },
  ready: { set: () => undefined },
  memoryTrimmed: () => undefined,
};
