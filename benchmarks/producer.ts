/**
 * `pnpm bench producer`: `@shardline/producer` on kinesalite. Every round, on a fresh 4-shard stream
 * each, with the same sample events (the ingest envelope of `data/ecommerce-events-2019-10-sample.csv`
 * rows):
 * - the producer's direct Kinesis transport against a bare loop of full 500-record PutRecords calls
 *   that builds each record's envelope with plain `JSON.stringify` inside its measured span;
 * - the producer's HTTP transport through the local ingest gateway (in its own process);
 * - one PutRecord call per event, as a naive replay program does;
 * - `shardline-produce replay` of a generated 1,000,000-row CSV and of a 100,000-row one: peak RSS;
 * - the producer on a partly throttled stream (a hot shard), against a model of Kinesis's per-shard
 *   write limits behind the real SDK client (no emulator enforces them): the default buffer against
 *   the former default of 10,000 records.
 * Every contender's records are read back from the stream (by event id) before the round goes on.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClientConfig, type LocalTwin, localTwinEnv } from '@shardline/local';
import {
  type BenchmarkContext,
  type ContenderReport,
  defineBenchmark,
  ECOMMERCE_SAMPLE_PATH,
  median,
  type RoundMetrics,
  withFreshStream,
} from './harness/index.js';
import type { GatewayInput, GatewayReady } from './producer/gateway.js';
import type { ProducerLoadInput } from './producer/producerLoad.js';
import type { PutLoopInput } from './producer/putLoop.js';
import type { ThrottledLoadInput } from './producer/throttledLoad.js';

interface Params {
  /** Events sent by the bare loop, the producer (both transports) per round. */
  readonly records: number;
  /** Events of the naive one-PutRecord-per-event loop (its rate is 10–20× lower). */
  readonly naiveRecords: number;
  /** Rows of the large and of the small generated CSV replayed by the CLI. */
  readonly replayRows: number;
  readonly smallReplayRows: number;
  /** Events of the partly throttled runs. */
  readonly throttledRecords: number;
}

interface Shared {
  readonly stack: LocalTwin;
  readonly kinesis: KinesisClient;
  readonly largeCsv: string;
  readonly smallCsv: string;
  readonly tempDir: string;
}

const PUT_LOOP = new URL('./producer/putLoop.ts', import.meta.url);
const PRODUCER_LOAD = new URL('./producer/producerLoad.ts', import.meta.url);
const GATEWAY = new URL('./producer/gateway.ts', import.meta.url);
const THROTTLED_LOAD = new URL('./producer/throttledLoad.ts', import.meta.url);
/** The throttled runs' hot shard takes this percent of the events (the other 3 shards share the rest). */
const HOT_PERCENT = 40;
/** The replay CLI's built entry point, as `shardline-produce` runs it (the workspace is built first). */
const REPLAY_CLI = join(
  dirname(createRequire(import.meta.url).resolve('@shardline/producer/package.json')),
  'dist',
  'main.js',
);
const SHARD_COUNT = 4;
/** PutRecords calls in flight: the producer's default `maxConcurrentRequests`, for the bare loop too. */
const CONCURRENCY = 4;
const API_KEY = 'bench-producer-key';
/** Clock ticks per second of /proc/<pid>/stat CPU times. */
const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/**
 * `SHARDLINE_BENCH_CPU_PROF=<dir>`: the measured client contenders run with `--cpu-prof`, one
 * `.cpuprofile` each in `<dir>` (open in Chrome DevTools, or summarise by self time). Profiling costs
 * CPU: figures of such a run are for finding hot spots, not for the docs.
 */
const CPU_PROFILE_DIR = process.env.SHARDLINE_BENCH_CPU_PROF;
const PROFILE_NODE_ARGS = CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : [];

/** User + system CPU of another process so far, ms (Linux /proc). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** Resident set size now and its peak so far (VmRSS, VmHWM) of another process, MiB; undefined once it exited. */
function processRssMiB(pid: number): { rss: number; peak: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  const rss = kib('VmRSS');
  const peak = kib('VmHWM');
  return Number.isFinite(rss) && Number.isFinite(peak) ? { rss: rss / 1024, peak: peak / 1024 } : undefined;
}

function kinesalitePid(stack: LocalTwin): number {
  const pid = stack.services.find((s) => s.engine === 'kinesalite')?.pid;
  if (pid === undefined) throw new Error('no kinesalite process in the local twin');
  return pid;
}

/**
 * Reads a whole stream back (GetRecords loop per shard, everything was put before) and returns how many
 * records it holds and how many distinct event ids: the independent check that every event landed once.
 */
async function readBack(
  kinesis: KinesisClient,
  streamName: string,
  shardIds: readonly string[],
): Promise<{ records: number; eventIds: number }> {
  const ids = new Set<string>();
  let records = 0;
  const decoder = new TextDecoder();
  for (const shardId of shardIds) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = ShardIterator;
    while (iterator) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const got = out.Records ?? [];
      if (got.length === 0) break;
      records += got.length;
      for (const r of got) {
        // The envelope starts with its event id: {"eventId":"…",
        const head = decoder.decode(r.Data?.subarray(0, 160));
        const id = /^\{"eventId":"([^"]+)"/.exec(head)?.[1];
        if (id === undefined) throw new Error(`${streamName}: a record is not an ingest envelope: ${head}`);
        ids.add(id);
      }
      iterator = out.NextShardIterator;
    }
  }
  return { records, eventIds: ids.size };
}

/** A fresh stream for one contender, read back and deleted after `body`. */
async function withStream(
  ctx: BenchmarkContext<Params>,
  shared: Shared,
  expectedRecords: number,
  body: (stream: { streamName: string; shardIds: readonly string[] }) => Promise<RoundMetrics>,
): Promise<RoundMetrics> {
  return withFreshStream(ctx, shared.stack, 'bench-producer', SHARD_COUNT, async (stream) => {
    const metrics = await body(stream);
    const found = await readBack(shared.kinesis, stream.streamName, stream.shardIds);
    if (found.records !== expectedRecords || found.eventIds !== expectedRecords) {
      throw new Error(
        `${stream.streamName}: read back ${found.records} records with ${found.eventIds} distinct event ids, sent ${expectedRecords}`,
      );
    }
    return metrics;
  });
}

/**
 * Runs a contender process and measures, between its `start` and `end` events, the CPU share of
 * kinesalite and of the `others` processes (e.g. the gateway), in % of one core.
 */
async function measured<I>(
  ctx: BenchmarkContext<Params>,
  shared: Shared,
  file: URL,
  input: I,
  others: Readonly<Record<string, number>> = {},
): Promise<ContenderReport & { cpuPercent: Record<string, number> }> {
  const pids: Record<string, number> = { emulator: kinesalitePid(shared.stack), ...others };
  const at: Record<string, { wallMs: number; cpuMs: Record<string, number> }> = {};
  const sample = () => ({
    wallMs: performance.now(),
    cpuMs: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMs(pid)])),
  });
  const report = await ctx.spawnContender(file, input, {
    nodeArgs: PROFILE_NODE_ARGS,
    onEvent: (event) => {
      if (event.name === 'start' || event.name === 'end') at[event.name] = sample();
    },
  });
  const { start, end } = at;
  if (!start || !end) throw new Error(`${file.pathname} did not emit start and end`);
  const cpuPercent = Object.fromEntries(
    Object.keys(pids).map((name) => [
      name,
      (100 * (end.cpuMs[name]! - start.cpuMs[name]!)) / (end.wallMs - start.wallMs),
    ]),
  );
  return { ...report, cpuPercent };
}

/** One line per contender and round, so that candidate and baseline of the same round can be paired. */
function logRound(
  ctx: BenchmarkContext<Params>,
  name: string,
  metrics: RoundMetrics,
  cpuPercent: Readonly<Record<string, number>>,
): void {
  const cpu = Object.entries(cpuPercent)
    .map(([process, percent]) => `${process} ${percent.toFixed(0)}%`)
    .join(', ');
  ctx.log(
    `  ${name}: ${Math.round(metrics.records_per_s!)} records/s, ${metrics.requests_per_s!.toFixed(1)} requests/s, client ${metrics.cpu_us_per_record!.toFixed(1)} us/record (${metrics.client_cpu_percent!.toFixed(0)}% CPU), ${cpu}`,
  );
}

async function putLoop(ctx: BenchmarkContext<Params>, shared: Shared, loop: 'bare' | 'naive') {
  const records = loop === 'bare' ? ctx.params.records : ctx.params.naiveRecords;
  return withStream(ctx, shared, records, async (stream) => {
    const input: PutLoopInput = {
      info: shared.stack.info,
      ...stream,
      records,
      loop,
      concurrency: CONCURRENCY,
    };
    const report = await measured(ctx, shared, PUT_LOOP, input);
    logRound(ctx, `${loop}-loop`, report.metrics, report.cpuPercent);
    return {
      ...report.metrics,
      emulator_cpu_percent: report.cpuPercent.emulator!,
      client_peak_rss_mib: report.peakRssMiB,
    };
  });
}

async function producerDirect(ctx: BenchmarkContext<Params>, shared: Shared, maxBufferedRecords?: number) {
  return withStream(ctx, shared, ctx.params.records, async (stream) => {
    const input: ProducerLoadInput = {
      info: shared.stack.info,
      ...stream,
      records: ctx.params.records,
      transport: 'kinesis',
      maxBufferedRecords,
    };
    const report = await measured(ctx, shared, PRODUCER_LOAD, input);
    logRound(
      ctx,
      maxBufferedRecords === undefined ? 'producer-direct' : `producer-direct-buffer-${maxBufferedRecords}`,
      report.metrics,
      report.cpuPercent,
    );
    return {
      ...report.metrics,
      emulator_cpu_percent: report.cpuPercent.emulator!,
      client_peak_rss_mib: report.peakRssMiB,
    };
  });
}

async function producerHttp(ctx: BenchmarkContext<Params>, shared: Shared) {
  return withStream(ctx, shared, ctx.params.records, async (stream) => {
    const gatewayInput: GatewayInput = {
      info: shared.stack.info,
      streamName: stream.streamName,
      apiKey: API_KEY,
    };
    let onReady: (ready: GatewayReady) => void = () => {};
    const ready = new Promise<GatewayReady>((resolve) => {
      onReady = resolve;
    });
    const gateway = ctx.startContender(GATEWAY, gatewayInput, {
      onEvent: (event) => {
        if (event.name === 'ready') onReady(event.data as GatewayReady);
      },
    });
    let stopped = false;
    try {
      const { url } = await Promise.race([
        ready,
        gateway.report.then(() => Promise.reject(new Error('gateway ended'))),
      ]);
      const input: ProducerLoadInput = {
        info: shared.stack.info,
        ...stream,
        records: ctx.params.records,
        transport: 'http',
        url,
        apiKey: API_KEY,
      };
      const client = await measured(ctx, shared, PRODUCER_LOAD, input, { gateway: gateway.pid! });
      gateway.stop();
      stopped = true;
      const server = await gateway.report;
      logRound(ctx, 'producer-http', client.metrics, client.cpuPercent);
      if (server.metrics.errors !== 0)
        throw new Error(`the gateway reported ${server.metrics.errors} errors`);
      const records = ctx.params.records;
      return {
        ...client.metrics,
        gateway_requests_per_s: client.metrics.requests_per_s!,
        gateway_put_records_calls: server.metrics.put_records_calls!,
        gateway_cpu_us_per_record: server.metrics.cpu_us! / records,
        gateway_cpu_percent: client.cpuPercent.gateway!,
        emulator_cpu_percent: client.cpuPercent.emulator!,
        client_peak_rss_mib: client.peakRssMiB,
        gateway_peak_rss_mib: server.peakRssMiB,
      };
    } finally {
      if (!stopped) gateway.kill('SIGKILL');
    }
  });
}

/** The producer on a stream whose hot shard is throttled (an in-process model of the shard limits). */
async function producerHotShard(ctx: BenchmarkContext<Params>, maxBufferedRecords?: number) {
  const input: ThrottledLoadInput = {
    records: ctx.params.throttledRecords,
    shards: SHARD_COUNT,
    hotPercent: HOT_PERCENT,
    maxBufferedRecords,
  };
  const report = await ctx.spawnContender(THROTTLED_LOAD, input, { nodeArgs: PROFILE_NODE_ARGS });
  const m = report.metrics;
  ctx.log(
    `  producer-hot-shard${maxBufferedRecords === undefined ? '' : `-buffer-${maxBufferedRecords}`}: ${Math.round(m.records_per_s!)} records/s, hot shard at ${(100 * m.hot_shard_limit_use!).toFixed(0)}% of its limit, ${m.throttled_entries_per_record!.toFixed(2)} throttled entries per record, delivery p99 ${Math.round(m.delivery_p99_ms!)} ms, peak RSS ${report.peakRssMiB.toFixed(0)} MiB`,
  );
  return { ...m, client_peak_rss_mib: report.peakRssMiB };
}

/** `shardline-produce replay` of a generated CSV in its own process; RSS sampled from /proc every 100 ms. */
async function replay(ctx: BenchmarkContext<Params>, shared: Shared, file: string, rows: number) {
  return withFreshStream(ctx, shared.stack, 'bench-replay', SHARD_COUNT, async (stream) => {
    let child: ChildProcess | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      child = spawn(
        process.execPath,
        [
          REPLAY_CLI,
          'replay',
          file,
          '--stream',
          stream.streamName,
          '--partition-key',
          'user_session',
          '--progress',
          'none',
          '--rejects',
          join(shared.tempDir, 'replay.rejects.jsonl'),
          '--dead-letters',
          join(shared.tempDir, 'replay.dead-letters.jsonl'),
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            ...localTwinEnv(shared.stack.info),
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          signal: ctx.signal,
          killSignal: 'SIGKILL',
        },
      );
      const pid = child.pid!;
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
      const samples: number[] = [];
      let peak = 0;
      const startedMs = performance.now();
      timer = setInterval(() => {
        const now = processRssMiB(pid);
        if (now === undefined) return;
        samples.push(now.rss);
        peak = Math.max(peak, now.peak);
      }, 100);
      const [code] = (await once(child, 'exit')) as [number | null];
      const wallMs = performance.now() - startedMs;
      clearInterval(timer);
      const acked = Number(/acknowledged\s+(\d+)/.exec(stdout)?.[1]);
      if (code !== 0 || acked !== rows) {
        throw new Error(`replay of ${rows} rows exited with ${code}, acknowledged ${acked}:\n${stdout}`);
      }
      if (samples.length < 5) throw new Error(`only ${samples.length} RSS samples of the replay`);
      ctx.log(
        `  replay of ${rows} rows: peak RSS ${peak.toFixed(1)} MiB, ${Math.round(rows / (wallMs / 1000))} rows/s`,
      );
      // The rows sent per second as the user sees them: process start to exit, Node start-up included.
      return {
        replay_peak_rss_mib: peak,
        replay_median_rss_mib: median(samples),
        // RSS over time: the highest sample of the last quarter of the run against that of the second
        // (the first quarter holds start-up: loading modules, hashing the file, the buffer filling up).
        replay_rss_growth_mib:
          Math.max(...samples.slice(Math.floor((samples.length * 3) / 4))) -
          Math.max(...samples.slice(Math.floor(samples.length / 4), Math.floor(samples.length / 2))),
        replay_rows_per_s: rows / (wallMs / 1000),
      };
    } finally {
      clearInterval(timer);
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

/** Writes a CSV of `rows` data rows: the sample's header, then its rows repeated in order. */
async function writeCsv(path: string, rows: number, sample: { header: string; lines: readonly string[] }) {
  const out = createWriteStream(path);
  out.write(`${sample.header}\n`);
  const chunkRows = 10_000;
  for (let i = 0; i < rows; i += chunkRows) {
    const parts: string[] = [];
    for (let j = i; j < Math.min(rows, i + chunkRows); j++)
      parts.push(sample.lines[j % sample.lines.length]!);
    if (!out.write(`${parts.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export default defineBenchmark<Params, Shared>({
  name: 'producer',
  description:
    '@shardline/producer on kinesalite: direct vs bare PutRecords, HTTP via the ingest gateway, naive PutRecord, CSV replay memory',
  rounds: 3,
  quickRounds: 1,
  params: {
    full: {
      records: 200_000,
      naiveRecords: 10_000,
      replayRows: 1_000_000,
      smallReplayRows: 100_000,
      throttledRecords: 40_000,
    },
    quick: {
      records: 2_000,
      naiveRecords: 200,
      replayRows: 5_000,
      smallReplayRows: 1_000,
      throttledRecords: 2_000,
    },
  },
  setup: async (ctx) => {
    const stack = await ctx.startLocalTwin({ dynamodb: false, s3: false });
    const kinesis = new KinesisClient(kinesisClientConfig(stack.info));
    ctx.defer(() => kinesis.destroy());
    // Generated CSVs go to a temporary directory, never into the repository.
    const tempDir = await mkdtemp(join(tmpdir(), 'shardline-bench-producer-'));
    ctx.defer(() => rm(tempDir, { recursive: true, force: true }));
    const [header, ...lines] = (await readFile(ECOMMERCE_SAMPLE_PATH, 'utf8'))
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .filter((line) => line.length > 0);
    const sample = { header: header!, lines };
    const largeCsv = join(tempDir, `replay-${ctx.params.replayRows}.csv`);
    const smallCsv = join(tempDir, `replay-${ctx.params.smallReplayRows}.csv`);
    await writeCsv(largeCsv, ctx.params.replayRows, sample);
    await writeCsv(smallCsv, ctx.params.smallReplayRows, sample);
    ctx.log(`generated ${largeCsv} and ${smallCsv} from ${lines.length} sample rows`);
    return { stack, kinesis, largeCsv, smallCsv, tempDir };
  },
  contenders: {
    'bare-put-records': (ctx, shared) => putLoop(ctx, shared, 'bare'),
    'producer-direct': (ctx, shared) => producerDirect(ctx, shared),
    'producer-direct-buffer-10000': (ctx, shared) => producerDirect(ctx, shared, 10_000),
    'producer-http': (ctx, shared) => producerHttp(ctx, shared),
    'naive-put-record': (ctx, shared) => putLoop(ctx, shared, 'naive'),
    'replay-large': (ctx, shared) => replay(ctx, shared, shared.largeCsv, ctx.params.replayRows),
    'replay-small': (ctx, shared) => replay(ctx, shared, shared.smallCsv, ctx.params.smallReplayRows),
    'producer-hot-shard': (ctx) => producerHotShard(ctx),
    'producer-hot-shard-buffer-10000': (ctx) => producerHotShard(ctx, 10_000),
  },
  figures: [
    {
      name: 'records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'producer-direct',
      baseline: 'bare-put-records',
      description: 'direct Kinesis transport vs full 500-record PutRecords calls (target ≥ 0.9×)',
    },
    {
      name: 'cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'producer-direct',
      baseline: 'bare-put-records',
    },
    {
      name: 'client_peak_rss_mib',
      unit: 'MiB',
      better: 'lower',
      from: 'producer-direct',
      baseline: 'bare-put-records',
      description: 'peak RSS of the client process (whole process life, events held as objects in both)',
    },
    {
      name: 'http_client_peak_rss_mib',
      unit: 'MiB',
      better: 'lower',
      from: 'producer-http',
      metric: 'client_peak_rss_mib',
      baseline: 'producer-direct',
      baselineMetric: 'client_peak_rss_mib',
    },
    {
      name: 'buffer_10000_cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'producer-direct-buffer-10000',
      metric: 'cpu_us_per_record',
      baseline: 'bare-put-records',
      description:
        'NOT the headline: producer-direct with maxBufferedRecords 10000 (the former default) instead of the default (4 + 1) x 500 = 2500',
    },
    {
      name: 'buffer_10000_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'producer-direct-buffer-10000',
      metric: 'records_per_s',
      baseline: 'bare-put-records',
    },
    {
      name: 'buffer_10000_client_peak_rss_mib',
      unit: 'MiB',
      better: 'lower',
      from: 'producer-direct-buffer-10000',
      metric: 'client_peak_rss_mib',
      baseline: 'bare-put-records',
    },
    { name: 'gateway_peak_rss_mib', unit: 'MiB', better: 'lower', from: 'producer-http', baseline: null },
    {
      name: 'http_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'producer-http',
      metric: 'records_per_s',
      baseline: 'producer-direct',
      baselineMetric: 'records_per_s',
    },
    {
      name: 'gateway_requests_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'producer-http',
      baseline: 'producer-direct',
      baselineMetric: 'requests_per_s',
      description:
        'POST /v1/events answered per second vs the direct transport’s PutRecords calls per second',
    },
    {
      name: 'http_client_cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'producer-http',
      metric: 'cpu_us_per_record',
      baseline: 'producer-direct',
      baselineMetric: 'cpu_us_per_record',
    },
    { name: 'gateway_cpu_percent', unit: '%', better: 'lower', from: 'producer-http', baseline: null },
    {
      name: 'http_emulator_cpu_percent',
      unit: '%',
      better: 'higher',
      from: 'producer-http',
      metric: 'emulator_cpu_percent',
      baseline: 'producer-direct',
      baselineMetric: 'emulator_cpu_percent',
    },
    { name: 'gateway_cpu_us_per_record', unit: 'us', better: 'lower', from: 'producer-http', baseline: null },
    {
      name: 'naive_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'naive-put-record',
      metric: 'records_per_s',
      baseline: 'producer-direct',
      baselineMetric: 'records_per_s',
      description: 'one PutRecord per event; 1 / ratio is the producer’s speed-up',
    },
    {
      name: 'replay_peak_rss_mib',
      unit: 'MiB',
      better: 'lower',
      from: 'replay-large',
      baseline: 'replay-small',
      description: 'peak RSS of shardline-produce replay: 1,000,000 rows vs 100,000 (ratio ≈ 1: flat)',
    },
    { name: 'replay_rss_growth_mib', unit: 'MiB', better: 'lower', from: 'replay-large', baseline: null },
    {
      name: 'hot_shard_limit_use',
      unit: 'ratio',
      better: 'higher',
      from: 'producer-hot-shard',
      baseline: 'producer-hot-shard-buffer-10000',
      description:
        'partly throttled stream: the hot shard\u2019s bound (its records at 1,000 per second) over the run\u2019s time (1 = the shard kept at its limit throughout); default buffer vs 10,000 records',
    },
    {
      name: 'hot_shard_records_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'producer-hot-shard',
      metric: 'records_per_s',
      baseline: 'producer-hot-shard-buffer-10000',
      baselineMetric: 'records_per_s',
    },
    {
      name: 'hot_shard_delivery_p99_ms',
      unit: 'ms',
      better: 'lower',
      from: 'producer-hot-shard',
      metric: 'delivery_p99_ms',
      baseline: 'producer-hot-shard-buffer-10000',
      baselineMetric: 'delivery_p99_ms',
      description: 'enqueue resolved → result settled, 99th percentile',
    },
    {
      name: 'hot_shard_throttled_entries_per_record',
      unit: 'ratio',
      better: 'lower',
      from: 'producer-hot-shard',
      metric: 'throttled_entries_per_record',
      baseline: 'producer-hot-shard-buffer-10000',
      baselineMetric: 'throttled_entries_per_record',
    },
    {
      name: 'hot_shard_client_peak_rss_mib',
      unit: 'MiB',
      better: 'lower',
      from: 'producer-hot-shard',
      metric: 'client_peak_rss_mib',
      baseline: 'producer-hot-shard-buffer-10000',
      baselineMetric: 'client_peak_rss_mib',
    },
    {
      name: 'replay_rows_per_s',
      unit: '1/s',
      better: 'higher',
      from: 'replay-large',
      baseline: 'replay-small',
    },
  ],
  notes: [
    'Every contender writes to a fresh 4-shard stream and is read back (record count and distinct event ids) before the round goes on.',
    'All records are the ingest envelope {"eventId","receivedAt","data"} of a sample event (about 400 bytes), built from the event object inside every contender’s measured span: the loops with one plain JSON.stringify per record, the producer with its validated encoder.',
    'The bare loop and the producer keep 4 requests in flight (the producer’s default); the naive loop awaits each PutRecord.',
    'HTTP: the gateway runs in its own process (startIngestGateway), the client is the producer’s httpTransport; kinesalite, gateway and client share the 2 cores.',
    'CPU percent is % of one core between the client’s first and last record, from /proc of the gateway and kinesalite processes.',
    'client_peak_rss_mib / gateway_peak_rss_mib: the process’s peak RSS over its whole life (getrusage maxRSS), the 200,000 event objects of the feeding loop included.',
    `producer-hot-shard*: ${HOT_PERCENT} % of the events have partition keys of one shard; PutRecords is answered in the contender's process by a model of the per-shard write limits (1,000 records and 1 MiB per second, ProvisionedThroughputExceededException per record beyond them) after a 20 ms round trip; every event is checked against the model's ledger (accepted once, none dead-lettered).`,
    'replay_*: shardline-produce replay (the built dist/main.js, Node start-up included) of a CSV generated from the sample rows, --stream, partitioned by user_session; RSS sampled from /proc every 100 ms; growth = max RSS of the last quarter of the run minus that of the second quarter.',
  ],
});
