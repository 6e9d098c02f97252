import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import type { MeterProvider } from '@opentelemetry/api';
import { integerArgument, kinesisRequestHandler } from '@shardline/common';
import type { InitialPosition, LeaseAssignmentMode } from '@shardline/consumer-core';
import { createMetricsExporter, type MetricsExporterOptions, parseMetricsFlag } from '@shardline/metrics';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { S3SinkOptions } from '../config/resolveS3SinkConfig.js';
import { ConfigurationError } from '../errors.js';
import type { ParquetSchemaSource } from '../objects/formats/parquetSchema.js';
import { TimeFieldFormat } from '../routing/eventTime.js';
import { createS3Sink } from '../S3Sink.js';
import type { S3SinkEvent, S3SinkHooks } from '../S3SinkEvents.js';
import { checkDestinations } from './checkDestinations.js';
import { addTransformFlags, type TransformFlags, transformFlagOptions } from './transformFlags.js';

/** Exit codes of `shardline-s3-sink` (the README lists them). */
export const ExitCode = {
  /** Stopped on request after a graceful stop. */
  Ok: 0,
  /** Failed to start for another reason than those below. */
  Failed: 1,
  /** Bad flags or options. */
  Usage: 2,
  /** The stream does not exist or cannot be read. */
  StreamUnavailable: 3,
  /** The lease table cannot be reached (forbidden, or DynamoDB does not answer). */
  LeaseTableUnavailable: 4,
  /** The bucket does not exist. */
  BucketMissing: 5,
  /** The bucket exists but cannot be written (forbidden, or S3 does not answer). */
  BucketNotWritable: 6,
  /** While running, no S3 write succeeded for `--max-s3-outage-ms` while writes kept failing. */
  S3Outage: 7,
} as const;

/** What the CLI needs from its process (injected, so tests run it in-process too). */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Aborted on SIGINT/SIGTERM: the sink stops gracefully. */
  readonly signal: AbortSignal;
  /**
   * Named points of the write path, for programs that embed the CLI (the crash tests use them). The
   * shipped binary passes none, and nothing in its environment can set them.
   */
  readonly hooks?: S3SinkHooks;
  /** Wraps the S3 client (fault injection by programs that embed the CLI; the binary passes none). */
  readonly wrapS3Client?: (client: S3Client) => S3Client;
}

const invalidArgument = (message: string): never => {
  throw new InvalidArgumentError(message);
};
const positiveInteger = integerArgument(1, invalidArgument);
const nonNegativeInteger = integerArgument(0, invalidArgument);
function port(value: string): number {
  const n = nonNegativeInteger(value);
  if (n > 65_535) invalidArgument('must be a port from 0 to 65535');
  return n;
}
function partitionKey(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0 || i === value.length - 1) throw new InvalidArgumentError(`'${value}' is not <name>=<query>`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}
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
function initialPosition(value: string): InitialPosition {
  if (value === 'TRIM_HORIZON' || value === 'LATEST') return value;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError('must be TRIM_HORIZON, LATEST or an ISO-8601 time');
  }
  return { atTimestamp: date };
}

interface Flags {
  metrics?: MetricsExporterOptions;
  stream?: string;
  streamArn?: string;
  bucket: string;
  app?: string;
  prefix?: string;
  errorPrefix?: string;
  partitionKey?: Record<string, string>;
  maxActivePartitions?: number;
  compression: 'none' | 'gzip';
  bufferSizeBytes?: number;
  bufferIntervalMs?: number;
  newline: boolean;
  recordContent?: 'envelope' | 'data';
  invalidRecords?: 'error-output' | 'archive';
  manifestPrefix?: string;
  manifests: boolean;
  uploadPartSizeBytes?: number;
  initialPosition?: InitialPosition;
  workerId?: string;
  failoverTimeMs?: number;
  idleTimeBetweenReadsMs?: number;
  fanOut?: string;
  leaseAssignment?: LeaseAssignmentMode;
  shutdownTimeoutMs?: number;
  s3RequestTimeoutMs?: number;
  maxS3OutageMs: number;
  writeCheck: boolean;
  region?: string;
  kinesisEndpoint?: string;
  dynamodbEndpoint?: string;
  s3Endpoint?: string;
  events: boolean;
  healthPort?: number;
  healthHost?: string;
  healthStalledShardMs?: number;
  // Event-time partitioning and Firehose-style queries
  timeField?: string;
  timeFieldFormat?: TimeFieldFormat;
  timeZone?: string;
  metadataExtractionQuery?: string;
  // Record format
  format: 'json' | 'parquet';
  schema?: string;
  schemaVersion?: string;
  parquetCompression?: 'snappy' | 'zstd';
  parquetRowGroupSize?: number;
}

/** Default of `--max-s3-outage-ms`. */
const DEFAULT_MAX_S3_OUTAGE_MS = 300_000;
/** The start check writes an empty object at `<this><app>` (overwritten at each start). */
const WRITE_CHECK_KEY_PREFIX = '.shardline-s3-sink/write-check/';
/** Deadline of each start check's call. */
const CHECK_TIMEOUT_MS = 10_000;

function program(): Command {
  // Transformation and record-count buffering: their own block (transformFlags.ts).
  return addTransformFlags(baseProgram());
}

function baseProgram(): Command {
  return (
    new Command('shardline-s3-sink')
      .description(
        'Archives a Kinesis stream to S3 like Firehose, with exactly-once objects. Runs until SIGINT/SIGTERM, then flushes its buffers and releases its leases.',
      )
      .exitOverride()
      .configureOutput({ writeOut: () => {}, writeErr: () => {} })
      .option('--stream <name>', 'the stream (or --stream-arn)')
      .option('--stream-arn <arn>', 'the stream, by ARN')
      .requiredOption('--bucket <name>', 'destination bucket')
      .option('--app <name>', 'application (lease table) name (default: <stream>-s3-sink)')
      .option('--prefix <template>', "key prefix, Firehose syntax (default: '' + yyyy/MM/dd/HH/)")
      .option('--error-prefix <template>', 'error output prefix (must contain !{firehose:error-output-type})')
      .option(
        '--partition-key <name=query>',
        'dynamic partitioning, e.g. type=data.event_type (repeatable)',
        partitionKey,
      )
      .option('--max-active-partitions <n>', 'partitions per buffer (default 500)', positiveInteger)
      .addOption(
        new Option('--compression <codec>', 'object compression').choices(['none', 'gzip']).default('none'),
      )
      .option('--buffer-size-bytes <n>', 'buffer size per shard (default 5 MiB)', positiveInteger)
      .option('--buffer-interval-ms <n>', 'buffer interval (default 300000)', nonNegativeInteger)
      .option('--no-newline', 'no newline after each record')
      .addOption(
        new Option('--record-content <what>', 'what is written per record').choices(['envelope', 'data']),
      )
      .addOption(
        new Option('--invalid-records <policy>', 'records that are not envelopes').choices([
          'error-output',
          'archive',
        ]),
      )
      .option('--manifest-prefix <prefix>', "where manifests go (default 'manifests/')")
      .option('--no-manifests', 'write no manifests')
      .option('--upload-part-size-bytes <n>', 'multipart part size (default 8 MiB)', positiveInteger)
      .option('--initial-position <pos>', 'TRIM_HORIZON (default), LATEST or an ISO time', initialPosition)
      .option('--worker-id <id>', 'this worker id in the lease table')
      .option('--failover-time-ms <n>', 'lease failover time (default 10000)', positiveInteger)
      .option(
        '--idle-time-between-reads-ms <n>',
        'polling: wait after an empty read (default 1000)',
        nonNegativeInteger,
      )
      .option(
        '--fan-out <consumerName>',
        'read with enhanced fan-out through this registered stream consumer (registered at start if missing; billed per shard-hour) instead of polling',
      )
      .addOption(
        new Option(
          '--lease-assignment <mode>',
          "how the application's workers share the leases: worker (default; each lists the lease table, KCL 2.x) or leader (an elected worker assigns them, the others query the table's leaseOwner index; KCL 3.x). Every worker of the application must use the same mode",
        ).choices(['worker', 'leader']),
      )
      .option(
        '--shutdown-timeout-ms <n>',
        'how long a stop waits for the last writes (default 20000)',
        nonNegativeInteger,
      )
      .option(
        '--s3-request-timeout-ms <n>',
        'deadline of each S3 request, then it is retried (default 60000)',
        positiveInteger,
      )
      .option(
        '--max-s3-outage-ms <n>',
        `exit (code ${ExitCode.S3Outage}) when no S3 write succeeds for this long while writes keep failing (0: never)`,
        nonNegativeInteger,
        DEFAULT_MAX_S3_OUTAGE_MS,
      )
      .option('--no-write-check', `do not write the ${WRITE_CHECK_KEY_PREFIX}<app> object at start`)
      .option('--region <region>', 'AWS region (default: $AWS_REGION)')
      .option('--kinesis-endpoint <url>', 'Kinesis endpoint (default: $AWS_ENDPOINT_URL_KINESIS, else AWS)')
      .option(
        '--dynamodb-endpoint <url>',
        'DynamoDB endpoint (default: $AWS_ENDPOINT_URL_DYNAMODB, else AWS)',
      )
      .option('--s3-endpoint <url>', 'S3 endpoint, path-style (default: $AWS_ENDPOINT_URL_S3, else AWS)')
      .option('--events', 'print every sink event as a JSON line on stdout')
      .option(
        '--health-port <n>',
        'serve /healthz (container health check: event loop, lease renewals) and /readyz (adds stalled shards) on this port (default: off)',
        port,
      )
      .option(
        '--health-host <address>',
        "address of the health endpoints (default 127.0.0.1; '0.0.0.0' in a container probed over the network)",
      )
      .option(
        '--health-stalled-shard-ms <n>',
        '/readyz lists a shard with records waiting and none written for this long (default: 2 × buffer interval + 60 s, at least 300000)',
        positiveInteger,
      )
      .option(
        '--metrics <exporter>',
        'publish metrics: prometheus:<port> (GET /metrics), prometheus:<host>:<port>, emf (CloudWatch embedded metric format on stdout) or emf:<namespace>',
        metricsExporter,
      )
      // Event-time partitioning and Firehose-style queries
      .option(
        '--time-field <query>',
        "partition by each record's own time: the field holding it, e.g. data.event_time or receivedAt (default: arrival time)",
      )
      .addOption(
        new Option(
          '--time-field-format <format>',
          'how --time-field is read (default auto: ISO 8601 strings; numbers below 1e11 epoch seconds, else epoch milliseconds)',
        ).choices(Object.values(TimeFieldFormat)),
      )
      .option('--time-zone <zone>', 'IANA time zone of the times in the prefixes (default UTC)')
      .option(
        '--metadata-extraction-query <jq>',
        "Firehose dynamic partitioning query on the event as sent, e.g. '{event_type: .event_type, country: .user.country}' (paths only)",
      )
      // Record format
      .addOption(
        new Option('--format <format>', 'format of data objects (the error output is always JSON lines)')
          .choices(['json', 'parquet'])
          .default('json'),
      )
      .option(
        '--schema <file>',
        'Parquet: a JSON file holding the column list ([{"name","type","nullable"?}]) or a JSON Schema object',
      )
      .option(
        '--schema-version <version>',
        'Parquet: schema version in object names (default: a hash of the schema)',
      )
      .addOption(
        new Option(
          '--parquet-compression <codec>',
          'Parquet page compression (default snappy; zstd: Node ≥ 22.15)',
        ).choices(['snappy', 'zstd']),
      )
      .option(
        '--parquet-row-group-size <n>',
        'Parquet: most rows per row group (default: one per object)',
        positiveInteger,
      )
  );
}

/** The record format options of the flags, or a usage problem. */
function recordFormatOptions(flags: Flags): Pick<S3SinkOptions, 'format' | 'parquet'> | string {
  const parquetFlags = [
    ['--schema', flags.schema],
    ['--schema-version', flags.schemaVersion],
    ['--parquet-compression', flags.parquetCompression],
    ['--parquet-row-group-size', flags.parquetRowGroupSize],
  ].filter(([, value]) => value !== undefined);
  if (flags.format !== 'parquet') {
    return parquetFlags.length === 0
      ? { format: 'json' }
      : `${parquetFlags.map(([name]) => name).join(', ')} need --format parquet`;
  }
  if (flags.schema === undefined) return '--format parquet needs --schema <file>';
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(flags.schema, 'utf8'));
  } catch (error) {
    return `--schema ${flags.schema}: ${(error as Error).message}`;
  }
  return {
    format: 'parquet',
    parquet: {
      schema: schema as ParquetSchemaSource,
      schemaVersion: flags.schemaVersion,
      compression: flags.parquetCompression,
      rowGroupSize: flags.parquetRowGroupSize,
    },
  };
}

/** Runs `shardline-s3-sink` with `argv` (without `node` and the script). Resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let flags: Flags;
  try {
    flags = program()
      .parse([...argv], { from: 'user' })
      .opts<Flags>();
  } catch (error) {
    const message = (error as Error).message;
    if ((error as { code?: string }).code === 'commander.helpDisplayed') {
      io.stdout(`${program().helpInformation()}`);
      return ExitCode.Ok;
    }
    io.stderr(`shardline-s3-sink: ${message}\n${program().helpInformation()}`);
    return ExitCode.Usage;
  }
  if (
    flags.healthPort === undefined &&
    (flags.healthHost !== undefined || flags.healthStalledShardMs !== undefined)
  ) {
    io.stderr('shardline-s3-sink: --health-host and --health-stalled-shard-ms need --health-port\n');
    return ExitCode.Usage;
  }
  const formatOptions = recordFormatOptions(flags);
  if (typeof formatOptions === 'string') {
    io.stderr(`shardline-s3-sink: ${formatOptions}\n`);
    return ExitCode.Usage;
  }
  // Metrics run from before the sink starts until after it stopped, so the last EMF flush holds the
  // final counts. An exporter failure (port in use, stdout closed) is reported and the sink runs on.
  const metrics =
    flags.metrics === undefined
      ? undefined
      : createMetricsExporter(
          flags.metrics.kind === 'emf' ? { ...flags.metrics, write: io.stdout } : flags.metrics,
        );
  if (metrics) io.stderr(`shardline-s3-sink: metrics: ${metrics.description}\n`);
  try {
    return await runSink(flags, formatOptions, io, metrics?.meterProvider);
  } finally {
    await metrics?.shutdown();
  }
}

async function runSink(
  flags: Flags,
  formatOptions: Pick<S3SinkOptions, 'format' | 'parquet'>,
  io: CliIo,
  meterProvider: MeterProvider | undefined,
): Promise<number> {
  const region = flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) {
    io.stderr('shardline-s3-sink: no region: pass --region or set AWS_REGION\n');
    return ExitCode.Usage;
  }
  const endpoint = (flag: string | undefined, variable: string) =>
    flag ?? io.env[variable] ?? io.env.AWS_ENDPOINT_URL;
  const kinesisEndpoint = endpoint(flags.kinesisEndpoint, 'AWS_ENDPOINT_URL_KINESIS');
  const dynamodbEndpoint = endpoint(flags.dynamodbEndpoint, 'AWS_ENDPOINT_URL_DYNAMODB');
  const s3Endpoint = endpoint(flags.s3Endpoint, 'AWS_ENDPOINT_URL_S3');
  // Kinesis: HTTP/2 for AWS (SubscribeToShard needs it), HTTP/1.1 for a local endpoint (the emulators
  // need it). DynamoDB and S3 speak HTTP/1.1 everywhere.
  const kinesisClient = new KinesisClient({
    region,
    requestHandler: kinesisRequestHandler({
      endpoint: kinesisEndpoint,
      http1Handler: NodeHttpHandler,
      http2Handler: NodeHttp2Handler,
    }),
    ...(kinesisEndpoint ? { endpoint: kinesisEndpoint } : {}),
  });
  const dynamoDBClient = new DynamoDBClient({
    region,
    ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}),
  });
  let s3Client = new S3Client({
    region,
    ...(s3Endpoint
      ? {
          endpoint: s3Endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
  });
  if (io.wrapS3Client) s3Client = io.wrapS3Client(s3Client);
  const streamLabel = flags.stream ?? flags.streamArn?.split('/').pop() ?? 'stream';
  const options: S3SinkOptions = {
    streamName: flags.stream,
    streamArn: flags.streamArn,
    bucket: flags.bucket,
    applicationName: flags.app ?? `${streamLabel}-s3-sink`,
    kinesisClient,
    dynamoDBClient,
    s3Client,
    prefix: flags.prefix,
    errorPrefix: flags.errorPrefix,
    partitionKeys: flags.partitionKey,
    maxActivePartitions: flags.maxActivePartitions,
    compression: flags.compression,
    bufferSizeBytes: flags.bufferSizeBytes,
    bufferIntervalMs: flags.bufferIntervalMs,
    newlineDelimiter: flags.newline,
    recordContent: flags.recordContent,
    invalidRecordPolicy: flags.invalidRecords,
    manifestPrefix: flags.manifests ? flags.manifestPrefix : null,
    uploadPartSizeBytes: flags.uploadPartSizeBytes,
    initialPosition: flags.initialPosition,
    consumer: {
      ...(flags.workerId === undefined ? {} : { workerId: flags.workerId }),
      ...(flags.failoverTimeMs === undefined ? {} : { failoverTimeMs: flags.failoverTimeMs }),
      // The consumer's own check lists a polling option given with fan-out as a problem (exit 2).
      ...(flags.fanOut === undefined
        ? flags.idleTimeBetweenReadsMs === undefined
          ? {}
          : { retrieval: { polling: { idleTimeBetweenReadsMs: flags.idleTimeBetweenReadsMs } } }
        : {
            ...(flags.idleTimeBetweenReadsMs === undefined
              ? {}
              : { idleTimeBetweenReadsMs: flags.idleTimeBetweenReadsMs }),
            retrieval: { fanOut: { consumerName: flags.fanOut } },
          }),
      ...(flags.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: flags.shutdownTimeoutMs }),
      // The coordinator table is the consumer's default, <app>-ShardlineCoordinator (the infra's).
      ...(flags.leaseAssignment === undefined ? {} : { leaseAssignment: flags.leaseAssignment }),
      ...(flags.healthPort === undefined
        ? {}
        : {
            health: {
              port: flags.healthPort,
              ...(flags.healthHost === undefined ? {} : { host: flags.healthHost }),
              ...(flags.healthStalledShardMs === undefined
                ? {}
                : { stalledShardMs: flags.healthStalledShardMs }),
            },
          }),
    },
    s3RequestTimeoutMs: flags.s3RequestTimeoutMs,
    hooks: io.hooks,
    ...(meterProvider === undefined ? {} : { meterProvider }),
    // Event-time partitioning and Firehose-style queries
    timeField: flags.timeField,
    timeFieldFormat: flags.timeFieldFormat,
    timeZone: flags.timeZone,
    metadataExtractionQuery: flags.metadataExtractionQuery,
    ...formatOptions,
  };
  const destroy = () => {
    kinesisClient.destroy();
    dynamoDBClient.destroy();
    s3Client.destroy();
  };
  // --- Transformation and record-count buffering ---
  const transformOptions = await transformFlagOptions(flags as Flags & TransformFlags, process.cwd());
  if (typeof transformOptions === 'string') {
    destroy();
    io.stderr(`shardline-s3-sink: ${transformOptions}\n`);
    return ExitCode.Usage;
  }
  let sink: ReturnType<typeof createS3Sink>;
  try {
    sink = createS3Sink({ ...options, ...transformOptions });
  } catch (error) {
    destroy();
    if (error instanceof ConfigurationError) {
      io.stderr(`shardline-s3-sink: ${error.message}\n`);
      return ExitCode.Usage;
    }
    throw error;
  }
  if (flags.events) sink.events$.subscribe((event) => io.stdout(`${eventLine(event)}\n`));
  // An outage of S3: the time of the first failure since the last object written.
  let failingSinceMs: number | undefined;
  let lastCause = '';
  const outage = new AbortController();
  sink.events$.subscribe((event) => {
    if (event.type === 'ERROR') {
      io.stderr(`shardline-s3-sink: ${event.shardId ?? ''} ${event.error.message}\n`);
    } else if (event.type === 'SHARD_FAILED') {
      io.stderr(
        `shardline-s3-sink: ${event.shardId} failed, lease released without a checkpoint: ${event.error.message}\n`,
      );
    } else if (event.type === 'RETRY') {
      failingSinceMs ??= Date.now();
      // The sink's logger prints the retry with its cause; the cause is kept for the outage exit.
      lastCause = event.reason;
    } else if (event.type === 'OBJECT_WRITTEN') {
      failingSinceMs = undefined;
    }
  });
  const watchdog =
    flags.maxS3OutageMs > 0
      ? setInterval(() => {
          if (failingSinceMs !== undefined && Date.now() - failingSinceMs >= flags.maxS3OutageMs) {
            outage.abort();
          }
        }, 1_000)
      : undefined;
  watchdog?.unref?.();
  // Before any lease is taken: a missing destination is an exit with its cause, not a quiet stall.
  const problem = await checkDestinations({
    kinesisClient,
    dynamoDBClient,
    s3Client,
    streamName: flags.stream,
    streamArn: flags.streamArn,
    leaseTableName: options.applicationName,
    bucket: flags.bucket,
    writeCheckKey: flags.writeCheck ? `${WRITE_CHECK_KEY_PREFIX}${options.applicationName}` : undefined,
    timeoutMs: CHECK_TIMEOUT_MS,
    exitCodes: {
      stream: ExitCode.StreamUnavailable,
      leaseTable: ExitCode.LeaseTableUnavailable,
      bucketMissing: ExitCode.BucketMissing,
      bucketNotWritable: ExitCode.BucketNotWritable,
    },
  });
  if (problem) {
    io.stderr(`shardline-s3-sink: cannot start: ${problem.message}\n`);
    clearInterval(watchdog);
    destroy();
    return problem.exitCode;
  }
  try {
    await sink.start();
  } catch (error) {
    io.stderr(`shardline-s3-sink: could not start: ${(error as Error).message}\n`);
    await sink.stop();
    clearInterval(watchdog);
    destroy();
    return ExitCode.Failed;
  }
  io.stderr(
    `shardline-s3-sink: archiving ${streamLabel} to s3://${flags.bucket} as worker ${sink.consumer.workerId}\n`,
  );
  const health = sink.consumer.healthAddress;
  if (health) {
    io.stderr(
      `shardline-s3-sink: health checks on http://${health.host}:${health.port}/healthz and /readyz\n`,
    );
  }
  const stopSignal = AbortSignal.any([io.signal, outage.signal]);
  await new Promise<void>((resolve) => {
    if (stopSignal.aborted) resolve();
    stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(watchdog);
  const isOutage = outage.signal.aborted && !io.signal.aborted;
  if (isOutage) {
    io.stderr(
      `shardline-s3-sink: stopping: no S3 write succeeded for ${Math.round(flags.maxS3OutageMs / 1000)} s (last cause: ${lastCause}); the next run redoes what is not written\n`,
    );
  } else {
    io.stderr('shardline-s3-sink: stopping: writing open buffers, releasing leases\n');
  }
  await sink.stop();
  const m = sink.metrics();
  io.stderr(
    `shardline-s3-sink: stopped: ${m.objectsWritten} objects, ${m.recordsWritten} records, ${m.errorRecords} error records${m.recordsDropped > 0 ? `, ${m.recordsDropped} dropped by the transform` : ''}\n`,
  );
  destroy();
  return isOutage ? ExitCode.S3Outage : ExitCode.Ok;
}

function eventLine(event: S3SinkEvent): string {
  return JSON.stringify(event, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message } : value,
  );
}
