import type { MeterProvider } from '@opentelemetry/api';
import {
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_RECORDS,
  MAX_RECORD_BYTES,
  ProblemList,
} from '@shardline/common';
import {
  type DeadLetterHandler,
  type DeadLetterSink,
  handlerSink,
  JsonlDeadLetterSink,
} from '../dead-letter/DeadLetterSink.js';
import { ConfigurationError } from '../errors.js';
import type { Transport } from '../transport/Transport.js';

/** Retry of failed records: jittered exponential backoff within a total deadline. */
export interface RetryOptions {
  /** Backoff before the first retry (doubled each attempt, jittered to 50–100 %). @defaultValue 100 */
  readonly initialDelayMs?: number;
  /** Longest backoff. @defaultValue 5000 */
  readonly maxDelayMs?: number;
  /**
   * Total time a record may spend being retried, from its first send: past it, the record goes to the
   * dead-letter sink. @defaultValue 120000
   */
  readonly deadlineMs?: number;
  /** Sends of one record at most (the first included). @defaultValue 50 */
  readonly maxAttempts?: number;
}

/** Options of {@link createProducer}. */
export interface ProducerOptions {
  /** Where batches go: {@link kinesisTransport} or {@link httpTransport}. */
  readonly transport: Transport;
  /** Records per request, at most the transport's limit. @defaultValue the transport's limit (500 for both) */
  readonly maxBatchRecords?: number;
  /**
   * Bytes per request, at most the transport's limit. @defaultValue the transport's limit (Kinesis:
   * 5 MiB of data plus partition keys; ingest API: 10 MiB body)
   */
  readonly maxBatchBytes?: number;
  /**
   * Largest record: the envelope's bytes plus the partition key's UTF-8 bytes (Kinesis counts both
   * against its 1 MiB record limit). A larger event is refused by `put`. @defaultValue 1048576
   */
  readonly maxRecordBytes?: number;
  /** How long a record may wait for its batch to fill before the batch is sent anyway. @defaultValue 50 */
  readonly lingerMs?: number;
  /** Requests in flight at once. @defaultValue 4 */
  readonly maxConcurrentRequests?: number;
  /**
   * Records accepted and not yet delivered (or dead-lettered), at most: `put` waits for room beyond it.
   * The default holds what keeps every request full: the requests in flight plus the one forming. A
   * larger buffer absorbs longer bursts but adds no throughput once requests are full, and every
   * buffered record is kept alive through garbage collections (CPU and memory).
   * @defaultValue `(maxConcurrentRequests + 1) × maxBatchRecords`: 2500 with the defaults (500 records
   * per request, 4 in flight); 250000 user records with the Kinesis transport's aggregation
   * (`maxBufferedBytes` bounds those first)
   */
  readonly maxBufferedRecords?: number;
  /**
   * Bytes (as {@link ProducerOptions.maxRecordBytes} counts them) accepted and not yet delivered, at most:
   * `put` waits for room beyond it. At least `maxRecordBytes`. @defaultValue 33554432 (32 MiB)
   */
  readonly maxBufferedBytes?: number;
  /**
   * Keep the order of records with the same partition key: at most one record per key is in flight
   * (and in one request), and a retried record goes before every later record of its key. Costs
   * throughput for hot keys. @defaultValue false
   */
  readonly ordered?: boolean;
  /** Retry of failed records. */
  readonly retry?: RetryOptions;
  /**
   * Where records that finally fail go: a {@link DeadLetterSink}, a function, or `{ path }` of a JSONL file.
   * @defaultValue `{ path: 'shardline-dead-letters.jsonl' }` (in the working directory, created on the first letter)
   */
  readonly deadLetter?: DeadLetterSink | DeadLetterHandler | { readonly path: string };
  /** How long `close()` waits for buffered records before dead-lettering the rest. @defaultValue 60000 */
  readonly closeTimeoutMs?: number;
  /** Random numbers in [0, 1) for backoff jitter (tests pass a seeded one). @defaultValue Math.random */
  readonly random?: () => number;
  /**
   * Where the producer's OpenTelemetry instruments (`shardline.producer.*`, see the README) are created.
   * @defaultValue the global `MeterProvider`: a no-op unless the application installs an OpenTelemetry SDK
   */
  readonly meterProvider?: MeterProvider;
}

/** {@link ProducerOptions} after defaults, validated. */
export interface ResolvedProducerConfig {
  readonly transport: Transport;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
  readonly lingerMs: number;
  readonly maxConcurrentRequests: number;
  readonly maxBufferedRecords: number;
  readonly maxBufferedBytes: number;
  readonly ordered: boolean;
  readonly retry: Required<RetryOptions>;
  readonly deadLetter: DeadLetterSink;
  readonly closeTimeoutMs: number;
  readonly random: () => number;
  /** `undefined`: the global `MeterProvider`. */
  readonly meterProvider: MeterProvider | undefined;
}

/** Defaults of {@link ProducerOptions}. */
export const PRODUCER_DEFAULTS = Object.freeze({
  maxRecordBytes: MAX_RECORD_BYTES,
  lingerMs: 50,
  maxConcurrentRequests: 4,
  maxBufferedBytes: 32 * 1_048_576,
  ordered: false,
  retry: Object.freeze({ initialDelayMs: 100, maxDelayMs: 5_000, deadlineMs: 120_000, maxAttempts: 50 }),
  deadLetterPath: 'shardline-dead-letters.jsonl',
  closeTimeoutMs: 60_000,
});

const KNOWN = new Set([
  'transport',
  'maxBatchRecords',
  'maxBatchBytes',
  'maxRecordBytes',
  'lingerMs',
  'maxConcurrentRequests',
  'maxBufferedRecords',
  'maxBufferedBytes',
  'ordered',
  'retry',
  'deadLetter',
  'closeTimeoutMs',
  'random',
  'meterProvider',
]);
const KNOWN_RETRY = new Set(['initialDelayMs', 'maxDelayMs', 'deadlineMs', 'maxAttempts']);

/**
 * Merges {@link PRODUCER_DEFAULTS} with `options` and validates every field.
 *
 * @throws {@link ConfigurationError} listing every problem found.
 */
export function resolveProducerConfig(options: ProducerOptions): ResolvedProducerConfig {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError([{ path: '(options)', message: 'must be an object' }], 'producer options');
  }
  const problems = new ProblemList('producer options');
  problems.unknownKeys(options, KNOWN);

  const transport = options.transport;
  let limits = { maxRecordsPerRequest: MAX_PUT_RECORDS_RECORDS, maxRequestBytes: MAX_PUT_RECORDS_BYTES };
  if (
    typeof transport !== 'object' ||
    transport === null ||
    typeof transport.send !== 'function' ||
    typeof transport.requestBytes !== 'function' ||
    typeof transport.limits !== 'object'
  ) {
    problems.add('transport', 'must be a Transport (kinesisTransport(...) or httpTransport(...))');
  } else {
    limits = transport.limits;
  }

  const maxBatchRecords = problems.integer(
    'maxBatchRecords',
    options.maxBatchRecords ?? limits.maxRecordsPerRequest,
    1,
    limits.maxRecordsPerRequest,
  );
  const maxBatchBytes = problems.integer(
    'maxBatchBytes',
    options.maxBatchBytes ?? limits.maxRequestBytes,
    1,
    limits.maxRequestBytes,
  );
  const { maxRecordBytes, lingerMs, maxConcurrentRequests, maxBufferedBytes } = problems.integers(
    options,
    PRODUCER_DEFAULTS,
    {
      maxRecordBytes: [64, 64 * 1_048_576],
      lingerMs: [0, 60_000],
      maxConcurrentRequests: [1, 1_000],
      maxBufferedBytes: [1, Number.MAX_SAFE_INTEGER],
    },
  );
  const maxBufferedRecords = problems.integer(
    'maxBufferedRecords',
    options.maxBufferedRecords ??
      // An invalid input of the product is listed on its own: no second problem for a derived default.
      (Number.isInteger(maxConcurrentRequests) && Number.isInteger(maxBatchRecords)
        ? (maxConcurrentRequests + 1) * maxBatchRecords
        : 1),
    1,
    100_000_000,
  );
  if (maxBufferedBytes < maxRecordBytes) {
    problems.add(
      'maxBufferedBytes',
      `must be at least maxRecordBytes (${maxRecordBytes}) so that any record fits`,
    );
  }
  const ordered = options.ordered ?? PRODUCER_DEFAULTS.ordered;
  if (typeof ordered !== 'boolean') problems.add('ordered', 'must be a boolean');

  const retryOptions = options.retry ?? {};
  if (typeof retryOptions !== 'object' || retryOptions === null) problems.add('retry', 'must be an object');
  else
    for (const key of Object.keys(retryOptions))
      if (!KNOWN_RETRY.has(key)) problems.add(`retry.${key}`, 'unknown option');
  const r = typeof retryOptions === 'object' && retryOptions !== null ? retryOptions : {};
  const retry = problems.integers(
    r,
    PRODUCER_DEFAULTS.retry,
    {
      initialDelayMs: [0, 600_000],
      maxDelayMs: [0, 3_600_000],
      deadlineMs: [0, 86_400_000],
      maxAttempts: [1, 1_000_000],
    },
    'retry.',
  );

  if (retry.maxDelayMs < retry.initialDelayMs)
    problems.add('retry.maxDelayMs', 'must be at least retry.initialDelayMs');

  let deadLetter: DeadLetterSink = new JsonlDeadLetterSink(PRODUCER_DEFAULTS.deadLetterPath);
  const dl = options.deadLetter;
  if (typeof dl === 'function') deadLetter = handlerSink(dl);
  else if (typeof dl === 'object' && dl !== null && typeof (dl as DeadLetterSink).write === 'function') {
    deadLetter = dl as DeadLetterSink;
  } else if (typeof dl === 'object' && dl !== null && 'path' in dl) {
    if (typeof dl.path !== 'string' || dl.path.trim() === '')
      problems.add('deadLetter.path', 'must be a non-empty path');
    else deadLetter = new JsonlDeadLetterSink(dl.path);
  } else if (dl !== undefined) {
    problems.add('deadLetter', 'must be a DeadLetterSink, a function or { path }');
  }

  const closeTimeoutMs = problems.integer(
    'closeTimeoutMs',
    options.closeTimeoutMs ?? PRODUCER_DEFAULTS.closeTimeoutMs,
    0,
    86_400_000,
  );
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') problems.add('random', 'must be a function');
  const meterProvider = options.meterProvider;
  if (
    meterProvider !== undefined &&
    typeof (meterProvider as { getMeter?: unknown } | null)?.getMeter !== 'function'
  ) {
    problems.add('meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter)');
  }

  problems.throwIfAny();
  return {
    transport: transport as Transport,
    maxBatchRecords,
    maxBatchBytes,
    maxRecordBytes,
    lingerMs,
    maxConcurrentRequests,
    maxBufferedRecords,
    maxBufferedBytes,
    ordered,
    retry,
    deadLetter,
    closeTimeoutMs,
    random,
    meterProvider,
  };
}
