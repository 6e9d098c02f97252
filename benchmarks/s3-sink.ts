/**
 * `pnpm bench s3-sink`: `@shardline/s3-sink` against a bare GetRecords loop that writes the same records
 * to S3 with plain `PutObject` in objects of the same size, on the local twin (kinesalite, dynalite,
 * fauxqs), with and without gzip. Every contender runs in its own process, on a fresh 4-shard stream
 * pre-loaded with 200,000 sample events as event envelopes, and a fresh bucket (and, for the sink, a
 * fresh lease table) each round. After each run the benchmark reads the bucket back and checks that it
 * holds every event exactly once (by event id): a fast but wrong run fails.
 */
import { gunzipSync } from 'node:zlib';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { encodeEnvelope } from '@shardline/ingest';
import { kinesisClientConfig, type LocalTwin, uniqueName } from '@shardline/local';
import { parquetReadObjects } from 'hyparquet';
import { EventLedger, eventIndex } from './consumer/shared.js';
import {
  type BenchmarkContext,
  type Better,
  defineBenchmark,
  type FigureSpec,
  type RoundMetrics,
  type SampleEvent,
  sampleEvents,
  withPreloadedStream,
} from './harness/index.js';
import type { DrainCompression, DrainInput } from './s3-sink/shared.js';

interface Params {
  /** Records pre-loaded for each drain. */
  readonly records: number;
  /** The sink's `bufferSizeBytes`, and the bare loop's object size rule. */
  readonly bufferSizeBytes: number;
}

interface Shared {
  readonly stack: LocalTwin;
  /** The benchmark process's own client: pre-loading. */
  readonly kinesis: KinesisClient;
  /** The sample events as event envelopes (what the ingest API puts on the stream). */
  readonly events: readonly SampleEvent[];
  readonly recordBytes: number;
}

const SHARDS = 4;
const SINK = new URL('./s3-sink/sinkDrain.ts', import.meta.url);
const BARE_LOOP = new URL('./s3-sink/bareLoop.ts', import.meta.url);
/** The sink's manifests (one small JSON per object): not data. */
const MANIFEST_PREFIX = 'manifests/';
const RECEIVED_AT_MS = Date.parse('2026-11-25T12:00:00.000Z');
/**
 * `S3_SINK_BENCH_CPU_PROF=<dir>`: every contender process writes a V8 CPU profile there (`--cpu-prof`;
 * open it in Chrome DevTools or summarise it with `node benchmarks/s3-sink/summariseProfile.ts <file>`).
 * For finding where the time goes, not for figures: profiling slows the process down.
 */
const CPU_PROFILE_DIR = process.env.S3_SINK_BENCH_CPU_PROF;
const CONTENDER_OPTIONS = CPU_PROFILE_DIR
  ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] }
  : undefined;

/**
 * The sample events wrapped as the ingest API writes them (`{"eventId","receivedAt","data"}`): the sink
 * archives envelopes (anything else goes to its error output), so the bytes are those of production.
 */
function envelopes(count: number): { events: SampleEvent[]; recordBytes: number } {
  const decoder = new TextDecoder();
  let recordBytes = 0;
  const events = sampleEvents(count).map((event, index) => {
    const { event_id } = JSON.parse(decoder.decode(event.data)) as { event_id: string };
    const data = encodeEnvelope({
      eventId: event_id,
      receivedAt: RECEIVED_AT_MS + index,
      dataJson: event.data,
    });
    recordBytes += data.length;
    return { partitionKey: event.partitionKey, data };
  });
  return { events, recordBytes };
}

/** Every key of a bucket (ListObjectsV2, paginated). */
async function listKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Reads every data object of the bucket back (gunzipped when `.gz`) and checks that it holds each of the
 * `records` events exactly once, by the envelope's event id, and as many objects as the contender
 * reported. An independent ledger: the contender's own counts are never trusted.
 *
 * @throws Error on a missing or duplicated event, an error-output object or an object-count mismatch.
 */
async function verifyBucket(
  s3: S3Client,
  bucket: string,
  records: number,
  reportedObjects: number,
): Promise<string[]> {
  const keys = await listKeys(s3, bucket);
  const dataKeys = keys.filter((key) => !key.startsWith(MANIFEST_PREFIX));
  const errorKeys = dataKeys.filter((key) => key.startsWith('errors/'));
  if (errorKeys.length > 0) throw new Error(`${errorKeys.length} error-output objects, e.g. ${errorKeys[0]}`);
  if (dataKeys.length !== reportedObjects) {
    throw new Error(
      `the bucket holds ${dataKeys.length} data objects, the contender reported ${reportedObjects}`,
    );
  }
  const ledger = new EventLedger(records);
  const decoder = new TextDecoder();
  for (const key of dataKeys) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const stored = await (
      object.Body as { transformToByteArray(): Promise<Uint8Array> }
    ).transformToByteArray();
    if (key.endsWith('.parquet')) {
      // hyparquet: the reader of the writer's project, not the sink's code.
      const file = stored.buffer.slice(
        stored.byteOffset,
        stored.byteOffset + stored.byteLength,
      ) as ArrayBuffer;
      const rows = await parquetReadObjects({ file, columns: ['eventId'] });
      for (const row of rows) ledger.see(eventIndex({ event_id: row.eventId as string }));
      continue;
    }
    const text = decoder.decode(key.endsWith('.gz') ? gunzipSync(stored) : stored);
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const { eventId } = JSON.parse(line) as { eventId: string };
      ledger.see(eventIndex({ event_id: eventId }));
    }
  }
  if (ledger.duplicates > 0)
    throw new Error(`${ledger.duplicates} events are in S3 more than once (${bucket})`);
  ledger.assertComplete(`the bucket ${bucket}`);
  return keys;
}

/** Empties and deletes a bucket, so that fauxqs (in memory) does not grow over the rounds. */
async function deleteBucket(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** Pre-loads a fresh stream, runs a drain contender into a fresh bucket, then checks the bucket. */
function drain(
  file: URL,
  prefix: string,
  compression: DrainCompression,
  format: 'json' | 'parquet' = 'json',
) {
  return async (ctx: BenchmarkContext<Params>, shared: Shared): Promise<RoundMetrics> => {
    const { stack } = shared;
    return withPreloadedStream(ctx, stack, shared, prefix, SHARDS, async (stream) => {
      const bucket = uniqueName(prefix);
      await stack.createBucket(bucket);
      const input: DrainInput = {
        info: stack.info,
        streamName: stream.streamName,
        shardIds: stream.shardIds,
        records: shared.events.length,
        recordBytes: shared.recordBytes,
        bucket,
        tableName: uniqueName(`${prefix}-leases`),
        compression,
        format,
        bufferSizeBytes: ctx.params.bufferSizeBytes,
      };
      const report = await ctx.spawnContender(file, input, CONTENDER_OPTIONS);
      const keys = await verifyBucket(stack.s3, bucket, input.records, report.metrics.objects ?? Number.NaN);
      await deleteBucket(stack.s3, bucket, keys).catch((error: unknown) =>
        ctx.log(`could not delete bucket ${bucket}: ${String(error)}`),
      );
      return { ...report.metrics, peak_rss_mib: report.peakRssMiB };
    });
  };
}

/** The figure `metric` of the gzip pair: the sink against the bare loop, both writing gzip objects. */
function gzipFigure(metric: string, unit: string, better: Better): FigureSpec {
  return { name: `gzip_${metric}`, unit, better, from: 'sink-gzip', metric, baseline: 'bare-loop-gzip' };
}

/**
 * The figure `metric` of the Parquet pair: the sink against the bare loop, both writing the same Parquet
 * bytes through the same library, so the difference is the sink's own overhead, not the format's cost.
 */
function parquetFigure(metric: string, unit: string, better: Better): FigureSpec {
  return {
    name: `parquet_${metric}`,
    unit,
    better,
    from: 'sink-parquet',
    metric,
    baseline: 'bare-loop-parquet',
  };
}

export default defineBenchmark<Params, Shared>({
  name: 's3-sink',
  description:
    '@shardline/s3-sink vs a bare GetRecords loop + PutObject: drain of 200k events on 4 shards into S3 (5 MiB objects), without and with gzip, and as Parquet',
  rounds: 3,
  quickRounds: 1,
  params: {
    full: { records: 200_000, bufferSizeBytes: 5 * 2 ** 20 },
    quick: { records: 2_000, bufferSizeBytes: 64 * 2 ** 10 },
  },
  setup: async (ctx) => {
    const stack = await ctx.startLocalTwin();
    const kinesis = new KinesisClient(kinesisClientConfig(stack.info));
    ctx.defer(() => kinesis.destroy());
    return { stack, kinesis, ...envelopes(ctx.params.records) };
  },
  contenders: {
    'bare-loop': drain(BARE_LOOP, 'bench-s3-bare', 'none'),
    sink: drain(SINK, 'bench-s3-sink', 'none'),
    'bare-loop-gzip': drain(BARE_LOOP, 'bench-s3-baregz', 'gzip'),
    'sink-gzip': drain(SINK, 'bench-s3-sinkgz', 'gzip'),
    'bare-loop-parquet': drain(BARE_LOOP, 'bench-s3-barepq', 'none', 'parquet'),
    'sink-parquet': drain(SINK, 'bench-s3-sinkpq', 'none', 'parquet'),
  },
  figures: [
    { name: 'records_per_s', unit: '1/s', better: 'higher', from: 'sink', baseline: 'bare-loop' },
    { name: 'mib_per_s', unit: 'MiB/s', better: 'higher', from: 'sink', baseline: 'bare-loop' },
    gzipFigure('records_per_s', '1/s', 'higher'),
    { name: 'peak_rss_mib', unit: 'MiB', better: 'lower', from: 'sink', baseline: 'bare-loop' },
    gzipFigure('peak_rss_mib', 'MiB', 'lower'),
    { name: 'objects_per_min', unit: '1/min', better: 'higher', from: 'sink', baseline: 'bare-loop' },
    { name: 'cpu_us_per_record', unit: 'us', better: 'lower', from: 'sink', baseline: 'bare-loop' },
    gzipFigure('cpu_us_per_record', 'us', 'lower'),
    { name: 'mean_object_mib', unit: 'MiB', better: 'higher', from: 'sink', baseline: 'bare-loop' },
    parquetFigure('records_per_s', '1/s', 'higher'),
    parquetFigure('cpu_us_per_record', 'us', 'lower'),
  ],
  notes: [
    'Every contender runs in its own process on a fresh 4-shard kinesalite stream pre-loaded with the sample events as ingest envelopes, writing into a fresh fauxqs bucket (the sink also into a fresh dynalite lease table).',
    'Time and CPU from the first GetShardIterator to the moment every record is durable in S3 (the sink: its OBJECT_WRITTEN events; the bare loop: its PutObject answers); the bucket is then read back and must hold every event exactly once.',
    'Objects close when their record bytes reach bufferSizeBytes (both contenders), the rest at the end of the stream (the sink: stop() once it holds every record; its buffer interval is 900 s). The sink also writes a manifest per object and its lease-table prepare/checkpoint per range; the bare loop writes nothing else.',
    "The Parquet pair (parquet_* figures): both contenders write one Parquet file per object with hyparquet-writer, the same columns (the envelope and the sample events' fields) and snappy pages; the bare loop JSON.parses each record and fills the columns itself (bareParquet.ts), the sink converts with its schema (exact integers) and writes at write time; the bucket is read back with hyparquet.",
  ],
});
