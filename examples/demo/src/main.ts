// `pnpm demo`: the reference pipeline on the local twin, end to end. Starts Kinesis, DynamoDB, S3 and the
// ingest API; two s3-sink workers and the live-metrics app as separate processes; replays the e-commerce
// sample through the ingest API with the producer CLI; waits until the archive holds every event and
// checks it by reading the S3 objects themselves; prints a summary ending with one JSON line.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { type LocalTwin, startLocalTwin } from '@shardline/local';
import { type ArchiveFormat, readArchive, SAMPLE_NUMBER_FIELDS, SAMPLE_PARQUET_SCHEMA } from './archive.js';
import { readStreamEventIds } from './ledger.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const sampleCsv = join(repoRoot, 'data/ecommerce-events-2019-10-sample.csv');
const STREAM = 'events';
const BUCKET = 'shardline-archive';
const SINK_APP = 'demo-archive';

const USAGE = `usage: pnpm demo [--events N] [--rate N/s] [--chaos] [--format json|parquet] [--keep] [--timeout-s S]
  --events N     also send N more events, derived from the sample rows (new sessions and ids)
  --rate N/s     pace the replay (default: as fast as the pipeline takes it)
  --chaos        SIGKILL one s3-sink worker mid-replay: the other takes over its shards
  --format F     archive format: json (JSON lines, gzip; the default) or parquet (columns from the
                 sample's schema, snappy pages; read back with DuckDB)
  --keep         leave the pipeline running afterwards and say how to look at it (Ctrl-C stops it)
  --timeout-s S  give up waiting for the archive after S seconds (default 90)`;

interface DemoFlags {
  readonly extraEvents: number;
  readonly rate: string | undefined;
  readonly chaos: boolean;
  readonly format: ArchiveFormat;
  readonly keep: boolean;
  readonly timeoutMs: number;
}

function parseFlags(argv: string[]): DemoFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      rate: { type: 'string' },
      chaos: { type: 'boolean', default: false },
      format: { type: 'string', default: 'json' },
      keep: { type: 'boolean', default: false },
      'timeout-s': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  const extraEvents = Number(values.events ?? 0);
  if (!Number.isSafeInteger(extraEvents) || extraEvents < 0)
    problems.push('--events must be a whole number ≥ 0');
  if (values.rate !== undefined && !/^\d+(\.\d+)?(\/s)?$/.test(values.rate))
    problems.push('--rate must look like 200/s');
  const timeoutS = Number(values['timeout-s'] ?? 90);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) problems.push('--timeout-s must be a positive number');
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'parquet') problems.push('--format must be json or parquet');
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    extraEvents,
    rate: values.rate,
    chaos: values.chaos ?? false,
    format: format as ArchiveFormat,
    keep: values.keep ?? false,
    timeoutMs: timeoutS * 1_000,
  };
}

class UsageError extends Error {}

/** The sample rows, plus `extra` rows made from them with new sessions and times (new event ids). */
function buildInput(runDir: string, extra: number): { file: string; rows: number } {
  if (extra === 0)
    return { file: sampleCsv, rows: readFileSync(sampleCsv, 'utf8').trim().split('\n').length - 1 };
  const [header, ...rows] = readFileSync(sampleCsv, 'utf8').trim().split('\n');
  const columns = header!.split(',');
  const session = columns.indexOf('user_session');
  const lines = [header!, ...rows];
  for (let i = 0; i < extra; i++) {
    const values = rows[i % rows.length]!.split(',');
    values[session] = `${values[session]}-r${Math.floor(i / rows.length) + 1}`;
    lines.push(values.join(','));
  }
  const file = join(runDir, 'input.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, rows: rows.length + extra };
}

function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@shardline/source', '--import', 'tsx', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.once('exit', (code, signal) => log.write(`\n[${name} exited: ${signal ?? code}]\n`));
  return child;
}

function startSink(stack: LocalTwin, workerId: string, runDir: string, format: ArchiveFormat): ChildProcess {
  return startProcess(
    workerId,
    [
      'packages/s3-sink/src/main.ts',
      ...['--stream', STREAM, '--bucket', BUCKET, '--app', SINK_APP, '--worker-id', workerId],
      ...(format === 'parquet'
        ? ['--format', 'parquet', '--schema', writeSampleSchema(runDir)]
        : ['--compression', 'gzip']),
      // Short buffers and failover so that the demo finishes in seconds (Firehose's defaults: 5 MiB, 300 s).
      ...[
        '--buffer-interval-ms',
        '2000',
        '--failover-time-ms',
        '5000',
        '--idle-time-between-reads-ms',
        '250',
      ],
    ],
    stack.env,
    join(runDir, 'logs', `${workerId}.log`),
  );
}

/** Writes the sample's Parquet schema for the sink's `--schema` flag; returns its path. */
function writeSampleSchema(runDir: string): string {
  const file = join(runDir, 'parquet-schema.json');
  writeFileSync(file, `${JSON.stringify(SAMPLE_PARQUET_SCHEMA, null, 2)}\n`);
  return file;
}

async function stopProcess(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(timeoutMs, false)])) === false) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function leaseOwners(stack: LocalTwin): Promise<Map<string, string[]>> {
  const owners = new Map<string, string[]>();
  const { Items = [] } = await stack.dynamodb.send(
    new ScanCommand({ TableName: SINK_APP, ConsistentRead: true }),
  );
  for (const item of Items) {
    const owner = item.leaseOwner?.S ?? '(released)';
    owners.set(owner, [...(owners.get(owner) ?? []), item.leaseKey?.S ?? '?']);
  }
  return owners;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const started = Date.now();
  const runDir = join(repoRoot, '.shardline', 'demo', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const say = (text: string) =>
    console.log(`[demo ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);

  say('starting the local twin: Kinesis, DynamoDB, S3 and the ingest API (4-shard stream "events")');
  const stack = await startLocalTwin({
    dataDir: join(runDir, 'twin'),
    gateway: { streamName: STREAM, shardCount: 4 },
  });
  const children: ChildProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      await Promise.allSettled(children.map((child) => stopProcess(child)));
      await stack.stop();
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  try {
    await stack.createBucket(BUCKET);
    const ingest = stack.info.ingest!;
    say(`ingest API at ${ingest.url} (x-api-key ${ingest.apiKey})`);

    say('starting two s3-sink workers and the live-metrics app (separate processes)');
    const sinks = [
      startSink(stack, 'sink-1', runDir, flags.format),
      startSink(stack, 'sink-2', runDir, flags.format),
    ];
    children.push(...sinks);
    const metricsLog = join(runDir, 'logs', 'live-metrics.log');
    children.push(
      startProcess(
        'live-metrics',
        ['examples/live-metrics/src/main.ts'],
        {
          ...stack.env,
          SHARDLINE_STREAM: STREAM,
          SHARDLINE_APP: 'demo-live-metrics',
          SHARDLINE_REFRESH_MS: '1000',
        },
        metricsLog,
      ),
    );

    const input = buildInput(runDir, flags.extraEvents);
    say(`replaying ${input.rows} events from ${relative(repoRoot, input.file)} through the ingest API`);
    const replayArgs = [
      'packages/producer/src/main.ts',
      'replay',
      input.file,
      ...['--url', ingest.url, '--partition-key', 'user_session', '--event-time', 'event_time'],
      ...['--journal', join(runDir, 'replay.journal'), '--rejects', join(runDir, 'rejects.jsonl')],
      ...(flags.rate ? ['--rate', flags.rate.endsWith('/s') ? flags.rate : `${flags.rate}/s`] : []),
      // Parquet columns are typed: the numeric columns are sent as JSON numbers (category_id holds
      // integers beyond 2^53, written exactly into INT64).
      ...(flags.format === 'parquet'
        ? SAMPLE_NUMBER_FIELDS.flatMap((field) => ['--type', `${field}=number`])
        : []),
    ];
    const replay = spawn(
      process.execPath,
      ['--conditions=@shardline/source', '--import', 'tsx', ...replayArgs],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'], // progress on stderr, straight to the terminal
        env: { ...process.env, SHARDLINE_INGEST_API_KEY: ingest.apiKey },
      },
    );
    let replayOut = '';
    replay.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      replayOut += chunk;
      process.stdout.write(chunk);
    });
    const replayExit = new Promise<number | null>((resolve) => replay.once('exit', (code) => resolve(code)));
    if (flags.chaos) {
      // Kill a worker that holds shards: the other takes them once their leases expire. The lease table
      // appears once a sink has checked its destinations and started (slow on a busy machine).
      const waitUntil = Date.now() + 60_000;
      while (
        !(await leaseOwners(stack).catch(() => new Map())).get('sink-1')?.length &&
        Date.now() < waitUntil
      ) {
        await sleep(200);
      }
      const held = (await leaseOwners(stack).catch(() => new Map<string, string[]>())).get('sink-1') ?? [];
      say(
        `chaos: SIGKILL sink-1 (holding ${held.join(', ') || 'no shard'}); sink-2 takes over after the failover time (5 s)`,
      );
      sinks[0]!.kill('SIGKILL');
    }
    const replayCode = await replayExit;
    const sent = Number(/acknowledged\s+(\d+)/.exec(replayOut)?.[1] ?? Number.NaN);
    if (replayCode !== 0) say(`the replay exited with ${replayCode}`);
    const replayDone = Date.now();

    say('waiting until the archive holds every event the stream received');
    const expected = await readStreamEventIds(stack.kinesis, STREAM);
    const deadline = Date.now() + flags.timeoutMs;
    let archive = await readArchive(stack.s3, BUCKET);
    while ([...expected].some((id) => !archive.eventIds.has(id)) && Date.now() < deadline) {
      await sleep(flags.format === 'parquet' ? 1_000 : 500);
      archive = await readArchive(stack.s3, BUCKET);
    }
    const lagMs = Date.now() - replayDone;
    const missing = [...expected].filter((id) => !archive.eventIds.has(id)).length;
    const duplicates = [...archive.eventIds.values()].reduce((sum, n) => sum + n - 1, 0);
    const owners = await leaseOwners(stack);

    const metricsBlocks = readFileSync(metricsLog, 'utf8').split('\n---\n');
    const lastMetrics = metricsBlocks.filter((b) => b.includes('live metrics:')).at(-1);
    const ok =
      replayCode === 0 &&
      sent === expected.size &&
      missing === 0 &&
      duplicates === 0 &&
      archive.errorRecords === 0;
    console.log(
      [
        '',
        '──────── Shardline demo ────────',
        `events sent (acknowledged by the ingest API)  ${sent}`,
        `events in the stream (read back)              ${expected.size}`,
        `events archived in S3 (read from the objects) ${archive.eventIds.size}`,
        `duplicates in S3                              ${duplicates}`,
        `missing from S3                               ${missing}`,
        `objects                                       ${archive.objects} (${(archive.bytes / 1024).toFixed(1)} KiB, ${flags.format === 'parquet' ? 'Parquet, snappy pages; read back with DuckDB' : 'JSON lines, gzip'})`,
        `records in the error output                   ${archive.errorRecords}`,
        `archive lag after the last event was sent     ${(lagMs / 1000).toFixed(1)} s`,
        `shards per s3-sink worker                     ${[...owners].map(([w, s]) => `${w}: ${s.length}`).join(', ')}`,
        `S3 files on disk                              ${relative(process.cwd(), join(runDir, 'twin', 's3', BUCKET)) || '.'}`,
        `logs                                          ${relative(process.cwd(), join(runDir, 'logs'))}`,
        ok ? 'verified: every event is in S3 exactly once' : 'VERIFICATION FAILED',
        '',
        lastMetrics ? `live metrics, last refresh:\n${lastMetrics.trim()}\n` : '',
      ].join('\n'),
    );
    console.log(
      JSON.stringify({
        events_sent: sent,
        events_archived: archive.eventIds.size,
        format: flags.format,
        error_records: archive.errorRecords,
        duplicates,
        missing,
        elapsed_ms: Date.now() - started,
      }),
    );

    if (flags.keep) {
      console.log(
        [
          '',
          'The pipeline keeps running (Ctrl-C stops it). Look at it from another shell:',
          ...Object.entries(stack.env).map(([k, v]) => `  export ${k}=${v}`),
          `  ls -R ${join(runDir, 'twin', 's3', BUCKET)}`,
          `  curl -s ${ingest.url}/v1/events -H 'content-type: application/json' -H 'x-api-key: ${ingest.apiKey}' -d '{"records":[{"data":{"event_type":"view"}}]}'`,
          `  tail -f ${join(runDir, 'logs', 'live-metrics.log')}`,
        ].join('\n'),
      );
      await new Promise(() => {});
    }
    return ok ? 0 : 1;
  } finally {
    if (!flags.keep) await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
