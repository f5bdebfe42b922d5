// What the sidecar counts, for its metrics listener (agent-metrics-listener-port). Its own module so
// prom-client is imported only by a sidecar that serves metrics: built always, it cost ~9 MiB of RSS
// in every injected pod (issue 14); without a listener the sidecar counts into noAgentCounters.
// From core's metrics subpath, not its index: a lazily imported module that imports the index makes the
// bundler wrap all of core and evaluate every module of it at start (prom-client, handlebars, ...).
import { countIdleMemoryTrims, createMetricsRegistry, type MetricsRegistry } from '@vaultbridge/core/metrics';
import type { AgentCounters } from './counters.ts';

/** What the agent counts; names are ours (`vaultbridge_agent_*`), labels carry secret names, never values. */
export class AgentMetrics implements AgentCounters {
  readonly registry: MetricsRegistry;
  readonly renders;
  readonly leaseEvents;
  readonly tokenLogins;
  readonly ready;
  readonly memoryTrimmed;

  constructor() {
    this.registry = createMetricsRegistry({ defaultMetrics: { prefix: 'vaultbridge_agent_' } });
    this.renders = this.registry.counter({
      name: 'vaultbridge_agent_renders_total',
      help: 'Secret renders by secret name and result (created, changed, unchanged, error).',
      labelNames: ['secret', 'result'] as const,
    });
    this.leaseEvents = this.registry.counter({
      name: 'vaultbridge_agent_lease_events_total',
      help: 'Lease renewals, re-issues, expiries and errors.',
      labelNames: ['event'] as const,
    });
    this.tokenLogins = this.registry.counter({
      name: 'vaultbridge_agent_token_logins_total',
      help: 'Vault logins (the first, and new tokens after a refused renewal or the max TTL).',
    });
    this.ready = this.registry.gauge({
      name: 'vaultbridge_agent_ready',
      help: '1 once every secret has been rendered once.',
    });
    this.memoryTrimmed = countIdleMemoryTrims(this.registry.registry);
  }
}
