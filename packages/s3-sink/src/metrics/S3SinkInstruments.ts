import {
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
} from '@opentelemetry/api';
import type { S3SinkEvent, S3SinkMetrics } from '../S3SinkEvents.js';

/**
 * The instrument names the sink records (OpenTelemetry metrics API), beside its consumer's
 * `shardline.consumer.*`. Every instrument carries `shardline.application`, `shardline.stream` and
 * `shardline.worker.id`; the counters and the histogram also `shardline.shard.id`.
 */
export const S3SinkMetricName = {
  /** Counter: records taken from the shards into closed ranges (a range redone is counted again). */
  RecordsIn: 'shardline.s3_sink.records.in',
  /** Counter (By): Kinesis payload bytes of those records. */
  BytesIn: 'shardline.s3_sink.bytes.in',
  /** Counter: ranges closed, by `shardline.s3_sink.seal.reason` (`SealReason`). */
  RangesSealed: 'shardline.s3_sink.ranges.sealed',
  /** Counter: records in durable data objects (`S3SinkMetrics.recordsWritten`). */
  RecordsWritten: 'shardline.s3_sink.records.written',
  /**
   * Counter: records in durable error-output objects, by `shardline.s3_sink.error_output.type`
   * (`processing-failed`, `partitioning-failed`, ...) (`S3SinkMetrics.errorRecords`).
   */
  ErrorOutputRecords: 'shardline.s3_sink.error_output.records',
  /** Counter: records the transform dropped, once their range is durable (`S3SinkMetrics.recordsDropped`). */
  RecordsDropped: 'shardline.s3_sink.records.dropped',
  /** Counter: objects made durable (each with its manifest), by `shardline.s3_sink.object.kind` (`data`, `error`). */
  ObjectsWritten: 'shardline.s3_sink.objects.written',
  /** Counter (By): bytes stored (after compression), by `shardline.s3_sink.object.kind`. */
  BytesWritten: 'shardline.s3_sink.bytes.written',
  /**
   * Histogram (ms): from an object's first upload attempt to its durable object and manifest, retries
   * included, by `shardline.s3_sink.object.kind`.
   */
  UploadLatency: 'shardline.s3_sink.upload.latency',
  /** Counter: S3 requests that failed and are retried after a backoff (`RETRY`). */
  UploadRetries: 'shardline.s3_sink.upload.retries',
  /** Counter: ranges left unwritten for the next owner to redo (`RANGE_ABANDONED`). */
  RangesAbandoned: 'shardline.s3_sink.ranges.abandoned',
  /** Counter: redone ranges that were prepared with other settings (`REDO_SETTINGS_CHANGED`). */
  RedoSettingsChanges: 'shardline.s3_sink.redo.settings_changes',
  /** Gauge: records held and not yet in a durable object (`S3SinkMetrics.bufferedRecords`). */
  RecordsBuffered: 'shardline.s3_sink.records.buffered',
  /** Gauge (By): their Kinesis payload bytes (`S3SinkMetrics.bufferedBytes`). */
  BytesBuffered: 'shardline.s3_sink.bytes.buffered',
  /** Gauge (ms): age of the oldest buffer (`S3SinkMetrics.oldestBufferAgeMs`). */
  BufferAge: 'shardline.s3_sink.buffer.age',
  /** Gauge: shards this worker archives now (`S3SinkMetrics.activeShards`). */
  ActiveShards: 'shardline.s3_sink.shards.active',
} as const;

/** An instrument's name and its OpenTelemetry options. */
interface InstrumentSpec {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
}

const COUNTERS = {
  recordsIn: {
    name: S3SinkMetricName.RecordsIn,
    description: 'Records taken from the shards into closed ranges',
    unit: '{record}',
  },
  bytesIn: {
    name: S3SinkMetricName.BytesIn,
    description: 'Kinesis payload bytes of those records',
    unit: 'By',
  },
  rangesSealed: {
    name: S3SinkMetricName.RangesSealed,
    description: 'Ranges closed, by reason',
    unit: '{range}',
  },
  recordsWritten: {
    name: S3SinkMetricName.RecordsWritten,
    description: 'Records in durable data objects',
    unit: '{record}',
  },
  errorOutputRecords: {
    name: S3SinkMetricName.ErrorOutputRecords,
    description: 'Records in durable error-output objects, by error output type',
    unit: '{record}',
  },
  recordsDropped: {
    name: S3SinkMetricName.RecordsDropped,
    description: 'Records the transform dropped (their range durable)',
    unit: '{record}',
  },
  objectsWritten: {
    name: S3SinkMetricName.ObjectsWritten,
    description: 'Objects made durable, with their manifests',
    unit: '{object}',
  },
  bytesWritten: {
    name: S3SinkMetricName.BytesWritten,
    description: 'Bytes stored (after compression)',
    unit: 'By',
  },
  uploadRetries: {
    name: S3SinkMetricName.UploadRetries,
    description: 'S3 requests that failed and are retried',
    unit: '{attempt}',
  },
  rangesAbandoned: {
    name: S3SinkMetricName.RangesAbandoned,
    description: 'Ranges left unwritten for the next owner to redo',
    unit: '{range}',
  },
  redoSettingsChanges: {
    name: S3SinkMetricName.RedoSettingsChanges,
    description: 'Redone ranges prepared with other settings (transform version, format, time-zone database)',
    unit: '{range}',
  },
} as const satisfies Record<string, InstrumentSpec>;

const GAUGES = {
  recordsBuffered: {
    name: S3SinkMetricName.RecordsBuffered,
    description: 'Records held and not yet in a durable object',
    unit: '{record}',
  },
  bytesBuffered: {
    name: S3SinkMetricName.BytesBuffered,
    description: 'Kinesis payload bytes of the records held',
    unit: 'By',
  },
  bufferAge: { name: S3SinkMetricName.BufferAge, description: 'Age of the oldest buffer', unit: 'ms' },
  activeShards: {
    name: S3SinkMetricName.ActiveShards,
    description: 'Shards this worker archives',
    unit: '{shard}',
  },
} as const satisfies Record<string, InstrumentSpec>;

/** Upload latency buckets (ms): a small PutObject to a multipart upload through retries. */
const LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

/** Options of {@link S3SinkInstruments}. */
export interface S3SinkInstrumentsOptions {
  /** @defaultValue the global provider (a no-op unless an OpenTelemetry SDK is installed) */
  readonly meterProvider: MeterProvider | undefined;
  readonly applicationName: string;
  readonly streamName: string;
  readonly workerId: string;
  /** The sink's own figures, read at each collection for the gauges. */
  readonly metrics: () => S3SinkMetrics;
}

/**
 * The sink's OpenTelemetry instruments: counters and the latency histogram from its events, gauges
 * from `metrics()` at each collection. Everything is derived from `events$` and `metrics()`, so an
 * application without OpenTelemetry can compute the same figures.
 */
export class S3SinkInstruments {
  readonly #base: Attributes;
  readonly #counters: Record<keyof typeof COUNTERS, Counter>;
  readonly #latency: Histogram;
  readonly #meter: Meter;
  readonly #observables: ObservableGauge[];
  readonly #callback: BatchObservableCallback;
  /** Attributes per shard, made once (the counters are added to per object and per range). */
  readonly #shardAttributes = new Map<string, Attributes>();

  constructor(options: S3SinkInstrumentsOptions) {
    const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('@shardline/s3-sink');
    this.#meter = meter;
    this.#base = {
      'shardline.application': options.applicationName,
      'shardline.stream': options.streamName,
      'shardline.worker.id': options.workerId,
    };
    const counters = {} as Record<keyof typeof COUNTERS, Counter>;
    for (const key of Object.keys(COUNTERS) as (keyof typeof COUNTERS)[]) {
      const { name, ...rest } = COUNTERS[key];
      counters[key] = meter.createCounter(name, rest);
    }
    this.#counters = counters;
    this.#latency = meter.createHistogram(S3SinkMetricName.UploadLatency, {
      description:
        "From an object's first upload attempt to the durable object and manifest, retries included",
      unit: 'ms',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    });
    const gauge = (spec: InstrumentSpec) => {
      const { name, ...rest } = spec;
      return meter.createObservableGauge(name, rest);
    };
    const recordsBuffered = gauge(GAUGES.recordsBuffered);
    const bytesBuffered = gauge(GAUGES.bytesBuffered);
    const bufferAge = gauge(GAUGES.bufferAge);
    const activeShards = gauge(GAUGES.activeShards);
    this.#observables = [recordsBuffered, bytesBuffered, bufferAge, activeShards];
    this.#callback = (result) => {
      const m = options.metrics();
      result.observe(recordsBuffered, m.bufferedRecords, this.#base);
      result.observe(bytesBuffered, m.bufferedBytes, this.#base);
      result.observe(bufferAge, m.oldestBufferAgeMs, this.#base);
      result.observe(activeShards, m.activeShards, this.#base);
    };
    meter.addBatchObservableCallback(this.#callback, this.#observables);
  }

  /** Records one event. */
  onEvent(event: S3SinkEvent): void {
    const c = this.#counters;
    switch (event.type) {
      case 'RANGE_SEALED': {
        const attributes = this.#shard(event.shardId);
        c.recordsIn.add(event.recordCount, attributes);
        c.bytesIn.add(event.inputBytes, attributes);
        c.rangesSealed.add(1, { ...attributes, 'shardline.s3_sink.seal.reason': event.reason });
        break;
      }
      case 'OBJECT_WRITTEN': {
        const shard = this.#shard(event.shardId);
        const attributes = { ...shard, 'shardline.s3_sink.object.kind': event.kind };
        c.objectsWritten.add(1, attributes);
        c.bytesWritten.add(event.bytes, attributes);
        this.#latency.record(event.uploadLatencyMs, attributes);
        if (event.kind === 'data') c.recordsWritten.add(event.recordCount, shard);
        else {
          c.errorOutputRecords.add(event.recordCount, {
            ...shard,
            'shardline.s3_sink.error_output.type': event.errorOutputType ?? 'unknown',
          });
        }
        break;
      }
      case 'RECORDS_DROPPED':
        c.recordsDropped.add(event.recordCount, this.#shard(event.shardId));
        break;
      case 'RETRY':
        c.uploadRetries.add(1, this.#shard(event.shardId));
        break;
      case 'RANGE_ABANDONED':
        c.rangesAbandoned.add(1, this.#shard(event.shardId));
        break;
      case 'REDO_SETTINGS_CHANGED':
        c.redoSettingsChanges.add(1, this.#shard(event.shardId));
        break;
    }
  }

  /** Stops observing the gauges (the sink stopped). */
  close(): void {
    this.#meter.removeBatchObservableCallback(this.#callback, this.#observables);
    this.#shardAttributes.clear();
  }

  #shard(shardId: string): Attributes {
    let attributes = this.#shardAttributes.get(shardId);
    if (!attributes) {
      attributes = { ...this.#base, 'shardline.shard.id': shardId };
      this.#shardAttributes.set(shardId, attributes);
    }
    return attributes;
  }
}
