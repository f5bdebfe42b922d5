import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Anyone who can reach the webhook can post a review naming any namespace, so the `namespace` label
 * is bounded: a value that is not a namespace name, or a new one beyond this many, counts as `_other`.
 */
export const MAX_NAMESPACE_LABELS = 1_000;
export const OTHER_NAMESPACE = '_other';
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The injector's metrics, with vault-k8s's names so existing dashboards and alerts keep working. */
export class InjectorMetrics {
  readonly registry: Registry;
  readonly queueLength: Gauge;
  readonly processingDuration: Histogram;
  readonly injections: Counter<'namespace' | 'injection_type'>;
  readonly failedInjections: Counter<'namespace'>;

  readonly #namespaces = new Set<string>();
  readonly #maxNamespaces: number;

  constructor(registry = new Registry(), withDefaultMetrics = true, maxNamespaces = MAX_NAMESPACE_LABELS) {
    this.registry = registry;
    this.#maxNamespaces = maxNamespaces;
    if (withDefaultMetrics) collectDefaultMetrics({ register: registry });
    this.queueLength = new Gauge({
      name: 'vault_agent_injector_request_queue_length',
      help: 'Admission requests being processed',
      registers: [registry],
    });
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

  /** The label value for a review's namespace (see MAX_NAMESPACE_LABELS). */
  namespaceLabel(namespace: string): string {
    if (this.#namespaces.has(namespace)) return namespace;
    if (!NAMESPACE_NAME.test(namespace) || this.#namespaces.size >= this.#maxNamespaces) return OTHER_NAMESPACE;
    this.#namespaces.add(namespace);
    return namespace;
  }
}
