import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { type CloudWatchUnit, cloudWatchUnit } from './emfUnit.js';

// The rules of the embedded metric format this module keeps:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
/** At most 100 metrics in one MetricDirective. */
export const EMF_MAX_METRICS_PER_DOCUMENT = 100;
/** At most 30 dimensions in one DimensionSet. */
export const EMF_MAX_DIMENSIONS = 30;

/** One metric of a {@link EmfDocument}'s directive. */
export interface EmfMetricDefinition {
  /** The metric's name: also the name of the member holding its value. */
  readonly Name: string;
  /** The CloudWatch unit. */
  readonly Unit: CloudWatchUnit;
}

/** One embedded-metric-format document: one JSON line on stdout, one log event in CloudWatch Logs. */
export interface EmfDocument {
  /** The metadata: when, and which members are metrics in which namespace and dimensions. */
  readonly _aws: {
    /** Milliseconds since the epoch. */
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly [
      {
        readonly Namespace: string;
        readonly Dimensions: readonly (readonly string[])[];
        readonly Metrics: readonly EmfMetricDefinition[];
      },
    ];
  };
  /** Target members: each dimension's value (a string) and each metric's value (a number). */
  readonly [member: string]: unknown;
}

/** Settings of {@link toEmfDocuments}. */
export interface EmfFormatSettings {
  /** The CloudWatch namespace of every metric. */
  readonly namespace: string;
  /** The documents' `Timestamp`, milliseconds since the epoch. */
  readonly timestampMs: number;
  /** Attributes left out of the dimensions; points differing only in them are merged. */
  readonly droppedAttributes: ReadonlySet<string>;
  /**
   * A document whose dimensions include some of these and others too is also published under these
   * alone (a second dimension set): the roll-up an alarm per application needs.
   */
  readonly rollupDimensions: ReadonlySet<string>;
}

/**
 * What a formatter remembers between flushes: the last cumulative value of every counter series, so that
 * each flush emits the increase since the one before (a CloudWatch `Sum` over a period is then the
 * count of that period).
 */
export type CounterMemory = Map<string, number>;

interface Series {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: Map<string, { value: number; unit: CloudWatchUnit; merge: Merge }>;
}
type Merge = 'sum' | 'max' | 'min';

/**
 * Turns one collection of OpenTelemetry metrics into embedded-metric-format documents.
 *
 * - monotonic sums (counters): the increase since the last flush (`memory` keeps the previous total;
 *   a series seen before and not increased emits 0);
 * - gauges and non-monotonic sums: the last value;
 * - histograms (delta temporality): four metrics `<name>.count`, `<name>.sum`, `<name>.min`, `<name>.max`
 *   (the increase since the last flush), or none when nothing was recorded;
 * - attributes become dimensions (values as strings), except `droppedAttributes`; points that then share
 *   dimensions are merged: counts and sums added, gauges and maxima the maximum, minima the minimum.
 *
 * - a document whose dimensions are more than its `rollupDimensions` gets a second dimension set of
 *   those alone (CloudWatch aggregates the documents' values under it).
 *
 * One document per dimension set (values are top-level members, so two values of one metric need two
 * documents), split into documents of at most 100 metrics.
 */
export function toEmfDocuments(
  resourceMetrics: ResourceMetrics,
  settings: EmfFormatSettings,
  memory: CounterMemory,
): EmfDocument[] {
  const series = new Map<string, Series>();
  const put = (
    attributes: Attributes,
    name: string,
    value: number,
    unit: CloudWatchUnit,
    merge: Merge,
  ): void => {
    const dimensions = dimensionsOf(attributes, settings.droppedAttributes);
    const key = JSON.stringify(dimensions);
    let s = series.get(key);
    if (s === undefined) {
      s = { dimensions, values: new Map() };
      series.set(key, s);
    }
    const existing = s.values.get(name);
    if (existing === undefined) s.values.set(name, { value, unit, merge });
    else existing.value = mergeValues(existing.value, value, merge);
  };

  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) addMetric(metric, put, memory);
  }

  const documents: EmfDocument[] = [];
  for (const s of [...series.values()].sort(byDimensions)) {
    const names = [...s.values.keys()].sort();
    for (let i = 0; i < names.length; i += EMF_MAX_METRICS_PER_DOCUMENT) {
      const chunk = names.slice(i, i + EMF_MAX_METRICS_PER_DOCUMENT);
      const members: Record<string, unknown> = { ...s.dimensions };
      const definitions: EmfMetricDefinition[] = [];
      for (const name of chunk) {
        const v = s.values.get(name);
        if (v === undefined) continue;
        definitions.push({ Name: name, Unit: v.unit });
        members[name] = v.value;
      }
      const keys = Object.keys(s.dimensions);
      const rollup = keys.filter((k) => settings.rollupDimensions.has(k));
      documents.push({
        _aws: {
          Timestamp: settings.timestampMs,
          CloudWatchMetrics: [
            {
              Namespace: settings.namespace,
              Dimensions: rollup.length > 0 && rollup.length < keys.length ? [keys, rollup] : [keys],
              Metrics: definitions,
            },
          ],
        },
        ...members,
      });
    }
  }
  return documents;
}

type Put = (attributes: Attributes, name: string, value: number, unit: CloudWatchUnit, merge: Merge) => void;

function addMetric(metric: MetricData, put: Put, memory: CounterMemory): void {
  const { name, unit } = metric.descriptor;
  const cwUnit = cloudWatchUnit(unit);
  switch (metric.dataPointType) {
    case DataPointType.SUM: {
      for (const point of metric.dataPoints) {
        if (!metric.isMonotonic) {
          put(point.attributes, name, point.value, cwUnit, 'sum');
          continue;
        }
        if (metric.aggregationTemporality === AggregationTemporality.DELTA) {
          put(point.attributes, name, point.value, cwUnit, 'sum');
          continue;
        }
        const key = `${name}\u0000${JSON.stringify(sortedEntries(point.attributes))}`;
        const previous = memory.get(key) ?? 0;
        memory.set(key, point.value);
        // A total below the last one means the series restarted (a new SDK): all of it is new.
        put(
          point.attributes,
          name,
          point.value >= previous ? point.value - previous : point.value,
          cwUnit,
          'sum',
        );
      }
      return;
    }
    case DataPointType.GAUGE:
      for (const point of metric.dataPoints) put(point.attributes, name, point.value, cwUnit, 'max');
      return;
    case DataPointType.HISTOGRAM:
    // No Shardline instrument makes an exponential one (a histogram's default aggregation is explicit
    // buckets); both are written as their count, sum, min and max.
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      for (const point of metric.dataPoints) {
        const h = point.value;
        if (h.count === 0) continue;
        put(point.attributes, `${name}.count`, h.count, 'Count', 'sum');
        if (h.sum !== undefined) put(point.attributes, `${name}.sum`, h.sum, cwUnit, 'sum');
        if (h.min !== undefined) put(point.attributes, `${name}.min`, h.min, cwUnit, 'min');
        if (h.max !== undefined) put(point.attributes, `${name}.max`, h.max, cwUnit, 'max');
      }
      return;
  }
}

function mergeValues(a: number, b: number, merge: Merge): number {
  if (merge === 'sum') return a + b;
  return merge === 'max' ? Math.max(a, b) : Math.min(a, b);
}

function sortedEntries(attributes: Attributes): [string, unknown][] {
  return Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The dimensions of a point: its attributes but the dropped ones, values as strings, keys sorted, at
 * most {@link EMF_MAX_DIMENSIONS} (the first by name; the rest are dropped too rather than making the
 * document invalid).
 */
function dimensionsOf(attributes: Attributes, dropped: ReadonlySet<string>): Record<string, string> {
  const dimensions: Record<string, string> = {};
  let n = 0;
  for (const [key, value] of sortedEntries(attributes)) {
    if (dropped.has(key) || value === undefined || value === null) continue;
    if (n === EMF_MAX_DIMENSIONS) break;
    dimensions[key] = Array.isArray(value) ? value.join(',') : String(value);
    n += 1;
  }
  return dimensions;
}

function byDimensions(a: Series, b: Series): number {
  const ka = JSON.stringify(a.dimensions);
  const kb = JSON.stringify(b.dimensions);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
