import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProblemList } from '@shardline/common';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import { propsProblems } from '../config/propsProblems.js';
import { ArchiveBucket } from '../constructs/ArchiveBucket.js';
import { ArchiveTable, type ArchiveTableProps } from '../constructs/ArchiveTable.js';
import {
  type ArchiveFormat,
  type ArchiveSchema,
  archiveLayout,
  checkLocationApart,
  fixedPart,
  schemaColumns,
} from '../constructs/archiveLayout.js';
import { ConsumerService, type ConsumerServiceProps } from '../constructs/ConsumerService.js';
import { EventStream, type EventStreamProps } from '../constructs/EventStream.js';
import {
  type ANY_ORIGIN,
  IngestApi,
  type IngestClient,
  type IngestIntegrationMode,
  type IngestWafOptions,
} from '../constructs/IngestApi.js';
import { type LeaseAssignment, LeaseTable } from '../constructs/LeaseTable.js';

/**
 * The s3-sink's settings the stack passes to its task, as `SHARDLINE_S3_SINK_*` variables, and the flag
 * each one becomes (`[ -z "$VAR" ] || set -- "$@" --flag "$VAR"`: a value reaches the CLI as one
 * argument, never read by the shell). The schema is the exception: its JSON is written to a file
 * (`mktemp`) and `--schema` names the file.
 */
export const S3_SINK_FLAG_VARIABLES = Object.freeze({
  SHARDLINE_S3_SINK_FORMAT: '--format',
  SHARDLINE_S3_SINK_SCHEMA_VERSION: '--schema-version',
  SHARDLINE_S3_SINK_PARQUET_COMPRESSION: '--parquet-compression',
  SHARDLINE_S3_SINK_PARQUET_ROW_GROUP_SIZE: '--parquet-row-group-size',
  SHARDLINE_S3_SINK_TIME_FIELD: '--time-field',
  SHARDLINE_S3_SINK_TIME_FIELD_FORMAT: '--time-field-format',
  SHARDLINE_S3_SINK_TIME_ZONE: '--time-zone',
  SHARDLINE_S3_SINK_METADATA_EXTRACTION_QUERY: '--metadata-extraction-query',
  SHARDLINE_S3_SINK_BUFFER_RECORDS: '--buffer-records',
  SHARDLINE_S3_SINK_BUFFER_SIZE_BYTES: '--buffer-size-bytes',
  SHARDLINE_S3_SINK_BUFFER_INTERVAL_MS: '--buffer-interval-ms',
} as const);

/** The sink's data prefix under `SHARDLINE_PREFIX` when `SHARDLINE_S3_SINK_DATA_PREFIX` is unset. */
const DEFAULT_DATA_PREFIX = 'events/';
/** Under `SHARDLINE_PREFIX`: the error output (by type) and the manifests. */
const ERROR_PREFIX = 'errors/!{firehose:error-output-type}/';
const MANIFEST_PREFIX = 'manifests/';

/**
 * The s3-sink's command: the `shardline-s3-sink` CLI, its flags from the environment the
 * ConsumerService (and the stack) sets; objects, errors and manifests all under `SHARDLINE_PREFIX` (the
 * only keys it may write); `--fan-out` when the service reads with enhanced fan-out, `--lease-assignment`
 * when its lease table is in leader mode, the settings of {@link S3_SINK_FLAG_VARIABLES}, and
 * `SHARDLINE_S3_SINK_SCHEMA`, `SHARDLINE_S3_SINK_DATA_PREFIX` and `SHARDLINE_S3_SINK_COMPRESSION`. No `${…}` in
 * the command: CloudFormation tooling reads it as a substitution.
 */
const S3_SINK_SHELL = [
  'set --;',
  // With SHARDLINE_FAN_OUT_CONSUMER (ConsumerService's fanOut): enhanced fan-out through that consumer.
  '[ -z "$SHARDLINE_FAN_OUT_CONSUMER" ] || set -- "$@" --fan-out "$SHARDLINE_FAN_OUT_CONSUMER";',
  // With SHARDLINE_METRICS (s3SinkMetrics): the sink's metrics exporter, e.g. emf:Shardline.
  '[ -z "$SHARDLINE_METRICS" ] || set -- "$@" --metrics "$SHARDLINE_METRICS";',
  // With SHARDLINE_HEALTH_PORT (ConsumerService's healthCheckPort): /healthz and /readyz on 127.0.0.1.
  '[ -z "$SHARDLINE_HEALTH_PORT" ] || set -- "$@" --health-port "$SHARDLINE_HEALTH_PORT";',
  // With SHARDLINE_LEASE_ASSIGNMENT (set when the lease table has leaseAssignment 'leader'): that mode.
  '[ -z "$SHARDLINE_LEASE_ASSIGNMENT" ] || set -- "$@" --lease-assignment "$SHARDLINE_LEASE_ASSIGNMENT";',
  ...Object.entries(S3_SINK_FLAG_VARIABLES).map(
    ([variable, flag]) => `[ -z "$${variable}" ] || set -- "$@" ${flag} "$${variable}";`,
  ),
  // The schema's JSON becomes a file for --schema (the task's /tmp; the container runs as `node`).
  '[ -z "$SHARDLINE_S3_SINK_SCHEMA" ] || { SCHEMA_FILE=$(mktemp) && printf \'%s\' "$SHARDLINE_S3_SINK_SCHEMA" > "$SCHEMA_FILE" && set -- "$@" --schema "$SCHEMA_FILE"; } || exit 1;',
  `DATA_PREFIX="$SHARDLINE_S3_SINK_DATA_PREFIX"; [ -n "$DATA_PREFIX" ] || DATA_PREFIX=${DEFAULT_DATA_PREFIX};`,
  // Objects are gzipped JSON lines unless told otherwise; Parquet compresses its own pages.
  'COMPRESSION="$SHARDLINE_S3_SINK_COMPRESSION"; [ -n "$COMPRESSION" ] || { [ "$SHARDLINE_S3_SINK_FORMAT" = parquet ] && COMPRESSION=none || COMPRESSION=gzip; };',
  'exec node packages/s3-sink/bin/shardline-s3-sink.js "$@"',
  '--stream "$SHARDLINE_STREAM" --app "$SHARDLINE_APP" --bucket "$SHARDLINE_BUCKET"',
  `--prefix "$SHARDLINE_PREFIX$DATA_PREFIX" --manifest-prefix "$SHARDLINE_PREFIX"${MANIFEST_PREFIX}`,
  `--error-prefix "$SHARDLINE_PREFIX"'${ERROR_PREFIX}' --compression "$COMPRESSION"`,
].join(' ');

/** The port of the s3-sink task's `/healthz` (inside the container only). */
export const SINK_HEALTH_PORT = 8080;

/** Default container commands, run from the repository root inside the image (docker/consumer.Dockerfile). */
export const DEFAULT_COMMANDS = Object.freeze({
  /** The s3-sink CLI (`shardline-s3-sink`), its flags taken from the `SHARDLINE_*` environment. */
  s3Sink: Object.freeze(['sh', '-c', S3_SINK_SHELL]),
  /** The live-metrics example. */
  liveMetrics: Object.freeze([
    'node',
    '--conditions=@shardline/source',
    '--import',
    'tsx',
    'examples/live-metrics/src/main.ts',
  ]),
});

/**
 * How the reference stack's s3-sink archives (each setting is the `shardline-s3-sink` flag named in
 * its description; see `@shardline/s3-sink`'s README). Objects go under
 * `<archivePrefix><dataPrefix>`, errors under `<archivePrefix>errors/<type>/`, manifests under
 * `<archivePrefix>manifests/`.
 */
export interface S3SinkArchiveSettings {
  /** `--format`: JSON lines or Parquet. @defaultValue 'json' */
  readonly format?: ArchiveFormat;
  /**
   * `--schema` (the file's content): the Parquet columns, a column list or a JSON Schema subset.
   * Required with Parquet; with JSON lines it is not passed to the sink, only used for `table`.
   */
  readonly schema?: ArchiveSchema;
  /** `--schema-version` (Parquet): the version in object names. @defaultValue a hash of the schema */
  readonly schemaVersion?: string;
  /** `--parquet-compression`. @defaultValue the sink's ('snappy') */
  readonly parquetCompression?: 'snappy' | 'zstd';
  /** `--parquet-row-group-size`: most rows per row group. @defaultValue the sink's (one per object) */
  readonly parquetRowGroupSize?: number;
  /** `--compression` of JSON lines (Parquet objects are never compressed whole). @defaultValue 'gzip' */
  readonly compression?: 'gzip' | 'none';
  /**
   * `--prefix` below `archivePrefix`, Firehose syntax (`!{timestamp:…}`, `!{partitionKeyFromQuery:…}`,
   * Hive-style `name=` folders); without any `!{…}`, the sink appends `yyyy/MM/dd/HH/`. Give data its
   * own folder, apart from `errors/` and `manifests/` (checked), and a new one when `format` changes
   * (a table reads one format).
   * @defaultValue 'events/'
   */
  readonly dataPrefix?: string;
  /** `--time-field`: partition by each record's own time (e.g. `data.occurred_at`). @defaultValue arrival time */
  readonly timeField?: string;
  /** `--time-field-format`. @defaultValue the sink's ('auto') */
  readonly timeFieldFormat?: 'auto' | 'iso-8601' | 'epoch-seconds' | 'epoch-millis';
  /** `--time-zone`: IANA zone of every time in the prefixes. @defaultValue 'UTC' */
  readonly timeZone?: string;
  /** `--metadata-extraction-query`: Firehose's jq object on the event as sent. @defaultValue none */
  readonly metadataExtractionQuery?: string;
  /** `--buffer-records`: most records per shard buffer (0: no bound). @defaultValue the sink's (0) */
  readonly bufferRecords?: number;
  /** `--buffer-size-bytes`. @defaultValue the sink's (5 MiB) */
  readonly bufferSizeBytes?: number;
  /** `--buffer-interval-ms`. @defaultValue the sink's (300000) */
  readonly bufferIntervalMs?: number;
  /**
   * A Glue table (and database, and optionally an Athena workgroup) over the data objects, by
   * {@link ArchiveTable}: `true` for the defaults. Needs `schema`.
   * @defaultValue none
   */
  readonly table?:
    | boolean
    | Omit<
        ArchiveTableProps,
        | 'bucket'
        | 'format'
        | 'schema'
        | 'recordContent'
        | 'isGzipped'
        | 'dataPrefix'
        | 'errorPrefix'
        | 'manifestPrefix'
        | 'timeZone'
      >;
}

/** See `ReferencePipelineStackProps.s3SinkMetrics`. */
export interface S3SinkMetricsSettings {
  /** CloudWatch namespace of the metrics. @defaultValue 'Shardline' */
  readonly namespace?: string;
  /**
   * Your own OpenTelemetry setup instead of the sink's `--metrics emf`: a module in the image that
   * `node --import` (`NODE_OPTIONS`) loads, relative to the image's working directory (e.g. an OTLP
   * exporter), with `environment` (`OTEL_*` variables). The alarms on the sink's own metrics need EMF
   * and are then not created.
   * @defaultValue none (`--metrics emf:<namespace>`)
   */
  readonly nodeImport?: string;
  /** More variables for that module. @defaultValue {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Alarm when the sink's own lag (`shardline.consumer.millis_behind_latest`, Maximum) stays above this. @defaultValue 5 minutes */
  readonly maxLag?: Duration;
  /**
   * Alarm when the sink's oldest buffer (`shardline.s3_sink.buffer.age`, Maximum) stays older than this:
   * objects are not being written. @defaultValue 15 minutes (3 × the default 300 s buffer interval)
   */
  readonly maxBufferAge?: Duration;
}

/** Props of {@link ReferencePipelineStack}. */
export interface ReferencePipelineStackProps extends StackProps {
  /** @defaultValue 'function' */
  readonly ingestMode?: IngestIntegrationMode;
  /**
   * Origins allowed by the ingest API's CORS (required), or `ANY_ORIGIN` (`'any'`) for every origin.
   */
  readonly allowedOrigins: typeof ANY_ORIGIN | readonly string[];
  /** The ingest API's clients, one key and usage plan each. @defaultValue one client named `default` */
  readonly ingestClients?: readonly IngestClient[];
  /** The ingest API's WAF web ACL, or `false` for none. @defaultValue a rate limit of 2,000 requests per 5 minutes per source IP */
  readonly ingestWaf?: IngestWafOptions | false;
  /** Reserved concurrency of the ingest function (`ingestMode: 'function'`), or `false`. @defaultValue 50 */
  readonly ingestReservedConcurrency?: number | false;
  /** The stream's capacity (on-demand by default). */
  readonly stream?: EventStreamProps;
  /**
   * The consumers' image. @defaultValue an image asset built by `cdk deploy` from the repository with
   * `docker/consumer.Dockerfile` (synth only stages the files: no Docker needed to synthesize)
   */
  readonly consumerImage?: ecs.ContainerImage;
  /** The s3-sink's command. @defaultValue {@link DEFAULT_COMMANDS}.s3Sink */
  readonly s3SinkCommand?: readonly string[];
  /** The live-metrics app's command. @defaultValue {@link DEFAULT_COMMANDS}.liveMetrics */
  readonly liveMetricsCommand?: readonly string[];
  /** The s3-sink's key prefix (its objects, errors and manifests; the only keys it may write). @defaultValue 's3-sink/' */
  readonly archivePrefix?: string;
  /** Alarm when the oldest unread record is older than this. @defaultValue 5 minutes */
  readonly maxIteratorAge?: Duration;
  /** Alarm when the API answers more 5xx than this per minute. @defaultValue 5 */
  readonly maxApiServerErrorsPerMinute?: number;
  /**
   * Which consumer applications read with enhanced fan-out (each through a registered consumer named
   * like its application, billed per shard-hour) instead of polling.
   * @defaultValue `{}` (both poll)
   */
  readonly fanOut?: { readonly s3Sink?: boolean; readonly liveMetrics?: boolean };
  /**
   * How each consumer application's workers share its leases (`LeaseTableProps.leaseAssignment`):
   * `'leader'` gives its lease table the `leaseOwner` index and a coordinator table, and tells its
   * tasks (the s3-sink's command passes `--lease-assignment leader`; live metrics reads
   * `SHARDLINE_LEASE_ASSIGNMENT`).
   * @defaultValue `{}` (both `'worker'`)
   */
  readonly leaseAssignment?: {
    readonly s3Sink?: LeaseAssignment;
    readonly liveMetrics?: LeaseAssignment;
  };
  /**
   * How the s3-sink archives: record format (JSON lines or Parquet), data prefix, event-time
   * partitioning, Firehose-style query, buffering, and an optional Glue/Athena table over the archive.
   * @defaultValue gzipped JSON lines of envelopes under `<archivePrefix>events/yyyy/MM/dd/HH/`, no table
   */
  readonly archive?: S3SinkArchiveSettings;
  /**
   * The s3-sink's OpenTelemetry metrics (its `shardline.s3_sink.*` and its consumer's
   * `shardline.consumer.*` instruments) in CloudWatch: the sink runs with `--metrics emf:<namespace>`,
   * CloudWatch embedded-metric-format lines on stdout that the task's log group turns into metrics — no
   * collector, no agent, no extra IAM — and the stack alarms on the sink's own lag, its buffer age and
   * its error-output records (`sinkLagAlarm`, `sinkBufferAgeAlarm`, `sinkErrorOutputAlarm`).
   * `nodeImport` loads your own OpenTelemetry setup instead (no alarms then).
   * @defaultValue none (the instruments are no-ops)
   */
  readonly s3SinkMetrics?: S3SinkMetricsSettings;
  /** What happens to the data stores when the stack is deleted. @defaultValue RemovalPolicy.RETAIN */
  readonly dataRemovalPolicy?: RemovalPolicy;
}

const TIME_FIELD_FORMATS = ['auto', 'iso-8601', 'epoch-seconds', 'epoch-millis'];

/**
 * The s3-sink task's `SHARDLINE_S3_SINK_*` variables for `settings`, every problem recorded under
 * `archive.…`. The sink checks its options again at start (exit 2); what can be checked here is, so a
 * wrong setting fails `cdk synth` rather than the deployment.
 */
function s3SinkEnvironment(
  settings: S3SinkArchiveSettings,
  archivePrefix: string,
  problems: ProblemList,
): Record<string, string> {
  const format = settings.format ?? 'json';
  problems.optionalOneOf('archive.format', settings.format, ['json', 'parquet']);
  problems.optionalOneOf('archive.parquetCompression', settings.parquetCompression, ['snappy', 'zstd']);
  problems.optionalOneOf('archive.compression', settings.compression, ['gzip', 'none']);
  problems.optionalOneOf('archive.timeFieldFormat', settings.timeFieldFormat, TIME_FIELD_FORMATS);
  problems.optionalMatch(
    'archive.schemaVersion',
    settings.schemaVersion,
    /^[A-Za-z0-9_-]{1,32}$/,
    '1–32 of [A-Za-z0-9_-]',
  );
  problems.optionalInteger('archive.parquetRowGroupSize', settings.parquetRowGroupSize, 1, 100_000_000);
  problems.optionalInteger('archive.bufferRecords', settings.bufferRecords, 0, 100_000_000);
  problems.optionalInteger('archive.bufferSizeBytes', settings.bufferSizeBytes, 1, 128 * 1024 * 1024);
  problems.optionalInteger('archive.bufferIntervalMs', settings.bufferIntervalMs, 0, 3_600_000);
  if (format === 'parquet') {
    if (settings.schema === undefined) problems.add('archive.schema', "is required with format 'parquet'");
    if (settings.compression === 'gzip') {
      problems.add('archive.compression', "must be 'none' with Parquet (Parquet compresses its pages)");
    }
  } else {
    for (const key of ['schemaVersion', 'parquetCompression', 'parquetRowGroupSize'] as const) {
      if (settings[key] !== undefined) problems.add(`archive.${key}`, "applies to format 'parquet' only");
    }
  }
  if (settings.schema !== undefined) schemaColumns(settings.schema, 'archive.schema', problems);
  if ((settings.table ?? false) !== false && settings.schema === undefined) {
    problems.add('archive.table', 'needs archive.schema (the columns)');
  }
  if (settings.timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: settings.timeZone });
    } catch {
      problems.add('archive.timeZone', `is not an IANA time zone, got ${JSON.stringify(settings.timeZone)}`);
    }
  }
  for (const key of ['timeField', 'metadataExtractionQuery'] as const) {
    const value = settings[key];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      problems.add(`archive.${key}`, 'must be a non-empty string');
    }
  }
  if (settings.timeField !== undefined && !(settings.dataPrefix ?? '').includes('!{timestamp:')) {
    // Without an expression the sink appends !{timestamp:yyyy/MM/dd/HH}/, which names the event time.
    if ((settings.dataPrefix ?? '').includes('!{')) {
      problems.add('archive.timeField', 'is set but dataPrefix has no !{timestamp:…} for the event time');
    }
  }
  // Where the data goes, apart from the errors and manifests (whether or not a table reads it); with a
  // table, the prefix must also be readable as its partitions (checked here so that one error lists all).
  const dataPrefix = settings.dataPrefix ?? DEFAULT_DATA_PREFIX;
  const table = settings.table === true ? {} : settings.table === false ? undefined : settings.table;
  const fixed = fixedPart(archivePrefix + dataPrefix);
  const location =
    table === undefined
      ? fixed.slice(0, fixed.lastIndexOf('/') + 1)
      : archiveLayout(archivePrefix + dataPrefix, 'archive.dataPrefix', problems, {
          timePartitionName: table.timePartitionName,
          partitionValues: table.partitionValues,
        }).location;
  checkLocationApart(location, 'archive.dataPrefix', problems, {
    manifestPrefix: archivePrefix + MANIFEST_PREFIX,
    errorPrefix: archivePrefix + ERROR_PREFIX,
  });
  const environment: Record<string, string> = {};
  const set = (variable: string, value: string | number | undefined) => {
    if (value !== undefined) environment[variable] = String(value);
  };
  // JSON lines are the sink's default: no --format then, so the command also runs a sink without it.
  if (format === 'parquet') {
    set('SHARDLINE_S3_SINK_FORMAT', format);
    set('SHARDLINE_S3_SINK_SCHEMA', JSON.stringify(settings.schema));
  }
  set('SHARDLINE_S3_SINK_SCHEMA_VERSION', settings.schemaVersion);
  set('SHARDLINE_S3_SINK_PARQUET_COMPRESSION', settings.parquetCompression);
  set('SHARDLINE_S3_SINK_PARQUET_ROW_GROUP_SIZE', settings.parquetRowGroupSize);
  set('SHARDLINE_S3_SINK_COMPRESSION', settings.compression ?? (format === 'parquet' ? 'none' : 'gzip'));
  set('SHARDLINE_S3_SINK_DATA_PREFIX', dataPrefix);
  set('SHARDLINE_S3_SINK_TIME_FIELD', settings.timeField);
  set('SHARDLINE_S3_SINK_TIME_FIELD_FORMAT', settings.timeFieldFormat);
  set('SHARDLINE_S3_SINK_TIME_ZONE', settings.timeZone);
  set('SHARDLINE_S3_SINK_METADATA_EXTRACTION_QUERY', settings.metadataExtractionQuery);
  set('SHARDLINE_S3_SINK_BUFFER_RECORDS', settings.bufferRecords);
  set('SHARDLINE_S3_SINK_BUFFER_SIZE_BYTES', settings.bufferSizeBytes);
  set('SHARDLINE_S3_SINK_BUFFER_INTERVAL_MS', settings.bufferIntervalMs);
  return environment;
}

/** The s3-sink task's variables for its OpenTelemetry metrics. */
function metricsEnvironment(
  settings: S3SinkMetricsSettings | undefined,
  problems: ProblemList,
): Record<string, string> {
  if (settings === undefined) return {};
  problems.optionalMatch(
    's3SinkMetrics.namespace',
    settings.namespace,
    /^(?!:)(?!AWS\/)[0-9A-Za-z.\-_/#:]{1,255}$/,
    'a CloudWatch namespace (1–255 of letters, digits and . - _ / # :, not starting with ":" or "AWS/")',
  );
  problems.optionalMatch(
    's3SinkMetrics.nodeImport',
    settings.nodeImport,
    /^\S+$/,
    'a module path without spaces',
  );
  for (const name of Object.keys(settings.environment ?? {})) {
    if (name === 'NODE_OPTIONS' || name.startsWith('SHARDLINE_')) {
      problems.add(`s3SinkMetrics.environment.${name}`, 'is set by the stack');
    }
  }
  if (settings.environment !== undefined && settings.nodeImport === undefined) {
    problems.add('s3SinkMetrics.environment', 'is for the module of nodeImport');
  }
  if (settings.nodeImport !== undefined) {
    return { ...settings.environment, NODE_OPTIONS: `--import ${settings.nodeImport}` };
  }
  // The sink's own exporter: CloudWatch embedded-metric-format lines on stdout (`--metrics emf`).
  return { SHARDLINE_METRICS: `emf:${settings.namespace ?? METRICS_NAMESPACE}` };
}

/** The default CloudWatch namespace of the s3-sink's metrics. */
export const METRICS_NAMESPACE = 'Shardline';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
}

/**
 * The reference pipeline: ingest API → encrypted Kinesis stream → two independent consumer
 * applications on Fargate (the s3-sink archiving to S3, and the live-metrics example), each with its
 * own lease table, plus alarms on the consumers' iterator age and the API's 5xx answers.
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class ReferencePipelineStack extends Stack {
  readonly ingest: IngestApi;
  readonly events: EventStream;
  readonly archive: ArchiveBucket;
  readonly s3Sink: ConsumerService;
  readonly liveMetrics: ConsumerService;
  /** The Glue table over the archive, with `archive.table`. */
  readonly archiveTable: ArchiveTable | undefined;
  readonly iteratorAgeAlarm: cloudwatch.Alarm;
  readonly apiServerErrorAlarm: cloudwatch.Alarm;
  /**
   * With `s3SinkMetrics` (EMF): the s3-sink's own lag — the stream's iterator age is the maximum over
   * every application reading it, and absent for fan-out readers.
   */
  readonly sinkLagAlarm: cloudwatch.Alarm | undefined;
  /** With `s3SinkMetrics` (EMF): the sink's oldest buffer, i.e. objects not being written. */
  readonly sinkBufferAgeAlarm: cloudwatch.Alarm | undefined;
  /** With `s3SinkMetrics` (EMF): records written to the error output (any type). */
  readonly sinkErrorOutputAlarm: cloudwatch.Alarm | undefined;

  constructor(scope: Construct, id: string, props: ReferencePipelineStackProps) {
    super(scope, id, props);
    const problems = propsProblems('ReferencePipelineStack');
    problems.optionalMatch(
      'archivePrefix',
      props.archivePrefix,
      /^([a-zA-Z0-9!_.*'()-]+\/)*$/,
      "a key prefix ending in '/' (or '')",
    );
    problems.optionalInteger('maxApiServerErrorsPerMinute', props.maxApiServerErrorsPerMinute, 0, 1_000_000);
    for (const app of ['s3Sink', 'liveMetrics'] as const) {
      problems.optionalOneOf(`leaseAssignment.${app}`, props.leaseAssignment?.[app], ['worker', 'leader']);
    }
    const sinkEnvironment = {
      ...s3SinkEnvironment(props.archive ?? {}, props.archivePrefix ?? 's3-sink/', problems),
      ...metricsEnvironment(props.s3SinkMetrics, problems),
    };
    problems.throwIfAny();
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;

    this.events = new EventStream(this, 'Events', { removalPolicy, ...props.stream });
    this.ingest = new IngestApi(this, 'Ingest', {
      stream: this.events,
      mode: props.ingestMode,
      allowedOrigins: props.allowedOrigins,
      clients: props.ingestClients,
      waf: props.ingestWaf,
      functionReservedConcurrency: props.ingestReservedConcurrency,
    });
    this.archive = new ArchiveBucket(this, 'Archive', { removalPolicy });

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'consumers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
      // S3 and DynamoDB traffic skips the NAT gateway (and its per-GB charge).
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const image =
      props.consumerImage ??
      ecs.ContainerImage.fromAsset(repoRoot(), {
        file: 'infra/docker/consumer.Dockerfile',
        exclude: [
          '**/node_modules',
          '**/dist',
          '**/cdk.out',
          '.git',
          'bench-results',
          'test-results',
          '.shardline',
        ],
      });

    // An application on the stream: its own lease table (`<stack>-<tableSuffix>`) and its service.
    const application = (
      id: string,
      app: 's3Sink' | 'liveMetrics',
      tableSuffix: string,
      service: Omit<ConsumerServiceProps, 'cluster' | 'stream' | 'leaseTable' | 'image' | 'fanOut'>,
    ) => {
      const leaseTable = new LeaseTable(this, `${id}Leases`, {
        tableName: `${this.stackName}-${tableSuffix}`,
        removalPolicy,
        leaseAssignment: props.leaseAssignment?.[app],
      });
      return new ConsumerService(this, id, {
        cluster,
        stream: this.events,
        leaseTable,
        image,
        ...service,
        ...(props.fanOut?.[app] ? { fanOut: {} } : {}),
      });
    };
    this.s3Sink = application('S3Sink', 's3Sink', 's3-sink', {
      command: props.s3SinkCommand ?? DEFAULT_COMMANDS.s3Sink,
      archive: { bucket: this.archive, prefix: props.archivePrefix ?? 's3-sink/' },
      environment: sinkEnvironment,
      // The default command serves /healthz there; a command of your own may not.
      ...(props.s3SinkCommand === undefined ? { healthCheckPort: SINK_HEALTH_PORT } : {}),
    });
    const table = props.archive?.table;
    if (table !== undefined && table !== false) {
      const prefix = props.archivePrefix ?? 's3-sink/';
      const format = props.archive?.format ?? 'json';
      this.archiveTable = new ArchiveTable(this, 'ArchiveTable', {
        ...(table === true ? {} : table),
        bucket: this.archive.bucket,
        format,
        schema: props.archive?.schema as ArchiveSchema,
        isGzipped: format === 'json' ? (props.archive?.compression ?? 'gzip') === 'gzip' : undefined,
        dataPrefix: prefix + (props.archive?.dataPrefix ?? DEFAULT_DATA_PREFIX),
        errorPrefix: prefix + ERROR_PREFIX,
        manifestPrefix: prefix + MANIFEST_PREFIX,
        timeZone: props.archive?.timeZone,
      });
    }
    this.liveMetrics = application('LiveMetrics', 'liveMetrics', 'live-metrics', {
      command: props.liveMetricsCommand ?? DEFAULT_COMMANDS.liveMetrics,
      maxTasks: 1,
      cpu: 256,
      memoryMiB: 512,
    });

    const maxAge = props.maxIteratorAge ?? Duration.minutes(5);
    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'IteratorAgeHigh', {
      alarmDescription: `The oldest unread record is older than ${maxAge.toHumanString()}: a consumer is falling behind or stopped`,
      metric: this.events.stream.metricGetRecordsIteratorAgeMilliseconds({
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: maxAge.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    this.apiServerErrorAlarm = new cloudwatch.Alarm(this, 'ApiServerErrors', {
      alarmDescription: 'The ingest API answers 5xx: clients retry, but Kinesis or the function is failing',
      metric: this.ingest.metricServerErrors(),
      threshold: props.maxApiServerErrorsPerMinute ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const metricsSettings = props.s3SinkMetrics;
    if (metricsSettings !== undefined && metricsSettings.nodeImport === undefined) {
      // The EMF lines' dimension set of application and stream (the exporter's roll-up).
      const sinkMetric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: metricsSettings.namespace ?? METRICS_NAMESPACE,
          metricName,
          dimensionsMap: {
            // The sink's application name: its lease table's (the task's --app).
            'shardline.application': `${this.stackName}-s3-sink`,
            'shardline.stream': this.events.stream.streamName,
          },
          statistic,
          period: Duration.minutes(1),
        });
      const maxLag = metricsSettings.maxLag ?? Duration.minutes(5);
      this.sinkLagAlarm = new cloudwatch.Alarm(this, 'SinkLagHigh', {
        alarmDescription: `The s3-sink is more than ${maxLag.toHumanString()} behind the stream (its own lag, whatever other applications do)`,
        metric: sinkMetric('shardline.consumer.millis_behind_latest', 'Maximum'),
        threshold: maxLag.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      const maxBufferAge = metricsSettings.maxBufferAge ?? Duration.minutes(15);
      this.sinkBufferAgeAlarm = new cloudwatch.Alarm(this, 'SinkBufferAgeHigh', {
        alarmDescription: `The s3-sink's oldest buffer is older than ${maxBufferAge.toHumanString()}: objects are not being written (S3 failing, or a shard stuck)`,
        metric: sinkMetric('shardline.s3_sink.buffer.age', 'Maximum'),
        threshold: maxBufferAge.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      this.sinkErrorOutputAlarm = new cloudwatch.Alarm(this, 'SinkErrorOutput', {
        alarmDescription:
          'The s3-sink wrote records to its error output (not envelopes, partitioning or format conversion failed): look under the error prefix',
        metric: sinkMetric('shardline.s3_sink.error_output.records', 'Sum').with({
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    new CfnOutput(this, 'IngestUrl', { value: `${this.ingest.url}v1/events` });
    for (const [name, client] of this.ingest.clients) {
      // `ApiKeyId` for the `default` client (as before), `ApiKeyId<Name>` for the others.
      const suffix =
        name === 'default' ? '' : name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
      new CfnOutput(this, `ApiKeyId${suffix}`, {
        value: client.apiKey.keyId,
        description: `The API key id of ingest client ${name}`,
      });
    }
    new CfnOutput(this, 'StreamName', { value: this.events.stream.streamName });
    new CfnOutput(this, 'ArchiveBucket', { value: this.archive.bucket.bucketName });
  }
}
