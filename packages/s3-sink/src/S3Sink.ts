import { LifecycleState } from '@shardline/common';
import {
  CONSUMER_DEFAULTS,
  type Consumer,
  createConsumer,
  type KinesisRecord,
} from '@shardline/consumer-core';
import { type Observable, Subject } from 'rxjs';
import { resolveS3SinkConfig, type S3SinkOptions } from './config/resolveS3SinkConfig.js';
import { InvalidStateError, S3SinkError } from './errors.js';
import { S3SinkInstruments } from './metrics/S3SinkInstruments.js';
import type { ObjectLayout, ObjectPlan } from './objects/planObjects.js';
import { settingsFingerprint } from './objects/settingsFingerprint.js';
import { createRecordRouter } from './routing/RecordRouter.js';
import { type RouteResult, transformThenRoute } from './routing/RecordTransform.js';
import type { S3SinkEvent, S3SinkMetrics } from './S3SinkEvents.js';
import { ShardArchiver } from './ShardArchiver.js';
import { ObjectWriter } from './upload/ObjectWriter.js';

/** Lifecycle of an {@link S3Sink}: `@shardline/common`'s {@link LifecycleState}. */
export const S3SinkState = LifecycleState;
/** See {@link S3SinkState}. */
export type S3SinkState = LifecycleState;

/** One worker of an S3 archiver application. Made by {@link createS3Sink}. */
export interface S3Sink {
  /** Ranges sealed and prepared, objects written, checkpoints, retries, aborted uploads, errors. */
  readonly events$: Observable<S3SinkEvent>;
  /** The underlying consumer (its `events$`: leases, shards, checkpoints; its `workerId`). */
  readonly consumer: Consumer;
  readonly state: S3SinkState;
  /**
   * Creates the lease table if missing and starts archiving the shards this worker leases.
   * @throws {@link InvalidStateError} when called twice; like `Consumer.start()` otherwise
   *   (`LeaseTableSchemaError`, `DependencyError`).
   */
  start(): Promise<void>;
  /**
   * Graceful stop (memoized): stop fetching, close every open buffer into a last range and write it,
   * checkpoint, release the leases. What cannot be written within the consumer's `shutdownTimeoutMs`
   * (an S3 outage) is left to the next owner: redone exactly when its range was recorded, read again
   * otherwise — never lost, never duplicated.
   *
   * Resolves within `shutdownTimeoutMs` + 4 s whatever S3 and DynamoDB do: at `shutdownTimeoutMs` + 2 s
   * every S3 request still running is aborted; 1.5 s later the stop resolves even if a call (or a hook)
   * ignored its abort (an `ERROR` event says how many shards were still busy; their leases are released
   * by the consumer's stop, or expire).
   */
  stop(): Promise<void>;
  /** Counters and gauges of this worker. */
  metrics(): S3SinkMetrics;
}

/** GetRecords returns up to 10 MiB. */
const GET_RECORDS_MAX_BYTES = 10 * 1024 * 1024;

/** Extra time after the consumer's stop before abandoning writes still retrying. */
const STOP_GRACE_MS = 2_000;
/**
 * Extra time after that abort before `stop()` resolves whatever is still running: 1.5 s, so that the
 * documented bound (`shutdownTimeoutMs` + 4 s) holds with half a second for a loaded event loop.
 */
const STOP_GIVE_UP_MS = 1_500;

/**
 * Creates a Firehose-style archiver of a Kinesis stream to S3 with exactly-once objects: one more
 * consumer application on the stream (its own lease table), any number of workers.
 *
 * @example
 * ```ts
 * const sink = createS3Sink({
 *   streamName: 'events',
 *   bucket: 'my-archive',
 *   applicationName: 'events-archive',
 *   kinesisClient: new KinesisClient({}),
 *   dynamoDBClient: new DynamoDBClient({}),
 *   s3Client: new S3Client({}),
 *   compression: 'gzip',
 *   prefix: 'events/!{partitionKeyFromQuery:type}/!{timestamp:yyyy/MM/dd}/',
 *   partitionKeys: { type: 'data.event_type' },
 * });
 * sink.events$.subscribe((e) => e.type === 'OBJECT_WRITTEN' && console.log(e.key));
 * await sink.start();
 * process.once('SIGTERM', () => void sink.stop());
 * ```
 *
 * @throws `ConfigurationError` listing every problem with `options`.
 */
export function createS3Sink(options: S3SinkOptions): S3Sink {
  const config = resolveS3SinkConfig(options);
  return new DefaultS3Sink(config);
}

class DefaultS3Sink implements S3Sink {
  readonly consumer: Consumer;
  readonly events$: Observable<S3SinkEvent>;
  readonly #config: ReturnType<typeof resolveS3SinkConfig>;
  readonly #events = new Subject<S3SinkEvent>();
  readonly #archivers = new Set<ShardArchiver>();
  readonly #hardStop = new AbortController();
  #state: S3SinkState = S3SinkState.Idle;
  #stopping: Promise<void> | undefined;
  #counters = {
    objectsWritten: 0,
    errorObjectsWritten: 0,
    bytesWritten: 0,
    recordsWritten: 0,
    errorRecords: 0,
    uploadErrors: 0,
    recordsDropped: 0,
    redoSettingsChanges: 0,
  };
  #instruments: S3SinkInstruments | undefined;

  constructor(config: ReturnType<typeof resolveS3SinkConfig>) {
    this.#config = config;
    this.events$ = this.#events.asObservable();
    this.consumer = createConsumer({
      streamName: config.streamName,
      streamArn: config.streamArn,
      applicationName: config.applicationName,
      kinesisClient: config.kinesisClient,
      dynamoDBClient: config.dynamoDBClient,
      initialPosition: config.initialPosition,
      logger: config.logger,
      ...(config.meterProvider === undefined ? {} : { meterProvider: config.meterProvider }),
      ...config.consumer,
      ...(config.consumer.health === undefined
        ? {}
        : {
            health: {
              // A batch counts as handled once its range is written, about a buffer interval after it
              // was read: a shard is stalled only well past that.
              stalledShardMs: Math.max(300_000, 2 * config.bufferIntervalMs + 60_000),
              ...config.consumer.health,
            },
          }),
      // A range's checkpoint is written before the next range is recorded (the redo relies on it
      // only for speed: see ShardArchiver). The consumer's buffer must hold a whole range, the next
      // one, and one more GetRecords answer (up to 10 MiB): a batch only partly in a written range
      // stays unhandled, and must not stop the reader until the interval closes the next range.
      checkpointIntervalMs: 0,
      maxBufferedBatches: 10_000,
      maxBufferedBytes: 2 * config.bufferSizeBytes + GET_RECORDS_MAX_BYTES,
    });
    config.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  get state(): S3SinkState {
    return this.#state;
  }

  async start(): Promise<void> {
    if (this.#state !== S3SinkState.Idle) {
      throw new InvalidStateError(`start() was already called (state ${this.#state})`);
    }
    this.#state = S3SinkState.Starting;
    const config = this.#config;
    const layout: ObjectLayout = {
      streamLabel: config.streamLabel,
      prefix: config.prefix,
      errorPrefix: config.errorPrefix,
      extension: config.codec.extension,
      timeZone: config.timeZone,
      contentType: config.codec.contentType,
      format: config.format,
    };
    const router = createRecordRouter({
      recordContent: config.recordContent,
      invalidRecordPolicy: config.invalidRecordPolicy,
      partitionQueries: config.partitionQueries,
      eventTime: config.eventTime && {
        ...config.eventTime,
        prefix: config.prefix,
        timeZone: config.timeZone,
      },
    });
    const route: (record: KinesisRecord, shardId: string) => RouteResult = config.transform
      ? transformThenRoute(config.transform, router)
      : router;
    const fingerprint = settingsFingerprint(config);
    const instruments = new S3SinkInstruments({
      meterProvider: config.meterProvider,
      applicationName: config.applicationName,
      streamName: config.streamLabel,
      workerId: this.consumer.workerId,
      metrics: () => this.metrics(),
    });
    this.#instruments = instruments;
    const emit = (event: S3SinkEvent) => {
      if (event.type === 'REDO_SETTINGS_CHANGED') {
        this.#counters.redoSettingsChanges += 1;
        config.logger.warn(event.message, {
          shardId: event.shardId,
          current: fingerprint.parts,
        });
      }
      instruments.onEvent(event);
      this.#events.next(event);
    };
    const writer = new ObjectWriter(config, emit, () => {
      this.#counters.uploadErrors += 1;
    });
    this.consumer.shards$.subscribe((session) => {
      const archiver = new ShardArchiver(session, {
        config,
        layout,
        route,
        settingsFingerprint: fingerprint.digest,
        writer,
        emit,
        hardStopSignal: this.#hardStop.signal,
        isStopping: () => this.#state === S3SinkState.Stopping,
        onObjectWritten: (plan, bytes) => this.#countObject(plan, bytes),
        onRecordsDropped: (records) => {
          this.#counters.recordsDropped += records;
        },
      });
      this.#archivers.add(archiver);
      void archiver.done.then(() => this.#archivers.delete(archiver));
      archiver.start();
    });
    try {
      await this.consumer.start();
      if (this.#state === S3SinkState.Starting) this.#state = S3SinkState.Running;
    } catch (error) {
      this.#state = S3SinkState.Stopped;
      this.#instruments?.close();
      throw error;
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = S3SinkState.Stopping;
      const hardStopMs =
        (this.#config.consumer.shutdownTimeoutMs ?? CONSUMER_DEFAULTS.shutdownTimeoutMs) + STOP_GRACE_MS;
      const deadline = setTimeout(() => this.#hardStop.abort(), hardStopMs);
      let giveUp: NodeJS.Timeout | undefined;
      const work = (async () => {
        try {
          await this.consumer.stop();
        } catch (error) {
          this.#events.next({ type: 'ERROR', shardId: undefined, error: error as Error });
        }
        // Sessions end with the consumer's stop; wait for their last writes (or their abandonment).
        await Promise.all([...this.#archivers].map((a) => a.done));
        return true;
      })();
      const isDone = await Promise.race([
        work,
        new Promise<false>((resolve) => {
          giveUp = setTimeout(() => resolve(false), hardStopMs + STOP_GIVE_UP_MS);
        }),
      ]);
      clearTimeout(deadline);
      clearTimeout(giveUp);
      if (!isDone) {
        this.#events.next({
          type: 'ERROR',
          shardId: undefined,
          error: new S3SinkError(
            `stop() gave up after ${hardStopMs + STOP_GIVE_UP_MS} ms with ${this.#archivers.size} shard(s) still busy; their leases expire and the next owner redoes their ranges`,
          ),
        });
      }
      this.#hardStop.abort();
      this.#instruments?.close();
      this.#state = S3SinkState.Stopped;
      this.#events.complete();
    })();
    return this.#stopping;
  }

  metrics(): S3SinkMetrics {
    let bufferedRecords = 0;
    let bufferedBytes = 0;
    let oldest: number | undefined;
    for (const archiver of this.#archivers) {
      const b = archiver.buffered;
      bufferedRecords += b.records;
      bufferedBytes += b.bytes;
      if (b.openedAtMs !== undefined) oldest = Math.min(oldest ?? b.openedAtMs, b.openedAtMs);
    }
    return {
      ...this.#counters,
      bufferedRecords,
      bufferedBytes,
      oldestBufferAgeMs: oldest === undefined ? 0 : Math.max(0, this.#config.nowMs() - oldest),
      activeShards: this.#archivers.size,
    };
  }

  #countObject(plan: ObjectPlan, bytes: number): void {
    const c = this.#counters;
    c.bytesWritten += bytes;
    if (plan.kind === 'error') {
      c.errorObjectsWritten += 1;
      c.errorRecords += plan.recordCount;
    } else {
      c.objectsWritten += 1;
      c.recordsWritten += plan.recordCount;
    }
  }
}
