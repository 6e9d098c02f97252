import {
  AggregationTemporality,
  DataPointType,
  type Histogram,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/**
 * Attributes that become CloudWatch dimensions when a data point has them: the application, and the
 * low-cardinality kinds of the s3-sink's instruments. Shard and worker ids stay in the log line (for
 * Logs Insights) but are not dimensions: each value would be a metric of its own, billed per month.
 */
export const EMF_DIMENSION_KEYS = Object.freeze([
  'shardline.application',
  'shardline.s3_sink.object.kind',
  'shardline.s3_sink.error_output.type',
  'shardline.s3_sink.seal.reason',
]);

/** CloudWatch's unit for an OpenTelemetry unit (UCUM); annotations such as `{record}` are counts. */
function cloudWatchUnit(unit: string): string {
  if (unit === 'ms') return 'Milliseconds';
  if (unit === 's') return 'Seconds';
  if (unit === 'By') return 'Bytes';
  if (unit === '' || unit === '1' || /^\{.*\}$/.test(unit)) return 'Count';
  return 'None';
}

/** A histogram as EMF `Values`/`Counts`: each non-empty bucket at its midpoint, within [min, max]. */
function histogramValues(h: Histogram): { Values: number[]; Counts: number[] } {
  const values: number[] = [];
  const counts: number[] = [];
  const { boundaries, counts: bucketCounts } = h.buckets;
  bucketCounts.forEach((count, i) => {
    if (count === 0) return;
    const low = i === 0 ? (h.min ?? boundaries[0] ?? 0) : boundaries[i - 1]!;
    const high = i === boundaries.length ? (h.max ?? low) : boundaries[i]!;
    const mid = (low + high) / 2;
    values.push(Math.min(Math.max(mid, h.min ?? mid), h.max ?? mid));
    counts.push(count);
  });
  return { Values: values, Counts: counts };
}

/**
 * The CloudWatch embedded metric format (EMF) records of one collection: one JSON object per data
 * point, its dimensions those of {@link EMF_DIMENSION_KEYS} it has, every attribute kept as a property.
 * Counters are deltas (sum them: `Sum` statistic), gauges samples (`Maximum`/`Average`), histograms
 * their buckets as values with counts.
 */
export function emfRecords(resourceMetrics: ResourceMetrics, namespace: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = metric.descriptor.name;
      for (const point of metric.dataPoints) {
        let value: unknown;
        if (metric.dataPointType === DataPointType.HISTOGRAM) {
          const h = point.value as Histogram;
          if (h.count === 0) continue;
          value = histogramValues(h);
        } else if (
          metric.dataPointType === DataPointType.SUM ||
          metric.dataPointType === DataPointType.GAUGE
        ) {
          value = point.value;
        } else continue;
        const attributes = Object.fromEntries(
          Object.entries(point.attributes).map(([k, v]) => [k, String(v)]),
        );
        const [seconds, nanos] = point.endTime;
        records.push({
          ...attributes,
          _aws: {
            Timestamp: seconds * 1000 + Math.floor(nanos / 1e6),
            CloudWatchMetrics: [
              {
                Namespace: namespace,
                Dimensions: [EMF_DIMENSION_KEYS.filter((k) => k in attributes)],
                Metrics: [{ Name: name, Unit: cloudWatchUnit(metric.descriptor.unit) }],
              },
            ],
          },
          [name]: value,
        });
      }
    }
  }
  return records;
}

/**
 * An OpenTelemetry push exporter writing CloudWatch EMF lines (one JSON object per line) to `write` —
 * stdout in a container whose log driver is `awslogs`, where CloudWatch Logs extracts the metrics: no
 * collector, no agent, no IAM beyond the task's logs. Delta temporality, so each line holds what
 * happened since the previous export.
 */
export class CloudWatchEmfExporter implements PushMetricExporter {
  readonly #namespace: string;
  readonly #write: (line: string) => void;

  constructor(options: { readonly namespace: string; readonly write: (line: string) => void }) {
    this.#namespace = options.namespace;
    this.#write = options.write;
  }

  export(metrics: ResourceMetrics, resultCallback: Parameters<PushMetricExporter['export']>[1]): void {
    try {
      for (const record of emfRecords(metrics, this.#namespace)) this.#write(`${JSON.stringify(record)}\n`);
      resultCallback({ code: 0 });
    } catch (error) {
      resultCallback({ code: 1, error: error as Error });
    }
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
