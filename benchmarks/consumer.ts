/**
 * `pnpm bench consumer`: a consumer-core worker against a bare GetShardIterator + GetRecords loop and
 * against lifion-kinesis 1.3.3, on kinesalite with 4 shards, every contender in its own process with a
 * fresh stream (and a fresh lease table) each round; and consumer-core's enhanced fan-out against its
 * polling reader on kinesis-local (the only emulator with SubscribeToShard).
 *
 * - Drain: 200,000 sample events pre-loaded, read from TRIM_HORIZON; every processor JSON-decodes each
 *   record. Throughput and CPU from the first GetShardIterator to the last record; peak RSS.
 * - Latency: the benchmark process puts 50 records/s for 60 s into a live stream; put → processor
 *   latency on the cross-process monotonic clock; GetRecords calls per shard counted at the worker's
 *   client.
 * - Fan-out (`fanout`, `fanout-latency`, against `polling-kinesis-local`, `polling-latency-kinesis-local`):
 *   the same drain (fewer records) and latency runs on a 4-shard kinesis-local stream, each on an
 *   emulator started for it and stopped after it, so that kinesis-local, which loads the machine, never
 *   runs beside the kinesalite contenders. Its figures are marked as taken under load: compare them only
 *   with the polling baseline of the same run.
 */
import { loadavg } from 'node:os';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import {
  kinesisClientConfig,
  type LocalStream,
  type LocalTwin,
  type LocalTwinInfo,
  uniqueName,
} from '@shardline/local';
import type {
  DrainInput,
  KinesisLocalDrainInput,
  KinesisLocalLatencyInput,
  KinesisLocalRetrieval,
  LatencyInput,
  ReceivedEvent,
} from './consumer/shared.js';
import { READY_EVENT, RECEIVED_EVENT } from './consumer/shared.js';
import {
  type BenchmarkContext,
  defineBenchmark,
  LatencyRecorder,
  monotonicNowMs,
  putEvents,
  type RoundMetrics,
  type SampleEvent,
  sampleEvents,
  withFreshStream,
  withPreloadedStream,
} from './harness/index.js';

interface Params {
  /** Records pre-loaded for each drain. */
  readonly records: number;
  /** Put rate of the latency runs, records/s. */
  readonly putRatePerS: number;
  /** How long the latency runs put, ms. */
  readonly putDurationMs: number;
  /** The fan-out runs on kinesis-local, whose PutRecords slows as a shard fills: modest volumes. */
  readonly kinesisLocal: {
    /** Records pre-loaded for each drain. */
    readonly records: number;
    /** Put rate of the latency runs, records/s (lower than on kinesalite: kinesis-local serves slowly). */
    readonly putRatePerS: number;
    /** How long the latency runs put, ms. */
    readonly putDurationMs: number;
  };
}

interface Shared {
  readonly stack: LocalTwin;
  /** The benchmark process's own client: pre-loading and the latency runs' puts. */
  readonly kinesis: KinesisClient;
  readonly events: readonly SampleEvent[];
  /**
   * A quick run's one kinesis-local, shared by its kinesis-local contenders (started on first use,
   * stopped at the end of the run): a quick run's figures are meaningless anyway, and each start costs
   * seconds. A full run starts one per contender run instead.
   */
  readonly quickKinesisLocal: { emulator?: Promise<LocalTwin> };
}

const SHARDS = 4;
const BARE_LOOP = new URL('./consumer/bareLoop.ts', import.meta.url);
const SHARDLINE_DRAIN = new URL('./consumer/shardlineDrain.ts', import.meta.url);
const LIFION_DRAIN = new URL('./consumer/lifionDrain.ts', import.meta.url);
const SHARDLINE_LATENCY = new URL('./consumer/shardlineLatency.ts', import.meta.url);
const LIFION_LATENCY = new URL('./consumer/lifionLatency.ts', import.meta.url);
const KINESIS_LOCAL_DRAIN = new URL('./consumer/kinesisLocalDrain.ts', import.meta.url);
const KINESIS_LOCAL_LATENCY = new URL('./consumer/kinesisLocalLatency.ts', import.meta.url);
// aws-sdk v2 (lifion-kinesis) prints an end-of-support notice at load without this.
const CONTENDER_ENV = { AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1' };

/**
 * lifion-kinesis' state table, created ahead as lifion would create it: lifion waits for a table it
 * created with aws-sdk v2's `tableExists` waiter, which polls every 20 s, so its own creation would add
 * 20 s of start-up to each run (never inside the measured spans, but beyond a quick run's budget).
 */
async function createLifionTable(stack: LocalTwin, tableName: string): Promise<void> {
  await stack.createTable({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'consumerGroup', AttributeType: 'S' },
      { AttributeName: 'streamName', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'consumerGroup', KeyType: 'HASH' },
      { AttributeName: 'streamName', KeyType: 'RANGE' },
    ],
  });
}

/** The contender's table: consumer-core creates its lease table itself; lifion's is created ahead. */
async function freshTable(shared: Shared, prefix: string, isLifion: boolean): Promise<string> {
  const tableName = uniqueName(`${prefix}-leases`);
  if (isLifion) await createLifionTable(shared.stack, tableName);
  return tableName;
}

/** Pre-loads a fresh stream with the sample events, then runs a drain contender on it. */
function drain(file: URL, prefix: string, isLifion = false) {
  return (ctx: BenchmarkContext<Params>, shared: Shared): Promise<RoundMetrics> =>
    withPreloadedStream(ctx, shared.stack, shared, prefix, SHARDS, async ({ streamName, shardIds }) => {
      const input: DrainInput = {
        info: shared.stack.info,
        streamName,
        shardIds,
        records: shared.events.length,
        tableName: await freshTable(shared, prefix, isLifion),
      };
      const report = await ctx.spawnContender(file, input, { env: CONTENDER_ENV });
      return { ...report.metrics, peak_rss_mib: report.peakRssMiB };
    });
}

/** A stream of the run to put into and read from: where it lives and the client that puts. */
interface LiveStream {
  readonly info: LocalTwinInfo;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly shardIds: readonly string[];
}

/**
 * Starts a latency contender on `stream` (fresh and empty); once it reads every shard, puts
 * `putRatePerS` records/s for `putDurationMs` (each put started on schedule, not after the previous
 * one returned) and measures put → processor for every record: the put is stamped just before it is
 * sent, the receipt by the contender when its processor gets the batch, both on the machine's monotonic
 * clock.
 */
async function measureLatency(
  ctx: BenchmarkContext<Params>,
  shared: Shared,
  file: URL,
  stream: LiveStream,
  put: { readonly putRatePerS: number; readonly putDurationMs: number },
  input: (records: number) => LatencyInput | KinesisLocalLatencyInput,
): Promise<RoundMetrics> {
  const { putRatePerS, putDurationMs } = put;
  const count = Math.round((putRatePerS * putDurationMs) / 1000);
  const events = shared.events.slice(0, count);
  if (events.length < count) throw new Error(`only ${events.length} sample events for ${count} puts`);
  const putAtMs = new Float64Array(count).fill(Number.NaN);
  const received = new Uint8Array(count);
  const recorder = new LatencyRecorder();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const handle = ctx.startContender(file, input(count), {
    env: CONTENDER_ENV,
    onEvent: (event) => {
      if (event.name === READY_EVENT) markReady();
      if (event.name !== RECEIVED_EVENT) return;
      const { indexes, atMs } = event.data as ReceivedEvent;
      for (const index of indexes) {
        // A redelivery is not a new latency sample.
        if (received[index] === 1) continue;
        received[index] = 1;
        recorder.record(atMs - (putAtMs[index] as number));
      }
    },
  });
  await Promise.race([ready, handle.report]);

  const intervalMs = 1000 / putRatePerS;
  const startMs = monotonicNowMs();
  const puts: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    ctx.signal.throwIfAborted();
    const waitMs = startMs + i * intervalMs - monotonicNowMs();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const event = events[i] as SampleEvent;
    putAtMs[i] = monotonicNowMs();
    const put = putWithRetries(stream, event, (message) => ctx.log(message));
    // Awaited below; until then a failed put must not be an unhandled rejection (it would end the process).
    put.catch(() => undefined);
    puts.push(put);
  }
  const putWallMs = monotonicNowMs() - startMs;
  await Promise.all(puts);
  const report = await handle.report;
  if (recorder.count !== count)
    throw new Error(`latency of ${recorder.count} records measured, put ${count}`);
  return {
    ...report.metrics,
    latency_p50_ms: recorder.percentileMs(50),
    latency_p99_ms: recorder.percentileMs(99),
    latency_max_ms: recorder.percentileMs(100),
    put_rate_per_s: count / (putWallMs / 1000),
    peak_rss_mib: report.peakRssMiB,
  };
}

/**
 * One PutRecord, sent again (up to 5 more times) when it fails: on a loaded machine kinesis-local may not
 * even accept the connection within the client's connection timeout. The record's latency still runs
 * from its first attempt.
 */
async function putWithRetries(
  stream: LiveStream,
  event: SampleEvent,
  log: (message: string) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await stream.kinesis.send(
        new PutRecordCommand({
          StreamName: stream.streamName,
          PartitionKey: event.partitionKey,
          Data: event.data,
        }),
      );
      return;
    } catch (error) {
      if (attempt > 5) throw error;
      log(`a PutRecord to ${stream.streamName} failed (${String(error)}); again`);
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

/** A latency contender on a fresh, empty kinesalite stream (see {@link measureLatency}). */
function latency(
  file: URL,
  prefix: string,
  options: { idleTimeBetweenReadsMs?: number; isLifion?: boolean } = {},
) {
  const { idleTimeBetweenReadsMs, isLifion = false } = options;
  return (ctx: BenchmarkContext<Params>, shared: Shared): Promise<RoundMetrics> =>
    withFreshStream(ctx, shared.stack, prefix, SHARDS, async ({ streamName, shardIds }) => {
      const tableName = await freshTable(shared, prefix, isLifion);
      const stream = { info: shared.stack.info, kinesis: shared.kinesis, streamName, shardIds };
      return measureLatency(ctx, shared, file, stream, ctx.params, (records) => ({
        info: shared.stack.info,
        streamName,
        shardIds,
        records,
        tableName,
        ...(idleTimeBetweenReadsMs === undefined ? {} : { idleTimeBetweenReadsMs }),
      }));
    });
}

/**
 * Runs `body` on a kinesis-local started for it alone (and stopped after it, so the kinesalite
 * contenders never share the machine with it; a quick run shares one), with a fresh 4-shard stream; `info` points the contender's
 * Kinesis at kinesis-local and its DynamoDB at the run's dynalite. Logs the 1-minute load average before
 * and after: these runs are taken under the emulator's own load.
 */
async function onKinesisLocal(
  ctx: BenchmarkContext<Params>,
  shared: Shared,
  prefix: string,
  body: (stream: LiveStream) => Promise<RoundMetrics>,
): Promise<RoundMetrics> {
  const loadBefore = loadavg()[0] as number;
  const start = () => ctx.startLocalTwin({ kinesis: 'faithful', dynamodb: false, s3: false });
  let emulator: LocalTwin;
  if (ctx.quick) {
    shared.quickKinesisLocal.emulator ??= start();
    emulator = await shared.quickKinesisLocal.emulator;
  } else {
    emulator = await start();
  }
  // More attempts than the local default: on a loaded machine kinesis-local may be slow to accept.
  const kinesis = new KinesisClient({ ...kinesisClientConfig(emulator.info), maxAttempts: 6 });
  try {
    const info: LocalTwinInfo = {
      ...shared.stack.info,
      endpoints: { ...shared.stack.info.endpoints, kinesis: emulator.info.endpoints.kinesis },
      kinesisEngine: 'faithful',
    };
    const { streamName, shardIds } = await createStreamPatiently(ctx, emulator, prefix);
    try {
      const metrics = await body({ info, kinesis, streamName, shardIds });
      ctx.log(`${prefix}: ${JSON.stringify(metrics)}`);
      return metrics;
    } finally {
      await emulator
        .deleteStream(streamName)
        .catch((error: unknown) => ctx.log(`could not delete ${streamName}: ${String(error)}`));
    }
  } finally {
    kinesis.destroy();
    // Stopped here rather than at the end of the run (stop() is idempotent: the run's cleanup is a no-op).
    if (!ctx.quick) await emulator.stop();
    ctx.log(
      `${prefix}: kinesis-local run, 1-min load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] as number).toFixed(2)} after`,
    );
  }
}

/**
 * A fresh stream of {@link SHARDS} shards on kinesis-local, created again (under a new name) when the
 * emulator, just started on a loaded machine, does not accept the connection in time.
 */
async function createStreamPatiently(
  ctx: BenchmarkContext<Params>,
  emulator: LocalTwin,
  prefix: string,
): Promise<LocalStream> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await emulator.createStream(uniqueName(prefix), { shardCount: SHARDS });
    } catch (error) {
      if (attempt >= 4) throw error;
      ctx.log(`${prefix}: creating the stream on kinesis-local failed (${String(error)}); again`);
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
}

/** Drain on kinesis-local, consumer-core with fan-out or polling (see `consumer/kinesisLocalDrain.ts`). */
function kinesisLocalDrain(retrieval: KinesisLocalRetrieval, prefix: string) {
  return (ctx: BenchmarkContext<Params>, shared: Shared): Promise<RoundMetrics> =>
    onKinesisLocal(ctx, shared, prefix, async ({ info, kinesis, streamName, shardIds }) => {
      const events = shared.events.slice(0, ctx.params.kinesisLocal.records);
      const t0 = Date.now();
      // One call at a time: kinesis-local slows down under concurrent PutRecords on a loaded machine.
      await putEvents(kinesis, { streamName, events, signal: ctx.signal });
      ctx.log(`${prefix}: ${events.length} records pre-loaded on kinesis-local in ${Date.now() - t0} ms`);
      const input: KinesisLocalDrainInput = {
        info,
        streamName,
        shardIds,
        records: events.length,
        tableName: await freshTable(shared, prefix, false),
        retrieval,
      };
      const report = await ctx.spawnContender(KINESIS_LOCAL_DRAIN, input, { env: CONTENDER_ENV });
      return { ...report.metrics, peak_rss_mib: report.peakRssMiB };
    });
}

/** Latency on kinesis-local, consumer-core with fan-out or polling at its defaults. */
function kinesisLocalLatency(retrieval: KinesisLocalRetrieval, prefix: string) {
  return (ctx: BenchmarkContext<Params>, shared: Shared): Promise<RoundMetrics> =>
    onKinesisLocal(ctx, shared, prefix, async (stream) => {
      const tableName = await freshTable(shared, prefix, false);
      return measureLatency(
        ctx,
        shared,
        KINESIS_LOCAL_LATENCY,
        stream,
        ctx.params.kinesisLocal,
        (records): KinesisLocalLatencyInput => ({
          info: stream.info,
          streamName: stream.streamName,
          shardIds: stream.shardIds,
          records,
          tableName,
          retrieval,
        }),
      );
    });
}

export default defineBenchmark<Params, Shared>({
  name: 'consumer',
  description:
    'consumer-core worker vs a bare GetRecords loop and lifion-kinesis 1.3.3: drain of 200k events on 4 shards, put → processor latency at 50 records/s; enhanced fan-out vs polling on kinesis-local',
  rounds: 3,
  quickRounds: 1,
  params: {
    full: {
      records: 200_000,
      putRatePerS: 50,
      putDurationMs: 60_000,
      kinesisLocal: { records: 5_000, putRatePerS: 20, putDurationMs: 30_000 },
    },
    quick: {
      records: 500,
      putRatePerS: 50,
      putDurationMs: 400,
      kinesisLocal: { records: 500, putRatePerS: 20, putDurationMs: 1_000 },
    },
  },
  setup: async (ctx) => {
    const stack = await ctx.startLocalTwin({ s3: false });
    const kinesis = new KinesisClient(kinesisClientConfig(stack.info));
    ctx.defer(() => kinesis.destroy());
    return { stack, kinesis, events: sampleEvents(ctx.params.records), quickKinesisLocal: {} };
  },
  contenders: {
    'bare-loop': drain(BARE_LOOP, 'bench-consumer-bare'),
    shardline: drain(SHARDLINE_DRAIN, 'bench-consumer-shardline'),
    lifion: drain(LIFION_DRAIN, 'bench-consumer-lifion', true),
    'shardline-latency-200': latency(SHARDLINE_LATENCY, 'bench-consumer-lat200', {
      idleTimeBetweenReadsMs: 200,
    }),
    'shardline-latency-default': latency(SHARDLINE_LATENCY, 'bench-consumer-latdef'),
    'lifion-latency': latency(LIFION_LATENCY, 'bench-consumer-latlifion', { isLifion: true }),
    fanout: kinesisLocalDrain('fanOut', 'bench-consumer-fanout'),
    'polling-kinesis-local': kinesisLocalDrain('polling', 'bench-consumer-klpoll'),
    'fanout-latency': kinesisLocalLatency('fanOut', 'bench-consumer-latfanout'),
    'polling-latency-kinesis-local': kinesisLocalLatency('polling', 'bench-consumer-latklpoll'),
  },
  figures: [
    { name: 'records_per_s', unit: '1/s', better: 'higher', from: 'shardline', baseline: 'bare-loop' },
    { name: 'cpu_us_per_record', unit: 'us', better: 'lower', from: 'shardline', baseline: 'bare-loop' },
    { name: 'peak_rss_mib', unit: 'MiB', better: 'lower', from: 'shardline', baseline: 'bare-loop' },
    {
      name: 'drain_max_get_records_per_shard_s',
      unit: '1/s',
      better: 'lower',
      from: 'shardline',
      baseline: 'bare-loop',
      baselineMetric: 'max_get_records_per_shard_s',
    },
    {
      name: 'lifion_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'lifion',
      metric: 'records_per_s',
      baseline: 'bare-loop',
    },
    {
      name: 'lifion_cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'lifion',
      metric: 'cpu_us_per_record',
      baseline: 'bare-loop',
    },
    {
      name: 'lifion_peak_rss_mib',
      unit: 'MiB',
      better: 'lower',
      from: 'lifion',
      metric: 'peak_rss_mib',
      baseline: 'bare-loop',
    },
    // The headline latency rows run consumer-core at its defaults (idle 1,000 ms between empty reads),
    // like lifion-kinesis; the tuned_* rows with idleTimeBetweenReadsMs 200.
    {
      name: 'latency_p50_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline-latency-default',
      baseline: 'lifion-latency',
    },
    {
      name: 'latency_p99_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline-latency-default',
      baseline: 'lifion-latency',
    },
    {
      name: 'max_get_records_per_shard_s',
      unit: '1/s',
      better: 'lower',
      from: 'shardline-latency-default',
      baseline: null,
      reference: { max: 5, source: 'docs/kinesis-limits.md: GetRecords, 5 calls/s per shard' },
    },
    {
      name: 'tuned_latency_p50_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline-latency-200',
      metric: 'latency_p50_ms',
      baseline: 'lifion-latency',
    },
    {
      name: 'tuned_latency_p99_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline-latency-200',
      metric: 'latency_p99_ms',
      baseline: 'lifion-latency',
    },
    {
      name: 'tuned_max_get_records_per_shard_s',
      unit: '1/s',
      better: 'lower',
      from: 'shardline-latency-200',
      metric: 'max_get_records_per_shard_s',
      baseline: null,
      reference: { max: 5, source: 'docs/kinesis-limits.md: GetRecords, 5 calls/s per shard' },
    },
    {
      name: 'fanout_cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'fanout',
      metric: 'cpu_us_per_record',
      baseline: 'polling-kinesis-local',
      underLoad: true,
      description: 'drain on kinesis-local; goal: ratio ≤ 1.1 against polling on the same emulator',
    },
    {
      name: 'fanout_peak_rss_mib',
      unit: 'MiB',
      better: 'lower',
      from: 'fanout',
      metric: 'peak_rss_mib',
      baseline: 'polling-kinesis-local',
      underLoad: true,
    },
    {
      name: 'fanout_records_delivered',
      unit: 'count',
      better: 'lower',
      from: 'fanout',
      metric: 'records_delivered',
      baseline: 'polling-kinesis-local',
      underLoad: true,
      description: 'records handed to the processor, redeliveries included (every pre-loaded one is checked)',
    },
    {
      name: 'fanout_get_records_calls',
      unit: 'count',
      better: 'lower',
      from: 'fanout-latency',
      metric: 'steady_get_records_calls',
      baseline: 'polling-latency-kinesis-local',
      underLoad: true,
      reference: { value: 0, source: 'fan-out makes no GetRecords call in steady state' },
      description:
        "GetRecords calls between 'ready' and the last record, at the worker's instrumented client",
    },
    {
      name: 'fanout_latency_p50_ms',
      unit: 'ms',
      better: 'lower',
      from: 'fanout-latency',
      metric: 'latency_p50_ms',
      baseline: 'polling-latency-kinesis-local',
      underLoad: true,
      description: "bounded by kinesis-local's one-second push (AWS: about 70 ms)",
    },
    {
      name: 'fanout_latency_p99_ms',
      unit: 'ms',
      better: 'lower',
      from: 'fanout-latency',
      metric: 'latency_p99_ms',
      baseline: 'polling-latency-kinesis-local',
      underLoad: true,
      description: "bounded by kinesis-local's one-second push (AWS: about 70 ms)",
    },
  ],
  notes: [
    'Every contender runs in its own process on a fresh 4-shard kinesalite stream (and a fresh lease/state table on dynalite); kinesalite, dynalite and the benchmark process are never in its CPU or RSS.',
    'Drain: 200,000 sample events (~330 B of JSON) pre-loaded; CPU and time from the first GetShardIterator to the last record; every processor JSON-decodes each record (lifion-kinesis decodes it itself). consumer-core and lifion-kinesis run with their defaults.',
    'Latency: 50 records/s for 60 s put one PutRecord at a time on schedule by the benchmark process, from when each put is sent to when the processor gets its batch; lifion-kinesis with its defaults (pollDelay 250 ms, noRecordsPollDelay 1000 ms).',
    "max_get_records_per_shard_s: most GetRecords calls to one shard in any 1-s window, counted by a middleware on the worker's Kinesis client over the whole latency run.",
    "fanout_* (*: taken under load): consumer-core with retrieval 'fanOut' against consumer-core polling, both with their defaults on a fresh 4-shard kinesis-local stream, kinesis-local started for each run alone (it loads the machine itself: compare only within the run). Drain: 5,000 events pre-loaded, CPU from the first SubscribeToShard / GetShardIterator to the last record; latency: 20 records/s for 30 s.",
    "fanout_latency_*: bounded by kinesis-local, which pushes a subscription's records on a one-second poll (AWS's figure for fan-out: about 70 ms); not a measure of consumer-core.",
    "fanout_get_records_calls: GetRecords calls between 'ready' (a subscription up on every shard) and the last record of the latency run, counted by consumer-core's instrumented client in the contender process.",
  ],
});
