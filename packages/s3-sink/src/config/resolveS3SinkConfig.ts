import type { S3Client } from '@aws-sdk/client-s3';
import type { MeterProvider } from '@opentelemetry/api';
import { ProblemList } from '@shardline/common';
import {
  type ConsumerOptions,
  consoleWarningsLogger,
  type DynamoDBClientLike,
  type InitialPosition,
  type KinesisClientLike,
  type Logger,
} from '@shardline/consumer-core';
import { DEFAULT_TIME_LAYOUT, type KeyTemplate, parseKeyTemplate } from '../keys/KeyTemplate.js';
import { checkTimeZone, UTC } from '../keys/timeZone.js';
import { type CompressionCodec, gzipCompression, noCompression } from '../objects/compression.js';
import {
  createParquetFormat,
  isZstdAvailable,
  ParquetCompression,
} from '../objects/formats/ParquetFormat.js';
import { type ParquetSchemaSource, parseParquetSchema } from '../objects/formats/parquetSchema.js';
import { jsonLinesFormat, type RecordFormat, RecordFormatName } from '../objects/formats/RecordFormat.js';
import { type EnvelopeQuery, parseEnvelopeQuery } from '../routing/EnvelopeQuery.js';
import { TimeFieldFormat } from '../routing/eventTime.js';
import { parseFirehoseQuery } from '../routing/FirehoseQuery.js';
import { InvalidRecordPolicy, RecordContent } from '../routing/RecordRouter.js';
import type { RecordTransform } from '../routing/RecordTransform.js';
import type { S3SinkHooks } from '../S3SinkEvents.js';

/** The S3 client calls the sink makes (your `S3Client`; never destroyed by the sink). */
export type S3ClientLike = Pick<S3Client, 'send' | 'config'>;

// The consumer settings the sink lets you tune; it sets the others itself (checkpoints, buffers and the
// initial position follow its objects). One list for the type and the check.
const TUNABLE_CONSUMER_OPTIONS = [
  'leaseTableName',
  'leaseAssignment',
  'coordinatorTableName',
  'workerId',
  'failoverTimeMs',
  'renewIntervalMs',
  'leaseTakeIntervalMs',
  'maxLeasesPerWorker',
  'shardSyncIntervalMs',
  'maxRecordsPerFetch',
  'idleTimeBetweenReadsMs',
  'shutdownTimeoutMs',
  'maxShardFailures',
  'shardFailureBackoffMs',
  'timeouts',
  'cleanupLeasesUponShardCompletion',
  'cleanupGarbageLeases',
  'leaseCleanupIntervalMs',
  'garbageLeaseGracePeriodMs',
  'acceptStreamIdentityChange',
  'retrieval',
  'health',
] as const satisfies readonly (keyof ConsumerOptions)[];

/** Consumer settings the sink lets you tune (the others it sets itself, see the README). */
export type S3SinkConsumerOptions = Pick<ConsumerOptions, (typeof TUNABLE_CONSUMER_OPTIONS)[number]>;

/** Options of {@link createS3Sink}. */
export interface S3SinkOptions {
  /** The stream, by name (or give `streamArn`). */
  readonly streamName?: string;
  /** The stream, by ARN. */
  readonly streamArn?: string;
  /** The destination bucket (it must exist). */
  readonly bucket: string;
  /** The consumer application: its lease table (same name) holds the shards' checkpoints. */
  readonly applicationName: string;
  readonly kinesisClient: KinesisClientLike;
  readonly dynamoDBClient: DynamoDBClientLike;
  /** Needs `forcePathStyle` and `requestChecksumCalculation: 'WHEN_REQUIRED'` on emulators. */
  readonly s3Client: S3ClientLike;
  /**
   * Key prefix (Firehose syntax). Without any `!{...}` expression, Firehose's time layout
   * `yyyy/MM/dd/HH/` is appended. Expressions: `!{timestamp:<format>}`, `!{partitionKeyFromQuery:<name>}`.
   * @defaultValue `''` (keys `yyyy/MM/dd/HH/<stream>-<shardId>-<firstSequenceNumber>[.gz]`)
   */
  readonly prefix?: string;
  /**
   * Prefix of the error output; must contain `!{firehose:error-output-type}`.
   * @defaultValue `'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/'`
   */
  readonly errorPrefix?: string;
  /**
   * Dynamic partitioning: partition key name → query on the envelope (`data.event_type`; syntax in
   * `EnvelopeQuery`). Every key must appear in `prefix` as `!{partitionKeyFromQuery:<name>}`.
   * @defaultValue `{}`
   */
  readonly partitionKeys?: Readonly<Record<string, string>>;
  /**
   * Most partitions open at once per shard buffer (Firehose: 500 per stream). A record of one more
   * partition closes the buffer first (no record is error-routed for this limit).
   * @defaultValue 500
   */
  readonly maxActivePartitions?: number;
  /** Buffer size per shard, in record bytes as read from Kinesis (1 KiB–128 MiB). @defaultValue 5 MiB */
  readonly bufferSizeBytes?: number;
  /** Longest time a record waits in a buffer (0–900 s; 0: one range per batch). @defaultValue 300000 */
  readonly bufferIntervalMs?: number;
  /**
   * Most records per shard buffer (Kafka Connect's `flush.size`), beside `bufferSizeBytes` and
   * `bufferIntervalMs`: the record that reaches it closes the buffer (seal reason `record-count`). Counts
   * every record taken from the shard (those a transform drops, and those routed to the error output,
   * included), for all partitions of the buffer together: so an object holds at most this many records.
   * 0 (or 1–10,000,000): 0 sets no such bound.
   * @defaultValue 0 (no bound: buffers close by size and interval only)
   */
  readonly bufferRecords?: number;
  /** `'none'`, `'gzip'` or your deterministic codec. @defaultValue 'none' */
  readonly compression?: 'none' | 'gzip' | CompressionCodec;
  /** Newline after each record (Firehose's option). @defaultValue true */
  readonly newlineDelimiter?: boolean;
  /** `'envelope'` (the record's data as it arrived) or `'data'` (the envelope's data only). @defaultValue 'envelope' */
  readonly recordContent?: RecordContent;
  /** Records that are not event envelopes: `'error-output'` or `'archive'`. @defaultValue 'error-output' */
  readonly invalidRecordPolicy?: InvalidRecordPolicy;
  /** Where manifests go (`<manifestPrefix><object key>.json`); `null`: none. @defaultValue 'manifests/' */
  readonly manifestPrefix?: string | null;
  /** Multipart part size (5 MiB–5 GiB; objects larger than one part use multipart). @defaultValue 8 MiB */
  readonly uploadPartSizeBytes?: number;
  /** Parts uploaded at once per object. @defaultValue 4 */
  readonly uploadQueueSize?: number;
  /** First retry delay after an S3 error (jittered, doubling). @defaultValue 200 */
  readonly retryInitialDelayMs?: number;
  /** Largest retry delay. S3 writes are retried until they succeed, the lease is lost, or stop. @defaultValue 30000 */
  readonly retryMaxDelayMs?: number;
  /**
   * Deadline of each S3 request (a `PutObject`, one multipart part, `CompleteMultipartUpload`, a
   * manifest, a listing): the request is aborted when it passes and retried like any failure (1 s–15
   * min). Size it for one part (`uploadPartSizeBytes`) at your slowest expected bandwidth.
   * @defaultValue 60000
   */
  readonly s3RequestTimeoutMs?: number;
  /** Where shards start without a checkpoint. @defaultValue 'TRIM_HORIZON' */
  readonly initialPosition?: InitialPosition;
  /**
   * Lease and retrieval settings passed to the consumer, e.g. `retrieval: { fanOut: {} }` to read with
   * enhanced fan-out (see the consumer-core README), or `health: { port }` to serve `/healthz` and
   * `/readyz` (the sink's default `health.stalledShardMs` is `max(300000, 2 × bufferIntervalMs + 60000)`:
   * a batch counts as handled once its range is written). @defaultValue `{}` (polling)
   */
  readonly consumer?: S3SinkConsumerOptions;
  /** @defaultValue warnings and errors to the console */
  readonly logger?: Logger;
  /** Aborting it stops the sink (gracefully). */
  readonly signal?: AbortSignal;
  /** Wall clock for buffer ages (ms). @defaultValue `Date.now` */
  readonly nowMs?: () => number;
  /** Named points for fault-injection tests. @defaultValue none */
  readonly hooks?: S3SinkHooks;

  // --- Transformation and metrics ---
  /**
   * Transforms each record before it is routed (Firehose's data transformation, in process): returns
   * `Ok` with new data, `Dropped`, or `ProcessingFailed`. It must be pure, and its `version` must change
   * with its behaviour: see {@link RecordTransform}.
   * @defaultValue none (records are archived as read)
   */
  readonly transform?: RecordTransform;
  /**
   * Where the sink's OpenTelemetry instruments (`shardline.s3_sink.*`, see the README) and its
   * consumer's (`shardline.consumer.*`) are created.
   * @defaultValue the global `MeterProvider`: a no-op unless the application installs an OpenTelemetry SDK
   */
  readonly meterProvider?: MeterProvider;
  // Event-time partitioning and Firehose-style queries

  /**
   * Event-time partitioning: the field holding each record's own time, in the `partitionKeys` query
   * syntax (`data.event_time`, `data.meta.ts`, or `receivedAt` for the ingest time). Every
   * `!{timestamp:...}` of `prefix` then renders the record's time, records are grouped into one object
   * per prefix (partition and time bucket), and a record without a usable time goes to the error output
   * (`partitioning-failed`). Each time bucket counts toward `maxActivePartitions`. The error prefix
   * keeps the arrival time. `prefix` must contain a `!{timestamp:...}`.
   * @defaultValue none (keys take the arrival time of each object's oldest record, as Firehose does)
   */
  readonly timeField?: string;
  /**
   * How the `timeField` value is read: `'auto'` (an ISO 8601 string, or a number of epoch seconds below
   * 1e11 and epoch milliseconds from 1e11), `'iso-8601'`, `'epoch-seconds'` or `'epoch-millis'`. ISO
   * 8601 times need a UTC offset. See `TimeFieldFormat`.
   * @defaultValue 'auto'
   */
  readonly timeFieldFormat?: TimeFieldFormat;
  /**
   * IANA time zone of every `!{timestamp:...}` in `prefix` and `errorPrefix` (Firehose's
   * `CustomTimeZone`), checked with `Intl` at construction. Keys depend on the runtime's time-zone
   * database (`process.versions.tz`) when it changes the zone's rules.
   * @defaultValue 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Dynamic partitioning the Firehose way: a `MetadataExtractionQuery` (jq object, e.g.
   * `{event_type: .event_type, country: .user.country}`) evaluated on the envelope's `data` — the event
   * as sent, the record Firehose would have seen. Only paths are supported (see
   * `FIREHOSE_QUERY_SUPPORTED`). Its names join those of `partitionKeys` (no name in both).
   * @defaultValue none
   */
  readonly metadataExtractionQuery?: string;
  // Record format
  /**
   * Format of data objects: `'json'` (JSON lines, as routed) or `'parquet'` (columns from
   * `parquet.schema`; needs `compression: 'none'`, since Parquet compresses its pages itself). The error
   * output is JSON lines whatever the format.
   * @defaultValue 'json'
   */
  readonly format?: RecordFormatName;
  /** Parquet settings; required with `format: 'parquet'`, refused otherwise. */
  readonly parquet?: ParquetOptions;
}

/** Parquet settings of {@link S3SinkOptions}. */
export interface ParquetOptions {
  /** The columns from the envelope's `data`: a column list or a JSON Schema subset (see the README). */
  readonly schema: ParquetSchemaSource;
  /**
   * The schema version in object names (`<stream>-<shard>-<sequence>.<version>.parquet`): change it,
   * or let it change, to start new objects when the schema changes. 1–32 of `[A-Za-z0-9_-]`.
   * @defaultValue the first 12 hex digits of the SHA-256 of the schema's columns
   */
  readonly schemaVersion?: string;
  /** Page compression: `'snappy'`, or `'zstd'` (Node.js ≥ 22.15). @defaultValue 'snappy' */
  readonly compression?: ParquetCompression;
  /** Most rows per row group (1–1,000,000); unset: one row group per object. @defaultValue one per object */
  readonly rowGroupSize?: number;
}

/** Event-time partitioning after validation: see {@link S3SinkOptions.timeField}. */
export interface ResolvedEventTime {
  /** The parsed `timeField`. */
  readonly query: EnvelopeQuery;
  /** `timeFieldFormat`. */
  readonly format: TimeFieldFormat;
}

/** {@link S3SinkOptions} after defaults and validation. */
export interface ResolvedS3SinkConfig {
  readonly streamName: string | undefined;
  readonly streamArn: string | undefined;
  /** The stream's name as used in file names. */
  readonly streamLabel: string;
  readonly bucket: string;
  readonly applicationName: string;
  readonly kinesisClient: KinesisClientLike;
  readonly dynamoDBClient: DynamoDBClientLike;
  readonly s3Client: S3ClientLike;
  readonly prefix: KeyTemplate;
  readonly errorPrefix: KeyTemplate;
  readonly partitionQueries: ReadonlyMap<string, EnvelopeQuery>;
  readonly maxActivePartitions: number;
  readonly bufferSizeBytes: number;
  readonly bufferIntervalMs: number;
  /** 0: no record-count bound. */
  readonly bufferRecords: number;
  readonly codec: CompressionCodec;
  readonly newlineDelimiter: boolean;
  readonly recordContent: RecordContent;
  readonly invalidRecordPolicy: InvalidRecordPolicy;
  readonly manifestPrefix: string | null;
  readonly uploadPartSizeBytes: number;
  readonly uploadQueueSize: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly s3RequestTimeoutMs: number;
  readonly initialPosition: InitialPosition;
  readonly consumer: S3SinkConsumerOptions;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
  readonly nowMs: () => number;
  readonly hooks: S3SinkHooks;
  /** The record transformation; `undefined`: none. */
  readonly transform: RecordTransform | undefined;
  /** `undefined`: the global `MeterProvider`. */
  readonly meterProvider: MeterProvider | undefined;
  /** Event-time partitioning; `undefined`: arrival time. */
  readonly eventTime: ResolvedEventTime | undefined;
  /** The runtime's name of the keys' time zone (`timeZone`, e.g. `utc` → `UTC`). */
  readonly timeZone: string;
  /** How data objects' bodies are made (`json` lines by default). */
  readonly format: RecordFormat;
}

const MIB = 1024 * 1024;

/** Defaults of {@link S3SinkOptions} (Firehose's where Firehose has one). */
export const S3_SINK_DEFAULTS = {
  prefix: '',
  errorPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/',
  maxActivePartitions: 500,
  bufferSizeBytes: 5 * MIB,
  bufferIntervalMs: 300_000,
  bufferRecords: 0,
  compression: 'none',
  newlineDelimiter: true,
  recordContent: RecordContent.Envelope,
  invalidRecordPolicy: InvalidRecordPolicy.ErrorOutput,
  manifestPrefix: 'manifests/',
  uploadPartSizeBytes: 8 * MIB,
  uploadQueueSize: 4,
  retryInitialDelayMs: 200,
  retryMaxDelayMs: 30_000,
  s3RequestTimeoutMs: 60_000,
  initialPosition: 'TRIM_HORIZON',
  timeFieldFormat: TimeFieldFormat.Auto,
  timeZone: UTC,
} as const;

/** Limits checked by {@link resolveS3SinkConfig}. */
export const S3_SINK_LIMITS = {
  minBufferSizeBytes: 1024,
  maxBufferSizeBytes: 128 * MIB,
  maxBufferIntervalMs: 900_000,
  maxBufferRecords: 10_000_000,
  maxActivePartitions: 10_000,
  // S3: parts of 5 MiB to 5 GiB, at most 10,000 parts.
  minPartSizeBytes: 5 * MIB,
  maxPartSizeBytes: 5 * 1024 * MIB,
  minS3RequestTimeoutMs: 1_000,
  maxS3RequestTimeoutMs: 900_000,
} as const;

/**
 * Merges defaults and options and validates every field.
 *
 * @throws {@link ConfigurationError} listing every problem.
 */
export function resolveS3SinkConfig(options: S3SinkOptions): ResolvedS3SinkConfig {
  const problems = new ProblemList('s3-sink options');
  const o = (options ?? {}) as Partial<S3SinkOptions>;

  const nonEmpty = (path: string, value: unknown): string => {
    if (typeof value !== 'string' || value.length === 0) {
      problems.add(path, 'is required (a non-empty string)');
      return '';
    }
    return value;
  };

  if ((o.streamName === undefined) === (o.streamArn === undefined)) {
    problems.add('streamName', 'give exactly one of streamName and streamArn');
  }
  const streamLabel = o.streamName ?? o.streamArn?.split('/').pop() ?? '';
  const bucket = nonEmpty('bucket', o.bucket);
  if (bucket && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    problems.add('bucket', `"${bucket}" is not a valid bucket name`);
  }
  const applicationName = nonEmpty('applicationName', o.applicationName);
  for (const client of ['kinesisClient', 'dynamoDBClient', 's3Client'] as const) {
    if (typeof (o[client] as { send?: unknown } | undefined)?.send !== 'function') {
      problems.add(client, 'is required (an AWS SDK v3 client)');
    }
  }

  const partitionKeys = o.partitionKeys ?? {};
  const partitionQueries = new Map<string, EnvelopeQuery>();
  for (const [name, source] of Object.entries(partitionKeys)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      problems.add(`partitionKeys.${name}`, 'names are 1–64 of [A-Za-z0-9_-]');
    const query = typeof source === 'string' ? parseEnvelopeQuery(source) : 'must be a query string';
    if (typeof query === 'string') problems.add(`partitionKeys.${name}`, query);
    else partitionQueries.set(name, query);
  }
  const names = [...Object.keys(partitionKeys)];

  // Event-time partitioning and Firehose-style queries (the checks that need the prefix follow it).
  if (o.metadataExtractionQuery !== undefined) {
    const queries =
      typeof o.metadataExtractionQuery === 'string'
        ? parseFirehoseQuery(o.metadataExtractionQuery)
        : 'must be a jq object string, e.g. {event_type: .event_type}';
    if (typeof queries === 'string') problems.add('metadataExtractionQuery', queries);
    else {
      for (const [name, query] of queries) {
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
          problems.add(
            'metadataExtractionQuery',
            `key ${JSON.stringify(name)}: names are 1–64 of [A-Za-z0-9_-]`,
          );
        } else if (partitionQueries.has(name)) {
          problems.add('metadataExtractionQuery', `key ${name} is also defined in partitionKeys`);
        } else {
          partitionQueries.set(name, query);
          names.push(name);
        }
      }
    }
  }
  let eventTime: ResolvedEventTime | undefined;
  const timeFieldFormat = o.timeFieldFormat ?? S3_SINK_DEFAULTS.timeFieldFormat;
  if (!Object.values(TimeFieldFormat).includes(timeFieldFormat)) {
    problems.add('timeFieldFormat', `must be one of ${Object.values(TimeFieldFormat).join(', ')}`);
  }
  if (o.timeField !== undefined) {
    const query =
      typeof o.timeField === 'string' ? parseEnvelopeQuery(o.timeField) : 'must be a query string';
    if (typeof query === 'string') problems.add('timeField', query);
    else eventTime = { query, format: timeFieldFormat };
  } else if (o.timeFieldFormat !== undefined) {
    problems.add('timeFieldFormat', 'is set without timeField');
  }
  const zone = checkTimeZone(o.timeZone ?? S3_SINK_DEFAULTS.timeZone);
  if ('error' in zone) problems.add('timeZone', zone.error);
  const timeZone = 'error' in zone ? UTC : zone.timeZone;

  let prefixSource = o.prefix ?? S3_SINK_DEFAULTS.prefix;
  if (typeof prefixSource !== 'string') {
    problems.add('prefix', 'must be a string');
    prefixSource = '';
  }
  if (!prefixSource.includes('!{')) prefixSource += DEFAULT_TIME_LAYOUT;
  const prefix = parseKeyTemplate(prefixSource, {
    path: 'prefix',
    partitionKeyNames: names,
    isErrorPrefix: false,
  });
  problems.addAll(prefix.problems);
  for (const name of names) {
    if (!prefix.template.partitionKeyNames.includes(name)) {
      problems.add(
        Object.hasOwn(partitionKeys, name) ? `partitionKeys.${name}` : `metadataExtractionQuery.${name}`,
        `is not used in prefix (add !{partitionKeyFromQuery:${name}})`,
      );
    }
  }
  if (o.timeField !== undefined && !prefix.template.parts.some((part) => part.kind === 'timestamp')) {
    problems.add('timeField', 'is set but prefix has no !{timestamp:...} for the event time to name');
  }
  const errorPrefixSource = o.errorPrefix ?? S3_SINK_DEFAULTS.errorPrefix;
  const errorPrefix = parseKeyTemplate(typeof errorPrefixSource === 'string' ? errorPrefixSource : '', {
    path: 'errorPrefix',
    partitionKeyNames: [],
    isErrorPrefix: true,
  });
  problems.addAll(errorPrefix.problems);
  const { bufferRecords } = problems.integers(o, S3_SINK_DEFAULTS, {
    bufferRecords: [0, S3_SINK_LIMITS.maxBufferRecords],
  });
  const { maxActivePartitions, bufferSizeBytes, bufferIntervalMs } = problems.integers(o, S3_SINK_DEFAULTS, {
    maxActivePartitions: [1, S3_SINK_LIMITS.maxActivePartitions],
    bufferSizeBytes: [S3_SINK_LIMITS.minBufferSizeBytes, S3_SINK_LIMITS.maxBufferSizeBytes],
    bufferIntervalMs: [0, S3_SINK_LIMITS.maxBufferIntervalMs],
  });
  const compression = o.compression ?? S3_SINK_DEFAULTS.compression;
  let codec: CompressionCodec = noCompression;
  if (compression === 'gzip') codec = gzipCompression;
  else if (compression === 'none') codec = noCompression;
  else if (
    typeof compression === 'object' &&
    compression !== null &&
    typeof compression.compress === 'function' &&
    typeof compression.name === 'string' &&
    typeof compression.extension === 'string' &&
    typeof compression.contentType === 'string'
  ) {
    codec = compression;
  } else problems.add('compression', "must be 'none', 'gzip' or a CompressionCodec");
  const newlineDelimiter = o.newlineDelimiter ?? S3_SINK_DEFAULTS.newlineDelimiter;
  if (typeof newlineDelimiter !== 'boolean') problems.add('newlineDelimiter', 'must be a boolean');
  const recordContent = o.recordContent ?? S3_SINK_DEFAULTS.recordContent;
  if (!Object.values(RecordContent).includes(recordContent)) {
    problems.add('recordContent', `must be one of ${Object.values(RecordContent).join(', ')}`);
  }
  const invalidRecordPolicy = o.invalidRecordPolicy ?? S3_SINK_DEFAULTS.invalidRecordPolicy;
  if (!Object.values(InvalidRecordPolicy).includes(invalidRecordPolicy)) {
    problems.add('invalidRecordPolicy', `must be one of ${Object.values(InvalidRecordPolicy).join(', ')}`);
  }
  const manifestPrefix = o.manifestPrefix === undefined ? S3_SINK_DEFAULTS.manifestPrefix : o.manifestPrefix;
  if (manifestPrefix !== null && typeof manifestPrefix !== 'string') {
    problems.add('manifestPrefix', 'must be a string or null');
  }
  const { uploadPartSizeBytes, uploadQueueSize, retryInitialDelayMs, retryMaxDelayMs, s3RequestTimeoutMs } =
    problems.integers(o, S3_SINK_DEFAULTS, {
      uploadPartSizeBytes: [S3_SINK_LIMITS.minPartSizeBytes, S3_SINK_LIMITS.maxPartSizeBytes],
      uploadQueueSize: [1, 64],
      retryInitialDelayMs: [1, 600_000],
      retryMaxDelayMs: [1, 3_600_000],
      s3RequestTimeoutMs: [S3_SINK_LIMITS.minS3RequestTimeoutMs, S3_SINK_LIMITS.maxS3RequestTimeoutMs],
    });
  if (retryMaxDelayMs < retryInitialDelayMs)
    problems.add('retryMaxDelayMs', 'must be at least retryInitialDelayMs');
  const consumer = o.consumer ?? {};
  const allowed = new Set<string>(TUNABLE_CONSUMER_OPTIONS);
  for (const key of Object.keys(consumer)) {
    if (!allowed.has(key)) {
      problems.add(
        `consumer.${key}`,
        'is set by the sink itself (checkpoints, buffers and the initial position follow its objects)',
      );
    }
  }
  if (o.nowMs !== undefined && typeof o.nowMs !== 'function') problems.add('nowMs', 'must be a function');
  const format = resolveRecordFormat(o, newlineDelimiter, problems);

  // --- Transformation and metrics ---
  const transform = o.transform;
  if (transform !== undefined) {
    if (typeof (transform as { transform?: unknown } | null)?.transform !== 'function') {
      problems.add('transform.transform', 'must be a function (record, shardId) => TransformResult');
    }
    const version = (transform as { version?: unknown } | null)?.version;
    if (typeof version !== 'string' || version.length === 0 || version.length > 256) {
      problems.add(
        'transform.version',
        'is required: a non-empty string of at most 256 characters naming the transform behaviour (recorded with each prepared range)',
      );
    }
  }
  if (
    o.meterProvider !== undefined &&
    typeof (o.meterProvider as { getMeter?: unknown } | null)?.getMeter !== 'function'
  ) {
    problems.add('meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter)');
  }

  problems.throwIfAny();
  return {
    streamName: o.streamName,
    streamArn: o.streamArn,
    streamLabel,
    bucket,
    applicationName,
    kinesisClient: o.kinesisClient!,
    dynamoDBClient: o.dynamoDBClient!,
    s3Client: o.s3Client!,
    prefix: prefix.template,
    errorPrefix: errorPrefix.template,
    partitionQueries,
    maxActivePartitions,
    bufferSizeBytes,
    bufferIntervalMs,
    bufferRecords,
    codec,
    newlineDelimiter,
    recordContent,
    invalidRecordPolicy,
    manifestPrefix,
    uploadPartSizeBytes,
    uploadQueueSize,
    retryInitialDelayMs,
    retryMaxDelayMs,
    s3RequestTimeoutMs,
    initialPosition: o.initialPosition ?? S3_SINK_DEFAULTS.initialPosition,
    consumer,
    logger: o.logger ?? consoleWarningsLogger,
    signal: o.signal,
    nowMs: o.nowMs ?? Date.now,
    hooks: o.hooks ?? {},
    transform,
    meterProvider: o.meterProvider,
    eventTime,
    timeZone,
    format,
  };
}

/** The record format of the options (its problems added to `problems`). */
function resolveRecordFormat(
  o: Partial<S3SinkOptions>,
  newlineDelimiter: boolean,
  problems: ProblemList,
): RecordFormat {
  const name = o.format ?? RecordFormatName.Json;
  const json = jsonLinesFormat(newlineDelimiter);
  if (name === RecordFormatName.Json) {
    if (o.parquet !== undefined) problems.add('parquet', "is for format 'parquet' only");
    return json;
  }
  if (name !== RecordFormatName.Parquet) {
    problems.add('format', `must be one of ${Object.values(RecordFormatName).join(', ')}`);
    return json;
  }
  if ((o.compression ?? 'none') !== 'none') {
    problems.add(
      'compression',
      "must be 'none' with format 'parquet': Parquet compresses its pages itself (set parquet.compression)",
    );
  }
  if (o.newlineDelimiter === false) {
    problems.add('newlineDelimiter', "is for format 'json' only (Parquet has no delimiters)");
  }
  if (o.recordContent === RecordContent.Data) {
    problems.add(
      'recordContent',
      "is for format 'json' only (Parquet columns come from the envelope's data)",
    );
  }
  const parquet = (o.parquet ?? {}) as Partial<ParquetOptions>;
  if (o.parquet === undefined)
    problems.add('parquet', "is required with format 'parquet' (at least a schema)");
  const { schema, problems: schemaProblems } =
    o.parquet === undefined
      ? { schema: undefined, problems: [] }
      : parseParquetSchema(parquet.schema, parquet.schemaVersion, 'parquet.schema');
  problems.addAll(schemaProblems);
  const compression = parquet.compression ?? ParquetCompression.Snappy;
  if (!Object.values(ParquetCompression).includes(compression)) {
    problems.add('parquet.compression', `must be one of ${Object.values(ParquetCompression).join(', ')}`);
  } else if (compression === ParquetCompression.Zstd && !isZstdAvailable()) {
    problems.add(
      'parquet.compression',
      `zstd needs Node.js 22.15 or later (zlib's Zstandard); this is ${process.version}: use 'snappy'`,
    );
  }
  const rowGroupSize = parquet.rowGroupSize;
  if (
    rowGroupSize !== undefined &&
    (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1 || rowGroupSize > 1_000_000)
  ) {
    problems.add('parquet.rowGroupSize', 'must be an integer from 1 to 1000000');
  }
  if (schema === undefined) return json;
  return createParquetFormat({ schema, compression, rowGroupSize });
}
