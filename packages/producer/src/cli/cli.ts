import { basename } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { ConfigurationError, integerArgument, kinesisRequestHandler } from '@shardline/common';
import { createMetricsExporter, type MetricsExporterOptions, parseMetricsFlag } from '@shardline/metrics';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DestinationError } from '../errors.js';
import { INGEST_LIMITS } from '../internal/ingest.js';
import { httpTransport } from '../transport/http/httpTransport.js';
import { kinesisTransport } from '../transport/kinesis/kinesisTransport.js';
import type { Transport } from '../transport/Transport.js';
import { DestinationFailingError } from './DestinationHealth.js';
import { JournalError } from './Journal.js';
import { ProgressMode } from './Progress.js';
import { CsvHeaderError } from './readCsv.js';
import { type ReplaySummary, replayCsv } from './replay.js';
import { EventTimeFormat, FieldType, RowMappingError } from './rowMapping.js';

/** Exit codes of `shardline-produce` (the README lists them). */
export const ExitCode = {
  /** Every row acknowledged. */
  Ok: 0,
  /** Some row was rejected or dead-lettered, or the run failed otherwise. */
  Incomplete: 1,
  /** Bad flags or flags that do not match the file's header. */
  Usage: 2,
  /** The destination check failed before anything was sent: missing stream or route, refused key or credentials, unreachable. */
  DestinationUnavailable: 3,
  /** The journal could not be written: the replay stopped (a rerun sends the unjournaled rows again). */
  JournalFailed: 4,
  /** Every request failed for `--max-failing-ms`: the replay stopped, naming the cause. */
  DestinationFailing: 5,
  /** Interrupted (SIGINT): what was buffered was sent and the journal written. */
  Interrupted: 130,
  /** Terminated (SIGTERM): as SIGINT. */
  Terminated: 143,
} as const;

class UsageError extends Error {}

const invalidArgument = (message: string): never => {
  throw new InvalidArgumentError(message);
};
const positiveInteger = integerArgument(1, invalidArgument);
const nonNegativeInteger = integerArgument(0, invalidArgument);
function metricsExporter(value: string): MetricsExporterOptions {
  try {
    return parseMetricsFlag(value);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new InvalidArgumentError(error.problems.map((p) => p.message).join('; '));
    }
    throw error;
  }
}
function rate(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(value);
  const n = m === null ? Number.NaN : Number(m[1]);
  if (!(n > 0))
    throw new InvalidArgumentError('must be a positive number of records per second, e.g. 200 or 200/s');
  return n;
}
function positiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
}
function pair(what: string) {
  return (value: string, previous: [string, string][] = []): [string, string][] => {
    const i = value.indexOf('=');
    if (i <= 0 || i === value.length - 1) throw new InvalidArgumentError(`'${value}' is not ${what}`);
    return [...previous, [value.slice(0, i), value.slice(i + 1)]];
  };
}
function url(value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value;
  } catch {}
  throw new InvalidArgumentError('must be an http(s) URL');
}

/** Flags of `replay`. */
export interface ReplayFlags {
  metrics?: MetricsExporterOptions;
  url?: string;
  apiKey?: string;
  gzip?: boolean;
  stream?: string;
  endpointUrl?: string;
  region?: string;
  map?: [string, string][];
  type?: [string, string][];
  partitionKey?: string;
  eventTime?: string;
  eventTimeFormat: EventTimeFormat;
  rate?: number;
  speed?: number;
  journal?: string;
  rejects?: string;
  deadLetters?: string;
  sourceId?: string;
  limit?: number;
  ordered?: boolean;
  aggregate?: boolean;
  concurrency?: number;
  lingerMs?: number;
  batchRecords?: number;
  progress: 'auto' | ProgressMode;
  progressIntervalMs: number;
  maxRecordBytes: number;
  maxFailingMs: number;
  requestTimeoutMs: number;
  check: boolean;
}

/**
 * Crash points for tests, given through {@link CliContext} by a test-only entry point; the shipped
 * entry point (main.ts) passes none and reads no environment variable for them.
 */
export interface CliHooks {
  /** Called before each journal write with (acknowledged, journaled) rows; may hang or throw. */
  readonly beforeJournalWrite?: (ackedRows: number, journaledRows: number) => Promise<void> | void;
}

/** What the CLI takes from its process; injectable for tests. */
export interface CliContext extends CliHooks {
  readonly env: NodeJS.ProcessEnv;
  readonly isTty: boolean;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Stops the replay gracefully; a reason with a numeric `exitCode` sets the exit code. */
  readonly signal?: AbortSignal;
}

/** Checks flags that depend on each other; builds the transport (reading AWS_* variables). @throws UsageError */
export function transportFromFlags(flags: ReplayFlags, env: NodeJS.ProcessEnv): Transport {
  const isHttp = flags.url !== undefined;
  const isKinesis = flags.stream !== undefined;
  if (isHttp === isKinesis) throw new UsageError('give either --url (with --api-key) or --stream');
  if (isHttp) {
    const apiKey = flags.apiKey ?? env.SHARDLINE_INGEST_API_KEY;
    if (apiKey === undefined || apiKey === '')
      throw new UsageError('--url needs --api-key (or SHARDLINE_INGEST_API_KEY)');
    for (const flag of ['endpointUrl', 'region', 'aggregate'] as const) {
      if (flags[flag] !== undefined)
        throw new UsageError(
          `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --stream only`,
        );
    }
    return httpTransport({
      url: flags.url!,
      apiKey,
      gzip: flags.gzip ?? false,
      timeoutMs: flags.requestTimeoutMs,
    });
  }
  if (flags.apiKey !== undefined || flags.gzip !== undefined)
    throw new UsageError('--api-key and --gzip apply to --url only');
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined || region === '')
    throw new UsageError('--stream needs a region: --region or AWS_REGION');
  const endpoint = flags.endpointUrl ?? env.AWS_ENDPOINT_URL_KINESIS ?? env.AWS_ENDPOINT_URL;
  const client = new KinesisClient({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    // HTTP/2 for AWS (the SDK's own choice for Kinesis), HTTP/1.1 for a local endpoint: kinesalite
    // cannot speak HTTP/2.
    requestHandler: kinesisRequestHandler({
      endpoint,
      http1Handler: NodeHttpHandler,
      http2Handler: NodeHttp2Handler,
    }),
  });
  return kinesisTransport({
    client,
    streamName: flags.stream!,
    aggregation: flags.aggregate ?? false,
    requestTimeoutMs: flags.requestTimeoutMs,
  });
}

function validate(flags: ReplayFlags): void {
  if (flags.rate !== undefined && flags.speed !== undefined)
    throw new UsageError('--rate and --speed exclude each other');
  if (flags.speed !== undefined && flags.eventTime === undefined)
    throw new UsageError('--speed needs --event-time <column>');
  for (const [, type] of flags.type ?? []) {
    if (!Object.values(FieldType).includes(type as FieldType)) {
      throw new UsageError(`--type: '${type}' is not one of ${Object.values(FieldType).join(', ')}`);
    }
  }
  const fields = new Set((flags.map ?? []).map(([, f]) => f));
  if (fields.size !== (flags.map ?? []).length)
    throw new UsageError('--map gives two columns the same field name');
}

function summaryText(s: ReplaySummary): string {
  const rate = s.elapsedMs > 0 ? Math.round((s.acked * 1000) / s.elapsedMs) : 0;
  const lines = [
    `replay ${s.isComplete ? 'complete' : 'INCOMPLETE'}: ${s.file}`,
    `  rows read     ${s.rows}`,
    `  acknowledged  ${s.acked} (this run)`,
    `  skipped       ${s.skipped} (acknowledged in an earlier run, per the journal)`,
    `  rejected      ${s.rejected}${s.rejectsPath ? ` -> ${s.rejectsPath}` : ''}`,
    `  dead letters  ${s.deadLettered}${s.deadLettersPath ? ` -> ${s.deadLettersPath}` : ''}`,
    `  retries       ${s.retries} (throttled ${s.throttles})`,
    `  elapsed       ${(s.elapsedMs / 1000).toFixed(1)} s, ${rate} rows/s`,
    `  source id     ${s.sourceId}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The `shardline-produce` command; `run` resolves with the exit code. */
export function buildCli(context: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command('shardline-produce')
    .description('Send events to Kinesis, directly or through the Shardline ingest API.')
    .showHelpAfterError()
    .configureOutput({ writeOut: context.stdout, writeErr: context.stderr })
    .exitOverride();
  program
    .command('replay')
    .description('replay a CSV event log: one event per row, with a deterministic eventId')
    .argument('<file.csv>', 'the CSV file (UTF-8, header line first)')
    .option('--url <url>', 'the ingest API base URL (POST <url>/v1/events)', url)
    .option('--api-key <key>', 'the ingest API key (default: $SHARDLINE_INGEST_API_KEY)')
    .option('--gzip', 'compress requests to the ingest API')
    .option('--stream <name>', 'write to this Kinesis stream directly (PutRecords)')
    .option('--endpoint-url <url>', 'Kinesis endpoint (default: $AWS_ENDPOINT_URL_KINESIS, else AWS)', url)
    .option('--region <region>', 'AWS region (default: $AWS_REGION)')
    .option(
      '--map <column=field>',
      'send this column as this field (repeatable; when given, only mapped columns are sent)',
      pair('<column=field>'),
    )
    .option(
      '--type <field=type>',
      'convert a field: string (default), number or boolean (repeatable)',
      pair('<field=type>'),
    )
    .option(
      '--partition-key <column>',
      'the column holding the partition key (default: the eventId, spreading rows)',
    )
    .option(
      '--event-time <column>',
      'the column holding the event time (checked on every row; used by --speed)',
    )
    .addOption(
      new Option('--event-time-format <format>', 'format of --event-time')
        .choices(Object.values(EventTimeFormat))
        .default(EventTimeFormat.Iso),
    )
    .option('--rate <n/s>', 'send at most n rows per second', rate)
    .option('--speed <x>', 'replay at the original event times, x times faster', positiveNumber)
    .option('--journal <file>', 'record acknowledged rows here; a rerun resumes without skipping any row')
    .option(
      '--rejects <file>',
      'unparsable rows, with physical line and reason (default: ./<name>.rejects.jsonl)',
    )
    .option(
      '--dead-letters <file>',
      'rows that could not be delivered (default: ./<name>.dead-letters.jsonl)',
    )
    .option('--source-id <id>', "the source's identity in event ids (default: SHA-256 of the file)")
    .option('--limit <rows>', 'stop after this many data rows', positiveInteger)
    .option('--ordered', 'keep the order of rows with the same partition key')
    .option('--aggregate', 'KPL-aggregate records bound for the same shard (--stream only)')
    .option('--concurrency <n>', 'requests in flight (default: 4)', positiveInteger)
    .option('--linger-ms <ms>', 'how long a batch may wait to fill (default: 50)', nonNegativeInteger)
    .option('--batch-records <n>', 'records per request (default and maximum: 500)', positiveInteger)
    .addOption(
      new Option('--progress <mode>', 'progress display')
        .choices(['auto', 'bar', 'lines', 'none'])
        .default('auto'),
    )
    .option('--progress-interval-ms <ms>', 'interval of plain progress lines', positiveInteger, 5_000)
    .option(
      '--max-record-bytes <n>',
      'a CSV record longer than this goes to the rejects file (default: 1048576, the ingest record limit)',
      positiveInteger,
      INGEST_LIMITS.maxRecordBytes,
    )
    .option(
      '--max-failing-ms <ms>',
      'stop, naming the cause, when every request has failed for this long (default: 60000)',
      positiveInteger,
      60_000,
    )
    .option(
      '--request-timeout-ms <ms>',
      'deadline of one request; past it the request is aborted and retried (default: 30000)',
      positiveInteger,
      30_000,
    )
    .option(
      '--metrics <exporter>',
      'publish metrics: prometheus:<port> (GET /metrics), prometheus:<host>:<port>, emf (CloudWatch embedded metric format on stdout) or emf:<namespace>',
      metricsExporter,
    )
    .option('--no-check', 'skip the check of the destination (stream or ingest API) before sending')
    .action(async (file: string, flags: ReplayFlags) => {
      validate(flags);
      const transport = transportFromFlags(flags, context.env);
      const name = basename(file).replace(/\.csv$/i, '');
      // Metrics run for the whole replay; the last EMF flush (at shutdown) holds the final counts. An
      // exporter failure (port in use, stdout closed) is reported on stderr and the replay goes on.
      const metrics =
        flags.metrics === undefined
          ? undefined
          : createMetricsExporter(
              flags.metrics.kind === 'emf' ? { ...flags.metrics, write: context.stdout } : flags.metrics,
            );
      if (metrics) context.stderr(`shardline-produce: metrics: ${metrics.description}\n`);
      const summary = await replayCsv({
        file,
        transport,
        mapping: {
          fields: new Map(flags.map ?? []),
          types: new Map((flags.type ?? []) as [string, FieldType][]),
          partitionKeyColumn: flags.partitionKey,
          eventTimeColumn: flags.eventTime,
          eventTimeFormat: flags.eventTimeFormat,
        },
        producer: {
          ordered: flags.ordered ?? false,
          ...(metrics === undefined ? {} : { meterProvider: metrics.meterProvider }),
          ...(flags.concurrency === undefined ? {} : { maxConcurrentRequests: flags.concurrency }),
          ...(flags.lingerMs === undefined ? {} : { lingerMs: flags.lingerMs }),
          ...(flags.batchRecords === undefined
            ? {}
            : { maxBatchRecords: Math.min(flags.batchRecords, transport.limits.maxRecordsPerRequest) }),
        },
        journalPath: flags.journal,
        rejectsPath: flags.rejects ?? `${name}.rejects.jsonl`,
        deadLettersPath: flags.deadLetters ?? `${name}.dead-letters.jsonl`,
        ratePerSecond: flags.rate,
        speed: flags.speed,
        limitRows: flags.limit,
        sourceId: flags.sourceId,
        progress:
          flags.progress === 'auto'
            ? context.isTty
              ? ProgressMode.Bar
              : ProgressMode.Lines
            : flags.progress,
        progressIntervalMs: flags.progressIntervalMs,
        signal: context.signal,
        maxRecordBytes: flags.maxRecordBytes,
        maxFailingMs: flags.maxFailingMs,
        checkDestination: flags.check,
        beforeJournalWrite: context.beforeJournalWrite,
      }).finally(() => metrics?.shutdown());
      context.stdout(summaryText(summary));
      if (summary.failure instanceof JournalError) {
        context.stderr(
          `shardline-produce: stopped: ${summary.failure.message}; rows acknowledged since its last write are not in it, and a rerun sends them again (same event ids)\n`,
        );
        setExitCode(ExitCode.JournalFailed);
      } else if (summary.failure instanceof DestinationFailingError) {
        context.stderr(`shardline-produce: stopped: ${summary.failure.message}\n`);
        setExitCode(ExitCode.DestinationFailing);
      } else if (context.signal?.aborted) {
        const code = (context.signal.reason as { exitCode?: unknown } | undefined)?.exitCode;
        setExitCode(typeof code === 'number' ? code : ExitCode.Interrupted);
      } else {
        setExitCode(summary.isComplete ? ExitCode.Ok : ExitCode.Incomplete);
      }
    });
  return program;
}

/** Runs the CLI with `argv` (user arguments only); resolves with the exit code. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  let code: number = ExitCode.Ok;
  const program = buildCli(context, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0
        ? ExitCode.Ok
        : ExitCode.Usage;
    }
    if (error instanceof UsageError || error instanceof RowMappingError) {
      context.stderr(`shardline-produce: ${error.message}\n(see shardline-produce replay --help)\n`);
      return ExitCode.Usage;
    }
    if (error instanceof DestinationError) {
      context.stderr(`shardline-produce: ${error.message}; nothing was sent\n`);
      return ExitCode.DestinationUnavailable;
    }
    if (error instanceof JournalError) {
      context.stderr(`shardline-produce: ${error.message}\n`);
      return ExitCode.JournalFailed;
    }
    if (error instanceof CsvHeaderError) {
      context.stderr(`shardline-produce: ${error.message}\n`);
      return ExitCode.Incomplete;
    }
    context.stderr(`shardline-produce: ${(error as Error)?.stack ?? String(error)}\n`);
    return ExitCode.Incomplete;
  }
}
