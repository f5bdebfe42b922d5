// Metrics live in a registry the service creates, never in prom-client's global one: two services
// bundled into one test process, or many tests, each get their own metrics without name clashes.
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

export interface MetricsRegistryOptions {
  /** Also collect the Node process metrics (CPU, memory, event loop lag, GC). Default false. */
  defaultMetrics?: boolean | { prefix?: string };
  /** Labels added to every metric of the registry, e.g. `{ service: 'operator' }`. */
  defaultLabels?: Record<string, string>;
}

type Without<T> = Omit<T, 'registers'>;

export class MetricsError extends Error {
  readonly code = 'METRIC_ALREADY_REGISTERED';
  readonly metric: string;

  constructor(metric: string) {
    super(`metric "${metric}" is already registered in this registry; create it once and share it`);
    this.name = 'MetricsError';
    this.metric = metric;
  }
}

/** A prom-client registry with helpers that create metrics bound to it. */
export class MetricsRegistry {
  readonly registry: Registry;

  constructor(options: MetricsRegistryOptions = {}) {
    this.registry = new Registry();
    if (options.defaultLabels !== undefined) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.defaultMetrics !== undefined && options.defaultMetrics !== false) {
      const prefix = typeof options.defaultMetrics === 'object' ? options.defaultMetrics.prefix : undefined;
      collectDefaultMetrics({ register: this.registry, ...(prefix === undefined ? {} : { prefix }) });
    }
  }

  /** Content type of {@link text}, for the `/metrics` response. */
  get contentType(): string {
    return this.registry.contentType;
  }

  counter<Labels extends string = string>(config: Without<CounterConfiguration<Labels>>): Counter<Labels> {
    this.#assertFree(config.name);
    return new Counter<Labels>({ ...config, registers: [this.registry] });
  }

  gauge<Labels extends string = string>(config: Without<GaugeConfiguration<Labels>>): Gauge<Labels> {
    this.#assertFree(config.name);
    return new Gauge<Labels>({ ...config, registers: [this.registry] });
  }

  histogram<Labels extends string = string>(config: Without<HistogramConfiguration<Labels>>): Histogram<Labels> {
    this.#assertFree(config.name);
    return new Histogram<Labels>({ ...config, registers: [this.registry] });
  }

  /** The registry in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  #assertFree(name: string): void {
    assertFree(this.registry, name);
  }
}

/** Throws {@link MetricsError}, not prom-client's untyped error, when `name` is taken in `registry`. */
function assertFree(registry: Registry, name: string): void {
  if (registry.getSingleMetric(name) !== undefined) throw new MetricsError(name);
}

/** A new, independent metrics registry. */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  return new MetricsRegistry(options);
}

/** What one idle memory trim did (runtime/idle-memory-trim.ts), as the counters below read it. */
export interface TrimmedMemory {
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
}

/**
 * Counts the idle memory trims in a service's registry: how many, and how much resident memory they gave
 * back. Here rather than beside the trim, so that a service without metrics never loads prom-client.
 */
export function countIdleMemoryTrims(registry: Registry): (trim: TrimmedMemory) => void {
  // Both names are checked before either is created, so a clash leaves the registry as it was.
  assertFree(registry, 'vaultbridge_idle_memory_trims_total');
  assertFree(registry, 'vaultbridge_idle_memory_trim_released_bytes_total');
  const trims = new Counter({
    name: 'vaultbridge_idle_memory_trims_total',
    help: 'Memory-reducing collections run after the process went quiet',
    registers: [registry],
  });
  const released = new Counter({
    name: 'vaultbridge_idle_memory_trim_released_bytes_total',
    help: 'Resident memory the idle memory trims gave back',
    registers: [registry],
  });
  return (trim) => {
    trims.inc();
    released.inc(Math.max(0, trim.rssBeforeBytes - trim.rssAfterBytes));
  };
}
