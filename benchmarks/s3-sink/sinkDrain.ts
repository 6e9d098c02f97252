/**
 * Candidate of `pnpm bench s3-sink` (its own process): `createS3Sink` on a fresh lease table and bucket
 * drains a pre-loaded stream from TRIM_HORIZON. Wall time and CPU run from the sink's first
 * GetShardIterator (lease table creation and lease taking come before it) to the OBJECT_WRITTEN event
 * that makes every record durable in S3. The buffer interval is the maximum (900 s), so objects are
 * closed by size only; once the sink holds every record (`metrics().bufferedRecords`, which never
 * overlaps what is written, plus the records of the data objects written), `stop()` closes the last
 * partial buffer of each shard, as the bare loop does at the end of each shard.
 *
 * A drain that cannot finish fails at once with what it waited for and the sink's metrics, instead of
 * waiting out the harness's timeout: `stop()` resolved before every record was durable, an error object
 * was written, or nothing moved for {@link STALL_MS}. A range abandoned because a lease was lost (a
 * renewal missing its deadline on a loaded machine) is not a failure: this worker takes the lease again
 * and rewrites the range under the same keys (`redone_ranges` counts them; such a round is slower).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { dynamoDBClientConfig, kinesisClientConfig, s3ClientConfig } from '@shardline/local';
import { createS3Sink, type S3SinkEvent } from '@shardline/s3-sink';
import { onFirstCommand } from '../consumer/markFirstCall.js';
import { countRequests, runContender } from '../harness/index.js';
import {
  BENCH_PARQUET_COLUMNS,
  BENCH_PARQUET_SCHEMA_VERSION,
  type DrainInput,
  drainMetrics,
} from './shared.js';

/**
 * How often the stop rule and the stall watch read `metrics()`: its CPU counts as the sink's (every
 * 10 ms took about 0.3 s of a 200,000-record drain in a profile); 50 ms adds at most 50 ms to a drain of
 * tens of seconds.
 */
const METRICS_POLL_MS = 50;
/** No change in the sink's metrics or events for this long: the drain is stuck. */
const STALL_MS = 120_000;
/** Sink events kept for a diagnostic. */
const RECENT_EVENTS = 12;

/** The drain could not finish: what it waited for, and the sink's state. */
class DrainStuckError extends Error {
  override readonly name = 'DrainStuckError';
}

runContender<DrainInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const s3 = new S3Client(s3ClientConfig(input.info));
  const s3Requests = countRequests(s3);
  onFirstCommand(kinesis, 'GetShardIterator', () => probe.mark('start'));

  const sink = createS3Sink({
    streamName: input.streamName,
    bucket: input.bucket,
    applicationName: input.tableName,
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    s3Client: s3,
    bufferSizeBytes: input.bufferSizeBytes,
    bufferIntervalMs: 900_000,
    compression: input.compression,
    ...(input.format === 'parquet'
      ? {
          format: 'parquet' as const,
          parquet: { schema: BENCH_PARQUET_COLUMNS, schemaVersion: BENCH_PARQUET_SCHEMA_VERSION },
        }
      : {}),
    signal: probe.signal,
  });

  /**
   * Durable data objects by key. Counted here, not from `metrics().recordsWritten`: when a lease is
   * lost between a range's objects and its checkpoint (a renewal missing its deadline on a loaded
   * machine), this worker takes the lease again and rewrites the same objects under the same keys;
   * each key counts once.
   */
  const durable = new Map<string, { records: number; bytes: number }>();
  /** Per shard, the keys written since its last checkpoint: a range abandoned now is read again. */
  const unCheckpointed = new Map<string, string[]>();
  let durableRecords = 0;
  let storedBytes = 0;
  let redoneRanges = 0;
  let stopCalledAtMs: number | undefined;
  const startedAtMs = performance.now();
  const recent: string[] = [];
  let lastChangeMs = performance.now();
  let markDurable: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  const allDurable = new Promise<void>((resolve, reject) => {
    markDurable = resolve;
    fail = reject;
  });
  /** What the drain waits for now, and everything the sink can say about it. */
  const diagnose = (what: string): DrainStuckError => {
    const waited =
      stopCalledAtMs === undefined
        ? `the sink to hold all ${input.records} records (then stop())`
        : `OBJECT_WRITTEN events for the last ${input.records - durableRecords} records after stop() (called ${Math.round(performance.now() - stopCalledAtMs)} ms ago)`;
    return new DrainStuckError(
      [
        `${what}: the drain cannot finish.`,
        `waiting for: ${waited}; ${durableRecords} of ${input.records} records durable in ${durable.size} objects (${redoneRanges} ranges abandoned and read again), ${Math.round((performance.now() - startedAtMs) / 1000)} s after start()`,
        `sink state ${sink.state}, consumer state ${sink.consumer.state}; metrics ${JSON.stringify(sink.metrics())}`,
        `last sink events: ${recent.join(' | ') || 'none'}`,
      ].join('\n'),
    );
  };
  sink.events$.subscribe({
    next: (event) => {
      lastChangeMs = performance.now();
      recent.push(describeEvent(event));
      if (recent.length > RECENT_EVENTS) recent.shift();
      if (event.type === 'OBJECT_WRITTEN') {
        if (event.kind !== 'data') {
          fail(diagnose(`the sink wrote an error object ${event.key} (${event.recordCount} records)`));
          return;
        }
        const previous = durable.get(event.key);
        durable.set(event.key, { records: event.recordCount, bytes: event.bytes });
        durableRecords += event.recordCount - (previous?.records ?? 0);
        storedBytes += event.bytes - (previous?.bytes ?? 0);
        const keys = unCheckpointed.get(event.shardId) ?? [];
        keys.push(event.key);
        unCheckpointed.set(event.shardId, keys);
        if (durableRecords === input.records) {
          probe.mark('end');
          markDurable();
        }
      } else if (event.type === 'RANGE_CHECKPOINTED') {
        unCheckpointed.delete(event.shardId);
      } else if (event.type === 'RANGE_ABANDONED' || event.type === 'SHARD_FAILED') {
        // The lease went (or the shard failed): this worker, the only one, takes it again and reads the
        // range again; its objects written so far are rewritten under the same keys, so they count
        // again only then. (A drain that never gets there is caught by the stall watch.)
        redoneRanges += 1;
        for (const key of unCheckpointed.get(event.shardId) ?? []) {
          const object = durable.get(key);
          if (!object) continue;
          durable.delete(key);
          durableRecords -= object.records;
          storedBytes -= object.bytes;
        }
        unCheckpointed.delete(event.shardId);
        console.error(`sink: ${describeEvent(event)}; the shard is read again`);
      } else if (event.type === 'ERROR') {
        console.error(`sink error: ${event.error.message}`);
      }
    },
    complete: () => {
      // The sink stopped: no OBJECT_WRITTEN can come any more.
      if (durableRecords < input.records) fail(diagnose('the sink stopped'));
    },
  });

  await sink.start();
  let lastSeen = '';
  const watch = setInterval(() => {
    const m = sink.metrics();
    // Once the sink's buffers hold the last records, stop() closes them into the last objects.
    if (stopCalledAtMs === undefined && m.bufferedRecords + durableRecords >= input.records) {
      stopCalledAtMs = performance.now();
      void sink.stop();
    }
    const seen = `${m.bufferedRecords} ${m.recordsWritten} ${m.errorRecords} ${m.bytesWritten} ${m.uploadErrors}`;
    if (seen !== lastSeen) {
      lastSeen = seen;
      lastChangeMs = performance.now();
    } else if (performance.now() - lastChangeMs > STALL_MS) {
      fail(diagnose(`nothing moved for ${STALL_MS / 1000} s`));
    }
  }, METRICS_POLL_MS);
  const aborted = new Promise<never>((_, reject) => {
    probe.signal.addEventListener('abort', () => reject(probe.signal.reason), { once: true });
  });
  try {
    await Promise.race([allDurable, aborted]);
  } finally {
    clearInterval(watch);
    await sink.stop();
    kinesis.destroy();
    dynamodb.destroy();
    s3.destroy();
  }
  if (durableRecords !== input.records) {
    throw new Error(`the sink reported ${durableRecords} records durable, expected ${input.records}`);
  }
  const metrics = sink.metrics();
  return {
    ...drainMetrics(input, probe.between('start', 'end'), { objects: durable.size, storedBytes }),
    s3_put_object_calls: s3Requests.count('PutObject'),
    upload_errors: metrics.uploadErrors,
    redone_ranges: redoneRanges,
  };
});

/** One sink event in a few words, for a diagnostic. */
function describeEvent(event: S3SinkEvent): string {
  switch (event.type) {
    case 'RANGE_SEALED':
      return `${event.type} ${event.shardId} ${event.reason} ${event.recordCount}`;
    case 'OBJECT_WRITTEN':
    case 'RANGE_CHECKPOINTED':
    case 'RANGE_ABANDONED':
    case 'SHARD_FAILED':
    case 'RECORDS_ALREADY_ARCHIVED':
      return `${event.type} ${event.shardId} ${event.recordCount}`;
    case 'ERROR':
      return `${event.type} ${event.shardId ?? ''} ${event.error.message}`;
    default:
      return `${event.type} ${event.shardId}`;
  }
}
