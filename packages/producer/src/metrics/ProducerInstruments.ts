import {
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
} from '@opentelemetry/api';
import type { BatchEvent, ProducerMetrics } from '../ProducerEvents.js';

/**
 * The instrument names the producer records (OpenTelemetry metrics API), named like consumer-core's
 * (`shardline.<package>.*`). Every instrument carries `shardline.producer.transport` (the transport's
 * name: `kinesis`, `http`...). The counters mirror `producer.metrics`: what they gained is added once
 * per request answered, per dead letter and at close (never per record), so the totals are complete
 * once `close()` resolved; `records.failed` and the latency come from each request.
 */
export const ProducerMetricName = {
  /** Counter: records written (acknowledged) (`ProducerMetrics.recordsSent`). */
  RecordsSent: 'shardline.producer.records.sent',
  /** Counter (By): bytes of the records written, envelope plus partition key (`bytesSent`). */
  BytesSent: 'shardline.producer.bytes.sent',
  /** Counter: record attempts that failed (each then retried or dead-lettered), throttles included. */
  RecordsFailed: 'shardline.producer.records.failed',
  /** Counter: records scheduled for another attempt (`retries`). */
  RecordsRetried: 'shardline.producer.records.retried',
  /** Counter: record failures that were throttling (`throttles`). */
  RecordsThrottled: 'shardline.producer.records.throttled',
  /** Counter: records handed to the dead-letter sink (`deadLettered`). */
  RecordsDeadLettered: 'shardline.producer.records.dead_lettered',
  /** Counter: requests answered, whatever the answer (`requests`). */
  Requests: 'shardline.producer.requests',
  /** Counter: requests that failed as a whole (`requestsFailed`). */
  RequestsFailed: 'shardline.producer.requests.failed',
  /** Histogram (ms): from sending a request to its answer (`batch` event `latencyMs`). */
  PutLatency: 'shardline.producer.put.latency',
  /** Gauge: records accepted and not yet delivered or dead-lettered (`bufferedRecords`). */
  RecordsBuffered: 'shardline.producer.records.buffered',
  /** Gauge (By): their bytes (`bufferedBytes`). */
  BytesBuffered: 'shardline.producer.bytes.buffered',
  /** Gauge: requests in flight (`inFlightRequests`). */
  RequestsInFlight: 'shardline.producer.requests.in_flight',
} as const;

/** `producer.metrics` fields mirrored by a counter, by instrument. */
const TOTALS = [
  [ProducerMetricName.RecordsSent, 'recordsSent', 'Records written (acknowledged)', '{record}'],
  [
    ProducerMetricName.BytesSent,
    'bytesSent',
    'Bytes of the records written (envelope plus partition key)',
    'By',
  ],
  [ProducerMetricName.RecordsRetried, 'retries', 'Records scheduled for another attempt', '{record}'],
  [ProducerMetricName.RecordsThrottled, 'throttles', 'Record failures that were throttling', '{record}'],
  [
    ProducerMetricName.RecordsDeadLettered,
    'deadLettered',
    'Records handed to the dead-letter sink',
    '{record}',
  ],
  [ProducerMetricName.Requests, 'requests', 'Requests answered', '{request}'],
  [ProducerMetricName.RequestsFailed, 'requestsFailed', 'Requests that failed as a whole', '{request}'],
] as const satisfies readonly (readonly [string, keyof ProducerMetrics, string, string])[];

const GAUGES = [
  [
    ProducerMetricName.RecordsBuffered,
    'bufferedRecords',
    'Records accepted and not yet delivered',
    '{record}',
  ],
  [
    ProducerMetricName.BytesBuffered,
    'bufferedBytes',
    'Bytes of the records accepted and not yet delivered',
    'By',
  ],
  [ProducerMetricName.RequestsInFlight, 'inFlightRequests', 'Requests in flight', '{request}'],
] as const satisfies readonly (readonly [string, keyof ProducerMetrics, string, string])[];

/** The `producer.metrics` totals the counters mirror. */
type ProducerTotals = Pick<ProducerMetrics, (typeof TOTALS)[number][1]>;

/** Request latency buckets (ms). */
const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

/**
 * The producer's OpenTelemetry instruments. @internal
 */
export class ProducerInstruments {
  readonly #attributes: Attributes;
  readonly #meter: Meter;
  readonly #failed: Counter;
  readonly #latency: Histogram;
  readonly #totals: (readonly [Counter, (typeof TOTALS)[number][1]])[];
  /** The totals already added to the counters. */
  readonly #reported = new Map<string, number>();
  readonly #observables: Observable[];
  readonly #callback: BatchObservableCallback;

  constructor(meterProvider: MeterProvider | undefined, transportName: string, read: () => ProducerMetrics) {
    const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter('@shardline/producer');
    this.#meter = meter;
    this.#attributes = { 'shardline.producer.transport': transportName };
    this.#failed = meter.createCounter(ProducerMetricName.RecordsFailed, {
      description: 'Record attempts that failed (then retried or dead-lettered)',
      unit: '{record}',
    });
    this.#latency = meter.createHistogram(ProducerMetricName.PutLatency, {
      description: 'From sending a request to its answer',
      unit: 'ms',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    });
    this.#totals = TOTALS.map(
      ([name, field, description, unit]) =>
        [meter.createCounter(name, { description, unit }), field] as const,
    );
    const gauges = GAUGES.map(
      ([name, field, description, unit]) =>
        [meter.createObservableGauge(name, { description, unit }), field] as const,
    );
    this.#observables = gauges.map(([instrument]) => instrument);
    this.#callback = (result) => {
      const m = read();
      for (const [instrument, field] of gauges) result.observe(instrument, m[field], this.#attributes);
    };
    meter.addBatchObservableCallback(this.#callback, this.#observables);
  }

  /** Records one request's answer. */
  onBatch(event: BatchEvent): void {
    if (event.failed > 0) this.#failed.add(event.failed, this.#attributes);
    this.#latency.record(event.latencyMs, this.#attributes);
  }

  /** Adds to each counter what its `producer.metrics` total gained since the last call. */
  update(m: ProducerTotals): void {
    for (const [counter, field] of this.#totals) {
      const gained = m[field] - (this.#reported.get(field) ?? 0);
      if (gained > 0) {
        counter.add(gained, this.#attributes);
        this.#reported.set(field, m[field]);
      }
    }
  }

  /** Adds the last totals and stops observing the gauges (the producer closed). */
  close(m: ProducerTotals): void {
    this.update(m);
    this.#meter.removeBatchObservableCallback(this.#callback, this.#observables);
  }
}
