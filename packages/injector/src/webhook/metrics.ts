import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The injector's metrics, with vault-k8s's names so existing dashboards and alerts keep working. */
export class InjectorMetrics {
  readonly registry: Registry;
  readonly queueLength: Gauge;
  readonly processingDuration: Histogram;
  readonly injections: Counter<'namespace' | 'injection_type'>;
  readonly failedInjections: Counter<'namespace'>;

  constructor(registry = new Registry(), withDefaultMetrics = true) {
    this.registry = registry;
    if (withDefaultMetrics) collectDefaultMetrics({ register: registry });
    this.queueLength = new Gauge({ name: 'vault_agent_injector_request_queue_length', help: 'Admission requests being processed', registers: [registry] });
    this.processingDuration = new Histogram({
      name: 'vault_agent_injector_request_processing_duration_ms',
      help: 'Time to process an admission request, in milliseconds',
      buckets: [5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 7500, 10000],
      registers: [registry],
    });
    this.injections = new Counter({
      name: 'vault_agent_injector_injections_by_namespace_total',
      help: 'Pods injected, by namespace and injection type',
      labelNames: ['namespace', 'injection_type'],
      registers: [registry],
    });
    this.failedInjections = new Counter({
      name: 'vault_agent_injector_failed_injections_by_namespace_total',
      help: 'Admission requests denied or failed, by namespace',
      labelNames: ['namespace'],
      registers: [registry],
    });
  }
}
