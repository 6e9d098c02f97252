/**
 * `pnpm bench emulator`: the raw throughput of kinesalite, the ceiling every other benchmark is read
 * against. A client process puts sample events in full 500-record PutRecords calls, then reads them back
 * with a GetShardIterator + GetRecords loop per shard; on a fresh 1-shard and a fresh 4-shard stream,
 * every round. One PutRecords call is in flight per shard.
 */
import type { LocalTwin } from '@shardline/local';
import type { KinesisLoadInput } from './emulator/kinesisLoad.js';
import {
  type BenchmarkContext,
  defineBenchmark,
  type RoundMetrics,
  withFreshStream,
} from './harness/index.js';

interface Params {
  /** Records put and read per stream per round. */
  readonly records: number;
}

const LOAD = new URL('./emulator/kinesisLoad.ts', import.meta.url);

async function load(
  ctx: BenchmarkContext<Params>,
  stack: LocalTwin,
  shardCount: number,
): Promise<RoundMetrics> {
  return withFreshStream(ctx, stack, `bench-emulator-${shardCount}`, shardCount, async (stream) => {
    const input: KinesisLoadInput = {
      info: stack.info,
      streamName: stream.streamName,
      shardIds: stream.shardIds,
      records: ctx.params.records,
      // One PutRecords call in flight per shard: a single sequential loop on one shard (the bare loop
      // later benchmarks compare against), and what a producer spreading over 4 shards can reach.
      putConcurrency: shardCount,
    };
    const report = await ctx.spawnContender(LOAD, input);
    return { ...report.metrics, client_peak_rss_mib: report.peakRssMiB };
  });
}

export default defineBenchmark<Params, { stack: LocalTwin }>({
  name: 'emulator',
  description: 'kinesalite ceiling: PutRecords (500-record batches) and a GetRecords loop, 1 and 4 shards',
  rounds: 5,
  quickRounds: 1,
  params: {
    full: { records: 100_000 },
    quick: { records: 5_000 },
  },
  setup: async (ctx) => ({ stack: await ctx.startLocalTwin({ dynamodb: false, s3: false }) }),
  contenders: {
    'kinesalite-1-shard': (ctx, { stack }) => load(ctx, stack, 1),
    'kinesalite-4-shards': (ctx, { stack }) => load(ctx, stack, 4),
  },
  figures: [
    {
      name: 'put_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'kinesalite-1-shard',
      baseline: null,
      reference: {
        min: 11_000,
        max: 16_000,
        source: 'docs/local-emulators.md: kinesalite PutRecords on one shard',
      },
    },
    { name: 'put_mib_per_s', unit: 'MiB/s', better: 'higher', from: 'kinesalite-1-shard', baseline: null },
    { name: 'put_latency_p50_ms', unit: 'ms', better: 'lower', from: 'kinesalite-1-shard', baseline: null },
    { name: 'put_latency_p99_ms', unit: 'ms', better: 'lower', from: 'kinesalite-1-shard', baseline: null },
    { name: 'get_records_per_s', unit: '1/s', better: 'higher', from: 'kinesalite-1-shard', baseline: null },
    { name: 'get_mib_per_s', unit: 'MiB/s', better: 'higher', from: 'kinesalite-1-shard', baseline: null },
    { name: 'get_latency_p50_ms', unit: 'ms', better: 'lower', from: 'kinesalite-1-shard', baseline: null },
    {
      name: 'put_client_cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'kinesalite-1-shard',
      baseline: null,
    },
    {
      name: 'get_client_cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'kinesalite-1-shard',
      baseline: null,
    },
    {
      name: 'put_4_shards_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'kinesalite-4-shards',
      metric: 'put_records_per_s',
      baseline: null,
    },
    {
      name: 'get_4_shards_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'kinesalite-4-shards',
      metric: 'get_records_per_s',
      baseline: null,
    },
  ],
  notes: [
    'kinesalite runs in its own process (startLocalTwin); the client runs in another, so neither the harness nor the emulator is in the client CPU figures.',
    'One PutRecords call is in flight per shard: 1 on the 1-shard stream, 4 on the 4-shard stream; GetRecords asks for up to 10,000 records per call.',
    'put_mib_per_s and get_mib_per_s count data plus partition key bytes; a record is one sample event as JSON, about 320 bytes.',
  ],
});
