/**
 * OpenTelemetry metrics in tests (`@shardline/test-kit/metrics`, a subpath so that only the tests that
 * read instruments load the SDK): a `MeterProvider` whose points are collected on demand.
 */
import type { Attributes } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** A reader collected on demand (the OpenTelemetry SDK's own aggregation, no exporter). */
class OnDemandReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** One data point: the instrument's name, its attributes, its value (a sum, a gauge, or a histogram). */
export interface Point {
  readonly name: string;
  readonly unit: string;
  readonly attributes: Attributes;
  readonly value: number | Histogram;
}

/** An OpenTelemetry SDK `MeterProvider` with an in-memory reader. */
export function inMemoryMetrics() {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<Point[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.flatMap((metric) =>
        (metric.dataPoints as DataPoint<number | Histogram>[]).map((p) => ({
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          attributes: p.attributes,
          value: p.value,
        })),
      ),
    );
  };
  /** The sum of an instrument's values (counters and gauges), over the points whose attributes include `where`. */
  const sum = (points: readonly Point[], name: string, where: Attributes = {}): number =>
    points
      .filter((p) => p.name === name && Object.entries(where).every(([k, v]) => p.attributes[k] === v))
      .reduce((n, p) => n + (typeof p.value === 'number' ? p.value : p.value.count), 0);
  return { meterProvider, collect, sum, shutdown: () => meterProvider.shutdown() };
}
