import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { MeterProvider } from '@opentelemetry/api';
import { ProblemList } from '@shardline/common';
import { type MetricsExporterOptions, resolveMetricsExporterConfig } from '@shardline/metrics';
import { ConfigurationError } from '../errors.js';
import { type Clock, monotonicClock } from '../internal/clock.js';
import { consoleWarningsLogger, type Logger } from '../internal/logger.js';
import type { DynamoDBClientLike } from '../leases/dynamodb/DynamoDBLeaseStore.js';
import type { KinesisClientLike } from '../retrieval/kinesis/PollingShardReader.js';
import type { InitialPosition } from '../shard-sync/shardLineage.js';

/** Options of `createConsumer`. */
export interface ConsumerOptions {
  /** The stream to read, by name (give `streamName` or `streamArn`, not both). */
  readonly streamName?: string;
  /** The stream to read, by ARN. */
  readonly streamArn?: string;
  /**
   * The application: every worker with the same name shares the work and the checkpoints. Different
   * applications read the same stream independently.
   */
  readonly applicationName: string;
  /** The DynamoDB lease table. @defaultValue `applicationName` (as the Java KCL) */
  readonly leaseTableName?: string;
  /**
   * Who decides which worker holds which lease:
   *
   * - `'worker'`: every worker lists the lease table each take round and takes its own share (the Java
   *   KCL 2.x design). Lease-table reads grow with shards × workers.
   * - `'leader'`: one elected worker lists the table and assigns leases; the others find theirs with a
   *   `Query` on the table's `leaseOwner` index (the Java KCL 3.x design, `LeaseOwnerToLeaseKeyIndex`,
   *   created with the table or added to an existing one). Reads per lease no longer grow with the
   *   number of workers. Needs a second table, `coordinatorTableName`, for the leader and heartbeat
   *   items (the lease table keeps lease items only). docs/architecture.md has the figures.
   *
   * Every worker of an application must use the same mode. @defaultValue `'worker'`
   */
  readonly leaseAssignment?: LeaseAssignmentMode;
  /**
   * The table of the leader and heartbeat items (`leaseAssignment: 'leader'` only), created on demand
   * like the lease table. @defaultValue `<leaseTableName>-ShardlineCoordinator`
   */
  readonly coordinatorTableName?: string;
  /**
   * Your Kinesis client. Never destroyed by the library. With `retrieval: 'fanOut'` on AWS it must use
   * the SDK's HTTP/2 handler (the `KinesisClient` default); the local emulators need an HTTP/1.1
   * `NodeHttpHandler` (the local twin's client config gives one).
   */
  readonly kinesisClient: KinesisClientLike;
  /** Your DynamoDB client. Never destroyed by the library. */
  readonly dynamoDBClient: DynamoDBClientLike;
  /**
   * Where shards without a checkpoint start: `'TRIM_HORIZON'` (oldest record kept), `'LATEST'` (only
   * new records) or `{ atTimestamp }`. Children of a resharded shard always start at `TRIM_HORIZON`.
   * @defaultValue `'LATEST'` (as the Java KCL)
   */
  readonly initialPosition?: InitialPosition;
  /** This worker's id in the lease table. @defaultValue `<hostname>-<pid>-<random>` */
  readonly workerId?: string;
  /**
   * A lease whose counter has not moved for this long (on the observer's clock) is expired and may be
   * taken; a worker that could not renew for this long stops delivering. @defaultValue 10000
   */
  readonly failoverTimeMs?: number;
  /** How often held leases are renewed. @defaultValue `failoverTimeMs / 3 - 25` (KCL: 3308 ms) */
  readonly renewIntervalMs?: number;
  /** How often the table is scanned for leases to take. @defaultValue `2 × (failoverTimeMs + 25)` (KCL: 20050 ms) */
  readonly leaseTakeIntervalMs?: number;
  /** The most leases this worker holds. @defaultValue Infinity */
  readonly maxLeasesPerWorker?: number;
  /** How often shards are listed for new leases (shard ends trigger a sync too). @defaultValue 60000 */
  readonly shardSyncIntervalMs?: number;
  /**
   * How records are read: `'polling'` (`GetRecords`, the default) or `'fanOut'` (enhanced fan-out:
   * `SubscribeToShard` through a registered stream consumer), or either with its options
   * (`{ polling: { ... } }`, `{ fanOut: { ... } }`). Fan-out needs an HTTP/2 request handler on AWS
   * (the README's "Retrieval modes" gives the client setup) and costs a registered consumer per
   * shard-hour. @defaultValue `'polling'`
   */
  readonly retrieval?: RetrievalOptions;
  /** @deprecated Use `retrieval: { polling: { maxRecordsPerFetch } }` (same meaning). */
  readonly maxRecordsPerFetch?: number;
  /** @deprecated Use `retrieval: { polling: { idleTimeBetweenReadsMs } }` (same meaning). */
  readonly idleTimeBetweenReadsMs?: number;
  /** Per shard: most batches fetched and not yet handled (checkpointed or released). @defaultValue 4 */
  readonly maxBufferedBatches?: number;
  /** Per shard: most payload bytes fetched and not yet handled (one batch always fits). @defaultValue 16 MiB */
  readonly maxBufferedBytes?: number;
  /**
   * Checkpoints are written at most once per shard per this interval (always at shard end, at release
   * and at stop). 0 writes every checkpoint at once. @defaultValue 5000
   */
  readonly checkpointIntervalMs?: number;
  /**
   * How long `stop()` waits for delivered batches to be handled before releasing. However AWS behaves,
   * `stop()` itself finishes within `shutdownTimeoutMs + failoverTimeMs + min(shutdownTimeoutMs,
   * failoverTimeMs) + 5 × timeouts.leaseTableCallMs + 3 s` (73 s with the defaults; the README's
   * "Deadlines" says why), and as soon as the batches are handled when AWS answers. @defaultValue 20000
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * Deadlines of the calls to AWS. Every call gets its own abort signal that fires at its deadline, so a
   * hung connection or a response trickling in is cut off whatever your client's request handler does;
   * a missed deadline is a retriable error, retried with the usual backoff.
   * @defaultValue `{ kinesisCallMs: 10000, leaseTableCallMs: 5000 }`
   */
  readonly timeouts?: ConsumerTimeoutOptions;
  /**
   * Failed sessions of one shard in a row at the same checkpoint (`ShardSession.fail`, a poison batch of
   * `run()`) before the shard is halted: the count is kept in the lease item, so it survives moving
   * between workers; a halted shard is left alone by every Shardline worker until `shardline skip` (or
   * `reset`) clears it. A checkpoint past that position starts the count again. @defaultValue 5
   */
  readonly maxShardFailures?: number;
  /**
   * After a session of a shard failed, this worker waits this long before it takes that shard again
   * (doubling with each failure in a row, up to 10 minutes); other workers may take it at once.
   * @defaultValue 10000
   */
  readonly shardFailureBackoffMs?: number;
  /** Where the library logs. @defaultValue warnings and errors to the console */
  readonly logger?: Logger;
  /** Aborting it stops the consumer (as `stop()`). */
  readonly signal?: AbortSignal;
  /** The monotonic clock (tests). @defaultValue `performance.now()` */
  readonly clock?: Clock;
  /**
   * Where metrics go (OpenTelemetry metrics API, see `ConsumerMetricName`).
   * @defaultValue the global `MeterProvider`: a no-op unless the application installs an OpenTelemetry SDK
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Publish this consumer's metrics where operators look, without installing an OpenTelemetry SDK: a
   * Prometheus endpoint (`{ kind: 'prometheus', port: 9464 }`) or CloudWatch embedded-metric-format
   * lines on stdout (`{ kind: 'emf', namespace: 'Orders' }`, written every 60 s and at stop). Started by
   * `createConsumer`, shut down when the consumer stops (the last EMF flush written, the port closed);
   * an exporter that fails (port in use, stdout closed) is reported on stderr and never stops the
   * consumer. Not with `meterProvider`. See `@shardline/metrics`.
   * @defaultValue none: metrics go to `meterProvider`
   */
  readonly metrics?: MetricsExporterOptions;
  /**
   * Delete a finished shard's lease (`SHARD_END`) once every child's lease has started (its checkpoint
   * moved past `TRIM_HORIZON`) and no parent lease is left, as the Java KCL's option of the same name.
   * The delete is conditional on the lease's counter. @defaultValue true
   */
  readonly cleanupLeasesUponShardCompletion?: boolean;
  /**
   * Delete the leases of shards the stream no longer lists (trimmed by retention after a reshard), once
   * unlisted and unwritten for `garbageLeaseGracePeriodMs`. @defaultValue true
   */
  readonly cleanupGarbageLeases?: boolean;
  /** How often lease cleanup runs (KCL `leaseCleanupIntervalMillis`). @defaultValue 60000 */
  readonly leaseCleanupIntervalMs?: number;
  /**
   * How long a lease must stay unlisted by the stream and unwritten before it is deleted as garbage
   * (KCL `garbageLeaseCleanupIntervalMillis`); at least `shardSyncIntervalMs`. @defaultValue 1800000
   */
  readonly garbageLeaseGracePeriodMs?: number;
  /**
   * Start even when the lease table's leases are stamped with another stream (its ARN or creation time
   * differs: the stream was deleted and recreated, or the application name is reused). The leases are
   * then stamped with this stream and their checkpoints used as they are. Without it, `start()` rejects
   * with `StreamIdentityMismatchError`; `shardline reset` is the deliberate way out. @defaultValue false
   */
  readonly acceptStreamIdentityChange?: boolean;
  /**
   * Serve `/healthz` and `/readyz` over HTTP on this port while the consumer runs (started by
   * `start()`/`run()`, closed by `stop()`). `/healthz` judges this process only (event loop responsive,
   * lease renewals succeeding): use it as the container health check. `/readyz` adds the consumer's state
   * and stalled shards, which are never a reason to restart the process. @defaultValue off
   */
  readonly health?: HealthCheckOptions;
}

/** Options of the health endpoints (see {@link ConsumerOptions.health}). */
export interface HealthCheckOptions {
  /** The port to listen on (1–65535, or 0 for any free port). */
  readonly port: number;
  /**
   * The address to bind. Keep the default unless something outside the process's network namespace
   * probes it; a container whose orchestrator probes over the network needs `'0.0.0.0'`.
   * @defaultValue `'127.0.0.1'`
   */
  readonly host?: string;
  /** `/healthz` fails when the event loop's delay (p99 of a timer's lateness over the last 10 s, sampled every 100 ms) is above this. @defaultValue 1000 */
  readonly maxEventLoopDelayMs?: number;
  /**
   * `/healthz` fails when lease renewals have been failing for longer than this (every attempt
   * since the last success failed). By then the worker has given up its leases locally.
   * @defaultValue `failoverTimeMs`
   */
  readonly maxRenewalFailureMs?: number;
  /**
   * A shard behind (records read and not yet handled) without a handled batch for longer than this is
   * stalled: `/readyz` lists it and answers 503 (`/healthz` does not).
   * Keep it above the longest time a batch may take (for the S3 sink: its buffer interval).
   * @defaultValue 300000
   */
  readonly stalledShardMs?: number;
}

/** {@link HealthCheckOptions} after defaults. */
export interface ResolvedHealthCheckConfig {
  /** The port to listen on (0: any free port). */
  readonly port: number;
  /** The address to bind. */
  readonly host: string;
  /** `/healthz` fails above this event-loop delay (p99), in milliseconds. */
  readonly maxEventLoopDelayMs: number;
  /** `/healthz` fails when renewals have been failing for longer than this, in milliseconds. */
  readonly maxRenewalFailureMs: number;
  /** A shard behind without progress for longer than this is stalled (`/readyz`), in milliseconds. */
  readonly stalledShardMs: number;
}

/** How a consumer reads records (see {@link ConsumerOptions.retrieval}). */
export type RetrievalOptions =
  | 'polling'
  | 'fanOut'
  | { readonly polling: PollingRetrievalOptions }
  | { readonly fanOut: FanOutRetrievalOptions };

/** Options of polling retrieval (`GetRecords`). */
export interface PollingRetrievalOptions {
  /**
   * Wait after a read that found no backlog. Every application polling a shard shares its 5 `GetRecords`
   * calls per second: a caught-up reader makes `1000 / idleTimeBetweenReadsMs` calls per second, so the
   * default leaves room for 5 applications with an average delivery delay of about half a second; 200
   * gives one application the whole budget and the lowest latency. @defaultValue 1000
   */
  readonly idleTimeBetweenReadsMs?: number;
  /** `Limit` of each `GetRecords` (1–10,000). @defaultValue 10000 */
  readonly maxRecordsPerFetch?: number;
}

/** Options of enhanced fan-out retrieval (`SubscribeToShard`). */
export interface FanOutRetrievalOptions {
  /**
   * The registered stream consumer (`RegisterStreamConsumer`) this application reads through; every
   * worker of the application uses the same one, registered on first start and reused afterwards.
   * 1–128 characters of a-z A-Z 0-9 _ . -. @defaultValue the `applicationName`
   */
  readonly consumerName?: string;
  /**
   * The idle deadline of a subscription: when no event (records or an empty heartbeat) arrives for this
   * long, the subscription is cancelled and renewed from the last position. Kinesis sends an event at
   * least every 5 s on a quiet shard. @defaultValue 35000
   */
  readonly subscriptionIdleTimeoutMs?: number;
}

/** {@link RetrievalOptions} after defaults. */
export type ResolvedRetrievalConfig =
  | {
      readonly mode: 'polling';
      readonly idleTimeBetweenReadsMs: number;
      readonly maxRecordsPerFetch: number;
    }
  | {
      readonly mode: 'fanOut';
      readonly consumerName: string;
      readonly subscriptionIdleTimeoutMs: number;
    };

/** Deadlines of the consumer's calls to AWS (see {@link ConsumerOptions.timeouts}). */
export interface ConsumerTimeoutOptions {
  /**
   * Deadline of each Kinesis call (`GetRecords`, `GetShardIterator`, a `ListShards` page), SDK retries
   * included. A hung read is aborted and retried on the same iterator, so the shard resumes within this
   * deadline plus the read backoff (at most 5 s) once Kinesis answers again. @defaultValue 10000
   */
  readonly kinesisCallMs?: number;
  /**
   * Deadline of each lease-table call (`Scan` page, `GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`,
   * `DescribeTable`, `CreateTable`), SDK retries included. Renewals and checkpoint writes are also
   * bounded by the time their lease has left (the shorter wins), so a worker whose table does not
   * answer stops delivering before its leases could expire. @defaultValue 5000
   */
  readonly leaseTableCallMs?: number;
}

/** The values of {@link ConsumerOptions.leaseAssignment}. */
export type LeaseAssignmentMode = 'worker' | 'leader';

/** {@link ConsumerTimeoutOptions} after defaults. */
export interface ResolvedConsumerTimeouts {
  /** Deadline of each Kinesis call, in milliseconds. */
  readonly kinesisCallMs: number;
  /** Deadline of each lease-table call, in milliseconds. */
  readonly leaseTableCallMs: number;
}

/** {@link ConsumerOptions} after defaults, validated. */
export interface ResolvedConsumerConfig {
  readonly streamName: string | undefined;
  readonly streamArn: string | undefined;
  /** `streamName`, or the name inside `streamArn`. */
  readonly streamLabel: string;
  readonly applicationName: string;
  readonly leaseTableName: string;
  readonly leaseAssignment: LeaseAssignmentMode;
  /** The coordinator table (`leaseAssignment: 'leader'`). */
  readonly coordinatorTableName: string;
  readonly kinesisClient: KinesisClientLike;
  readonly dynamoDBClient: DynamoDBClientLike;
  readonly initialPosition: InitialPosition;
  readonly workerId: string;
  readonly failoverTimeMs: number;
  readonly renewIntervalMs: number;
  readonly leaseTakeIntervalMs: number;
  readonly maxLeasesPerWorker: number;
  readonly shardSyncIntervalMs: number;
  /** The retrieval mode and its options. */
  readonly retrieval: ResolvedRetrievalConfig;
  readonly maxBufferedBatches: number;
  readonly maxBufferedBytes: number;
  readonly checkpointIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  /** Deadlines of the calls to AWS. */
  readonly timeouts: ResolvedConsumerTimeouts;
  readonly maxShardFailures: number;
  readonly shardFailureBackoffMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  readonly meterProvider: MeterProvider | undefined;
  /** The exporter `createConsumer` starts (checked here, started there). */
  readonly metrics: MetricsExporterOptions | undefined;
  readonly cleanupLeasesUponShardCompletion: boolean;
  readonly cleanupGarbageLeases: boolean;
  readonly leaseCleanupIntervalMs: number;
  readonly garbageLeaseGracePeriodMs: number;
  readonly acceptStreamIdentityChange: boolean;
  /** The health endpoints, when enabled. */
  readonly health: ResolvedHealthCheckConfig | undefined;
}

/** Defaults of {@link ConsumerOptions} (derived defaults are computed from `failoverTimeMs`). */
export const CONSUMER_DEFAULTS = {
  initialPosition: 'LATEST',
  failoverTimeMs: 10_000,
  maxLeasesPerWorker: Number.POSITIVE_INFINITY,
  shardSyncIntervalMs: 60_000,
  maxRecordsPerFetch: 10_000,
  idleTimeBetweenReadsMs: 1_000,
  subscriptionIdleTimeoutMs: 35_000,
  maxBufferedBatches: 4,
  maxBufferedBytes: 16 * 1024 * 1024,
  checkpointIntervalMs: 5_000,
  shutdownTimeoutMs: 20_000,
  timeouts: { kinesisCallMs: 10_000, leaseTableCallMs: 5_000 },
  cleanupLeasesUponShardCompletion: true,
  cleanupGarbageLeases: true,
  leaseCleanupIntervalMs: 60_000,
  garbageLeaseGracePeriodMs: 1_800_000,
  acceptStreamIdentityChange: false,
  maxShardFailures: 5,
  shardFailureBackoffMs: 10_000,
  healthHost: '127.0.0.1',
  maxEventLoopDelayMs: 1_000,
  stalledShardMs: 300_000,
} as const;

const KNOWN_KEYS = new Set([
  'streamName',
  'streamArn',
  'applicationName',
  'leaseTableName',
  'leaseAssignment',
  'coordinatorTableName',
  'kinesisClient',
  'dynamoDBClient',
  'initialPosition',
  'workerId',
  'failoverTimeMs',
  'renewIntervalMs',
  'leaseTakeIntervalMs',
  'maxLeasesPerWorker',
  'shardSyncIntervalMs',
  'maxRecordsPerFetch',
  'idleTimeBetweenReadsMs',
  'retrieval',
  'maxBufferedBatches',
  'maxBufferedBytes',
  'checkpointIntervalMs',
  'shutdownTimeoutMs',
  'timeouts',
  'maxShardFailures',
  'shardFailureBackoffMs',
  'logger',
  'signal',
  'clock',
  'meterProvider',
  'metrics',
  'cleanupLeasesUponShardCompletion',
  'cleanupGarbageLeases',
  'leaseCleanupIntervalMs',
  'garbageLeaseGracePeriodMs',
  'acceptStreamIdentityChange',
  'health',
]);
const HEALTH_KEYS = new Set(['port', 'host', 'maxEventLoopDelayMs', 'maxRenewalFailureMs', 'stalledShardMs']);

const TIMEOUT_KEYS = new Set(['kinesisCallMs', 'leaseTableCallMs']);
const POLLING_KEYS = new Set(['idleTimeBetweenReadsMs', 'maxRecordsPerFetch']);
const FAN_OUT_KEYS = new Set(['consumerName', 'subscriptionIdleTimeoutMs']);
/** RegisterStreamConsumer's ConsumerName pattern. */
const CONSUMER_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/([a-zA-Z0-9_.-]{1,128})$/;
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/**
 * Merges {@link CONSUMER_DEFAULTS} with `options` and validates every field.
 *
 * @throws {@link ConfigurationError} listing every problem found.
 */
export function resolveConsumerConfig(options: ConsumerOptions): ResolvedConsumerConfig {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError([{ path: '(options)', message: 'must be an object' }], 'consumer options');
  }
  const problems = new ProblemList('consumer options');
  problems.unknownKeys(options, KNOWN_KEYS);

  const { streamName, streamArn } = options;
  let streamLabel = '';
  if (streamName === undefined && streamArn === undefined) {
    problems.add('streamName', 'give streamName or streamArn');
  } else if (streamName !== undefined && streamArn !== undefined) {
    problems.add('streamArn', 'give streamName or streamArn, not both');
  } else if (streamName !== undefined) {
    if (typeof streamName !== 'string' || !STREAM_NAME.test(streamName)) {
      problems.add(
        'streamName',
        `must be 1–128 characters of a-z A-Z 0-9 _ . -, got ${JSON.stringify(streamName)}`,
      );
    } else streamLabel = streamName;
  } else {
    const match = typeof streamArn === 'string' ? STREAM_ARN.exec(streamArn) : null;
    if (!match) problems.add('streamArn', `must be a Kinesis stream ARN, got ${JSON.stringify(streamArn)}`);
    else streamLabel = match[1]!;
  }

  const applicationName = options.applicationName;
  if (typeof applicationName !== 'string' || applicationName.length === 0) {
    problems.add('applicationName', 'is required (a non-empty string)');
  }
  const leaseTableName = options.leaseTableName ?? applicationName;
  if (typeof leaseTableName !== 'string' || !TABLE_NAME.test(leaseTableName)) {
    problems.add(
      options.leaseTableName === undefined ? 'applicationName' : 'leaseTableName',
      `must be a valid DynamoDB table name (3–255 characters of a-z A-Z 0-9 _ . -) to name the lease table, got ${JSON.stringify(leaseTableName)}`,
    );
  }
  const leaseAssignment = options.leaseAssignment ?? 'worker';
  if (leaseAssignment !== 'worker' && leaseAssignment !== 'leader') {
    problems.add('leaseAssignment', `must be 'worker' or 'leader', got ${JSON.stringify(leaseAssignment)}`);
  }
  const coordinatorTableName =
    options.coordinatorTableName ?? `${String(leaseTableName)}-ShardlineCoordinator`;
  if (
    options.coordinatorTableName === undefined &&
    problems.has(options.leaseTableName === undefined ? 'applicationName' : 'leaseTableName')
  ) {
    // Derived from a lease table name already reported.
  } else if (typeof coordinatorTableName !== 'string' || !TABLE_NAME.test(coordinatorTableName)) {
    problems.add(
      'coordinatorTableName',
      `must be a valid DynamoDB table name (3–255 characters of a-z A-Z 0-9 _ . -), got ${JSON.stringify(coordinatorTableName)}`,
    );
  } else if (coordinatorTableName === leaseTableName) {
    problems.add(
      'coordinatorTableName',
      'must differ from the lease table (the Java KCL reads every lease-table item as a lease)',
    );
  }
  const hasSend = (value: unknown) =>
    typeof value === 'object' && value !== null && typeof (value as { send?: unknown }).send === 'function';
  if (!hasSend(options.kinesisClient))
    problems.add('kinesisClient', 'is required (a KinesisClient from @aws-sdk/client-kinesis)');
  if (!hasSend(options.dynamoDBClient)) {
    problems.add('dynamoDBClient', 'is required (a DynamoDBClient from @aws-sdk/client-dynamodb)');
  }

  const initialPosition = options.initialPosition ?? CONSUMER_DEFAULTS.initialPosition;
  if (initialPosition !== 'LATEST' && initialPosition !== 'TRIM_HORIZON') {
    const at = (initialPosition as { atTimestamp?: unknown } | null)?.atTimestamp;
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
      problems.add(
        'initialPosition',
        `must be 'TRIM_HORIZON', 'LATEST' or { atTimestamp: Date }, got ${JSON.stringify(initialPosition)}`,
      );
    }
  }

  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (typeof workerId !== 'string' || workerId.length === 0 || workerId.length > 1024) {
    problems.add('workerId', 'must be a non-empty string of at most 1024 characters');
  }

  const failoverTimeMs = problems.integer(
    'failoverTimeMs',
    options.failoverTimeMs ?? CONSUMER_DEFAULTS.failoverTimeMs,
    1_000,
    3_600_000,
  );
  // Derived defaults come from a valid failover time only, so one mistake is reported once.
  const baseFailoverMs = problems.has('failoverTimeMs') ? CONSUMER_DEFAULTS.failoverTimeMs : failoverTimeMs;
  const derivedRenew = Math.max(100, Math.floor(baseFailoverMs / 3) - 25);
  const renewIntervalMs = problems.integer(
    'renewIntervalMs',
    options.renewIntervalMs ?? derivedRenew,
    100,
    3_600_000,
  );
  if (
    !problems.has('failoverTimeMs') &&
    !problems.has('renewIntervalMs') &&
    renewIntervalMs * 2 >= failoverTimeMs
  ) {
    problems.add(
      'renewIntervalMs',
      `must be less than half of failoverTimeMs (${failoverTimeMs}) so a lease survives one failed renewal, got ${renewIntervalMs}`,
    );
  }
  const leaseTakeIntervalMs = problems.integer(
    'leaseTakeIntervalMs',
    options.leaseTakeIntervalMs ?? 2 * (baseFailoverMs + 25),
    100,
    3_600_000,
  );
  const maxLeasesPerWorker = options.maxLeasesPerWorker ?? CONSUMER_DEFAULTS.maxLeasesPerWorker;
  if (maxLeasesPerWorker !== Number.POSITIVE_INFINITY)
    problems.integer('maxLeasesPerWorker', maxLeasesPerWorker, 1, 1_000_000);
  const retrieval = resolveRetrieval(options, problems);
  const {
    shardSyncIntervalMs,
    maxBufferedBatches,
    maxBufferedBytes,
    checkpointIntervalMs,
    shutdownTimeoutMs,
    maxShardFailures,
    shardFailureBackoffMs,
  } = problems.integers(options, CONSUMER_DEFAULTS, {
    shardSyncIntervalMs: [1_000, 86_400_000],
    maxBufferedBatches: [1, 10_000],
    maxBufferedBytes: [1, 2 ** 40],
    checkpointIntervalMs: [0, 3_600_000],
    shutdownTimeoutMs: [0, 3_600_000],
    maxShardFailures: [1, 1_000],
    shardFailureBackoffMs: [0, 3_600_000],
  });

  const timeoutOptions = options.timeouts ?? {};
  let timeouts: ResolvedConsumerTimeouts = CONSUMER_DEFAULTS.timeouts;
  if (typeof timeoutOptions !== 'object' || timeoutOptions === null) {
    problems.add('timeouts', 'must be an object ({ kinesisCallMs, leaseTableCallMs })');
  } else {
    for (const key of Object.keys(timeoutOptions)) {
      if (!TIMEOUT_KEYS.has(key)) problems.add(`timeouts.${key}`, 'unknown option');
    }
    timeouts = problems.integers(
      timeoutOptions,
      CONSUMER_DEFAULTS.timeouts,
      { kinesisCallMs: [100, 600_000], leaseTableCallMs: [100, 600_000] },
      'timeouts.',
    );
  }

  const logger = options.logger ?? consoleWarningsLogger;
  if (
    typeof logger !== 'object' ||
    logger === null ||
    ['debug', 'info', 'warn', 'error'].some(
      (m) => typeof (logger as unknown as Record<string, unknown>)[m] !== 'function',
    )
  ) {
    problems.add('logger', 'must have debug, info, warn and error methods');
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    problems.add('signal', 'must be an AbortSignal');
  const clock = options.clock ?? monotonicClock;
  if (typeof clock?.nowMs !== 'function') problems.add('clock', 'must have a nowMs() method');
  const meterProvider = options.meterProvider;
  if (
    meterProvider !== undefined &&
    typeof (meterProvider as { getMeter?: unknown } | null)?.getMeter !== 'function'
  ) {
    problems.add('meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter)');
  }
  if (options.metrics !== undefined) {
    if (meterProvider !== undefined) {
      problems.add('metrics', 'give metrics or meterProvider, not both (metrics makes its own provider)');
    }
    try {
      resolveMetricsExporterConfig(options.metrics);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      for (const p of error.problems) problems.add(`metrics.${p.path}`, p.message);
    }
  }

  const boolean = (name: keyof typeof CONSUMER_DEFAULTS & keyof ConsumerOptions): boolean => {
    const value = options[name] ?? CONSUMER_DEFAULTS[name];
    if (typeof value !== 'boolean') problems.add(name, `must be true or false, got ${JSON.stringify(value)}`);
    return value === true;
  };
  const cleanupLeasesUponShardCompletion = boolean('cleanupLeasesUponShardCompletion');
  const cleanupGarbageLeases = boolean('cleanupGarbageLeases');
  const acceptStreamIdentityChange = boolean('acceptStreamIdentityChange');
  const leaseCleanupIntervalMs = problems.integer(
    'leaseCleanupIntervalMs',
    options.leaseCleanupIntervalMs ?? CONSUMER_DEFAULTS.leaseCleanupIntervalMs,
    100,
    86_400_000,
  );
  const garbageLeaseGracePeriodMs = problems.integer(
    'garbageLeaseGracePeriodMs',
    options.garbageLeaseGracePeriodMs ?? CONSUMER_DEFAULTS.garbageLeaseGracePeriodMs,
    1_000,
    30 * 86_400_000,
  );
  if (
    !problems.has('garbageLeaseGracePeriodMs') &&
    !problems.has('shardSyncIntervalMs') &&
    garbageLeaseGracePeriodMs < shardSyncIntervalMs
  ) {
    // A shard missing from one listing only (a new child not listed yet) must not lose its lease.
    problems.add(
      'garbageLeaseGracePeriodMs',
      `must be at least shardSyncIntervalMs (${shardSyncIntervalMs}) so that more than one listing confirms a shard is gone, got ${garbageLeaseGracePeriodMs}`,
    );
  }

  const health = resolveHealth(options.health, baseFailoverMs, problems);

  problems.throwIfAny();
  return {
    streamName,
    streamArn,
    streamLabel,
    applicationName,
    leaseTableName: leaseTableName as string,
    leaseAssignment,
    coordinatorTableName,
    kinesisClient: options.kinesisClient,
    dynamoDBClient: options.dynamoDBClient,
    initialPosition,
    workerId,
    failoverTimeMs,
    renewIntervalMs,
    leaseTakeIntervalMs,
    maxLeasesPerWorker,
    shardSyncIntervalMs,
    retrieval,
    maxBufferedBatches,
    maxBufferedBytes,
    checkpointIntervalMs,
    shutdownTimeoutMs,
    timeouts,
    maxShardFailures,
    shardFailureBackoffMs,
    logger,
    signal: options.signal,
    clock,
    meterProvider,
    metrics: options.metrics,
    cleanupLeasesUponShardCompletion,
    cleanupGarbageLeases,
    leaseCleanupIntervalMs,
    garbageLeaseGracePeriodMs,
    acceptStreamIdentityChange,
    health,
  };
}

function resolveHealth(
  given: HealthCheckOptions | undefined,
  failoverTimeMs: number,
  problems: ProblemList,
): ResolvedHealthCheckConfig | undefined {
  if (given === undefined) return undefined;
  if (typeof given !== 'object' || given === null) {
    problems.add('health', 'must be an object ({ port, host?, ... })');
    return undefined;
  }
  for (const key of Object.keys(given)) {
    if (!HEALTH_KEYS.has(key)) problems.add(`health.${key}`, 'unknown option');
  }
  let port = 0;
  if (given.port === undefined) problems.add('health.port', 'is required (0–65535)');
  else port = problems.integer('health.port', given.port, 0, 65_535);
  const host = given.host ?? CONSUMER_DEFAULTS.healthHost;
  if (typeof host !== 'string' || host.length === 0) {
    problems.add('health.host', `must be a non-empty address such as '0.0.0.0', got ${JSON.stringify(host)}`);
  }
  return {
    port,
    host,
    maxEventLoopDelayMs: problems.integer(
      'health.maxEventLoopDelayMs',
      given.maxEventLoopDelayMs ?? CONSUMER_DEFAULTS.maxEventLoopDelayMs,
      10,
      600_000,
    ),
    maxRenewalFailureMs: problems.integer(
      'health.maxRenewalFailureMs',
      given.maxRenewalFailureMs ?? failoverTimeMs,
      100,
      86_400_000,
    ),
    stalledShardMs: problems.integer(
      'health.stalledShardMs',
      given.stalledShardMs ?? CONSUMER_DEFAULTS.stalledShardMs,
      100,
      86_400_000,
    ),
  };
}

function resolveRetrieval(options: ConsumerOptions, problems: ProblemList): ResolvedRetrievalConfig {
  const retrieval = options.retrieval ?? 'polling';
  const legacy = {
    idleTimeBetweenReadsMs: options.idleTimeBetweenReadsMs,
    maxRecordsPerFetch: options.maxRecordsPerFetch,
  };
  const hasLegacy = legacy.idleTimeBetweenReadsMs !== undefined || legacy.maxRecordsPerFetch !== undefined;
  const polling = (given: PollingRetrievalOptions, prefix: string): ResolvedRetrievalConfig => ({
    mode: 'polling',
    ...problems.integers(
      given,
      CONSUMER_DEFAULTS,
      { idleTimeBetweenReadsMs: [0, 600_000], maxRecordsPerFetch: [1, 10_000] },
      prefix,
    ),
  });
  const fanOut = (given: FanOutRetrievalOptions): ResolvedRetrievalConfig => {
    const consumerName = given.consumerName ?? options.applicationName;
    if (typeof consumerName !== 'string' || !CONSUMER_NAME.test(consumerName)) {
      problems.add(
        given.consumerName === undefined ? 'applicationName' : 'retrieval.fanOut.consumerName',
        `must be a valid stream consumer name (1–128 characters of a-z A-Z 0-9 _ . -) to name the fan-out consumer, got ${JSON.stringify(consumerName)}`,
      );
    }
    const subscriptionIdleTimeoutMs = problems.integer(
      'retrieval.fanOut.subscriptionIdleTimeoutMs',
      given.subscriptionIdleTimeoutMs ?? CONSUMER_DEFAULTS.subscriptionIdleTimeoutMs,
      1_000,
      600_000,
    );
    return { mode: 'fanOut', consumerName: consumerName as string, subscriptionIdleTimeoutMs };
  };
  const knownKeys = (value: object, known: Set<string>, prefix: string) => {
    for (const key of Object.keys(value))
      if (!known.has(key)) problems.add(`${prefix}${key}`, 'unknown option');
  };

  if (retrieval === 'polling') return polling(legacy, '');
  if (hasLegacy) {
    for (const name of ['idleTimeBetweenReadsMs', 'maxRecordsPerFetch'] as const) {
      if (legacy[name] !== undefined) {
        problems.add(
          name,
          retrieval === 'fanOut' ||
            (typeof retrieval === 'object' && retrieval !== null && 'fanOut' in retrieval)
            ? 'is a polling option, but retrieval is fanOut'
            : `give it once, as retrieval.polling.${name} (the top-level option is deprecated)`,
        );
      }
    }
  }
  if (retrieval === 'fanOut') return fanOut({});
  if (typeof retrieval === 'object' && retrieval !== null) {
    const keys = Object.keys(retrieval);
    if (keys.length === 1 && keys[0] === 'polling') {
      const given = (retrieval as { polling: PollingRetrievalOptions }).polling;
      if (typeof given === 'object' && given !== null) {
        knownKeys(given, POLLING_KEYS, 'retrieval.polling.');
        return polling(given, 'retrieval.polling.');
      }
      problems.add(
        'retrieval.polling',
        'must be an object ({ idleTimeBetweenReadsMs?, maxRecordsPerFetch? })',
      );
      return polling({}, 'retrieval.polling.');
    }
    if (keys.length === 1 && keys[0] === 'fanOut') {
      const given = (retrieval as { fanOut: FanOutRetrievalOptions }).fanOut;
      if (typeof given === 'object' && given !== null) {
        knownKeys(given, FAN_OUT_KEYS, 'retrieval.fanOut.');
        return fanOut(given);
      }
      problems.add('retrieval.fanOut', 'must be an object ({ consumerName?, subscriptionIdleTimeoutMs? })');
      return fanOut({});
    }
  }
  problems.add(
    'retrieval',
    `must be 'polling', 'fanOut', { polling: {...} } or { fanOut: {...} }, got ${JSON.stringify(retrieval)}`,
  );
  return polling({}, '');
}
