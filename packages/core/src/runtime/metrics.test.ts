import { Registry } from 'prom-client';
import { MetricsError, countIdleMemoryTrims, createMetricsRegistry } from './metrics.ts';

describe('MetricsRegistry', () => {
  test('metrics are bound to their own registry only', async () => {
    const first = createMetricsRegistry();
    const second = createMetricsRegistry();
    const requests = first.counter({
      name: 'vaultbridge_requests_total',
      help: 'Requests.',
      labelNames: ['method'] as const,
    });
    requests.inc({ method: 'GET' }, 2);
    second.counter({ name: 'vaultbridge_requests_total', help: 'Requests.' });
    expect(await first.text()).toContain('vaultbridge_requests_total{method="GET"} 2');
    expect(await second.text()).toContain('vaultbridge_requests_total 0');
  });

  test('creates gauges and histograms', async () => {
    const metrics = createMetricsRegistry({ defaultLabels: { service: 'operator' } });
    metrics.gauge({ name: 'vaultbridge_leases', help: 'Leases.' }).set(3);
    metrics.histogram({ name: 'vaultbridge_render_seconds', help: 'Render time.', buckets: [0.1, 1] }).observe(0.5);
    const text = await metrics.text();
    expect(text).toContain('vaultbridge_leases{service="operator"} 3');
    expect(text).toContain('vaultbridge_render_seconds_bucket{le="1",service="operator"} 1');
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  test('refuses a second metric of the same name', () => {
    const metrics = createMetricsRegistry();
    metrics.counter({ name: 'dup_total', help: 'x' });
    expect(() => metrics.gauge({ name: 'dup_total', help: 'x' })).toThrow(MetricsError);
  });

  test('collects the Node process metrics when asked', async () => {
    const metrics = createMetricsRegistry({ defaultMetrics: { prefix: 'vb_' } });
    expect(await metrics.text()).toContain('vb_process_cpu_user_seconds_total');
    expect(await createMetricsRegistry().text()).not.toContain('process_cpu_user_seconds_total');
  });

  test('counts idle memory trims and the bytes they gave back, never negative', async () => {
    const metrics = createMetricsRegistry();
    const onTrim = countIdleMemoryTrims(metrics.registry);
    onTrim({ rssBeforeBytes: 10_000, rssAfterBytes: 4_000 });
    onTrim({ rssBeforeBytes: 4_000, rssAfterBytes: 5_000 });
    const text = await metrics.text();
    expect(text).toContain('vaultbridge_idle_memory_trims_total 2');
    expect(text).toContain('vaultbridge_idle_memory_trim_released_bytes_total 6000');
  });

  test('the trim counters refuse a registry that has them, with MetricsError, and add nothing', () => {
    const registry = new Registry();
    countIdleMemoryTrims(registry);
    expect(() => countIdleMemoryTrims(registry)).toThrow(MetricsError);
    const partial = createMetricsRegistry();
    partial.counter({ name: 'vaultbridge_idle_memory_trim_released_bytes_total', help: 'x' });
    expect(() => countIdleMemoryTrims(partial.registry)).toThrow(MetricsError);
    expect(partial.registry.getSingleMetric('vaultbridge_idle_memory_trims_total')).toBeUndefined();
  });
});
