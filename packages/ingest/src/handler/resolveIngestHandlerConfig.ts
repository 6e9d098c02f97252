import { createHash } from 'node:crypto';
import { MAX_PUT_RECORDS_RECORDS, ProblemList } from '@shardline/common';
import { INGEST_LIMITS } from '../contract/limits.js';
import { uuidv7 } from '../envelope/uuidv7.js';
import type { RecordWriter } from '../kinesis/RecordWriter.js';

/** Checks an API key: a set of keys, or a function (e.g. a lookup in a key store). */
export type ApiKeyCheck = Iterable<string> | ((apiKey: string) => boolean | Promise<boolean>);

/** Retries of throttled or failed entries before the handler answers 207/429/5xx. */
export interface ThrottleRetryOptions {
  /** Attempts in all, the first included. @defaultValue 3 */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt (doubles, full jitter). @defaultValue 50 */
  readonly baseDelayMs?: number;
  /** Longest single backoff. @defaultValue 400 */
  readonly maxDelayMs?: number;
}

/** Options of {@link createIngestHandler}. */
export interface IngestHandlerOptions {
  /** Where records go: a {@link KinesisRecordWriter}, or a fake in tests. */
  readonly recordWriter: RecordWriter;
  /** Accepted `x-api-key` values (compared in constant time), or a check function. */
  readonly apiKeys: ApiKeyCheck;
  /** Origins allowed by CORS: `'*'` or exact origins such as `https://app.example.com`. @defaultValue '*' */
  readonly allowedOrigins?: '*' | readonly string[];
  /** Body limit, raw and after gzip decompression. @defaultValue 10485760 (10 MiB) */
  readonly maxBodyBytes?: number;
  /** Stored record limit: envelope plus partition key bytes. @defaultValue 1048576 (1 MiB) */
  readonly maxRecordBytes?: number;
  /**
   * Bytes (data plus partition keys) of one `PutRecords` call; lower it for emulators whose request
   * cap is smaller. @defaultValue 5242880 (5 MiB)
   */
  readonly maxPutRecordsBytes?: number;
  /** Records of one `PutRecords` call. @defaultValue 500 */
  readonly maxPutRecordsRecords?: number;
  /** `PutRecords` calls in flight for one request split into several. @defaultValue 4 */
  readonly maxConcurrentPutRecords?: number;
  /** Brief retries of throttled entries. */
  readonly throttleRetry?: ThrottleRetryOptions;
  /** `Retry-After` on 429 and 503 answers. @defaultValue 1 */
  readonly retryAfterSeconds?: number;
  /** `Access-Control-Max-Age` of preflight answers. @defaultValue 600 */
  readonly corsMaxAgeSeconds?: number;
  /** Clock for `receivedAt`. @defaultValue Date.now */
  readonly now?: () => number;
  /** Event ids for records without one. @defaultValue uuidv7 */
  readonly generateEventId?: () => string;
  /** Random source of backoff jitter, in [0, 1). @defaultValue Math.random */
  readonly random?: () => number;
  /** Told about unexpected faults (answered 500) and upstream failures. @defaultValue no-op */
  readonly onError?: (error: unknown) => void;
}

/** {@link IngestHandlerOptions} after defaults and validation. */
export interface ResolvedIngestHandlerConfig {
  readonly recordWriter: RecordWriter;
  readonly checkApiKey: (apiKey: string) => boolean | Promise<boolean>;
  readonly allowedOrigins: '*' | ReadonlySet<string>;
  readonly maxBodyBytes: number;
  readonly maxRecordBytes: number;
  readonly maxPutRecordsBytes: number;
  readonly maxPutRecordsRecords: number;
  readonly maxConcurrentPutRecords: number;
  readonly throttleRetry: Required<ThrottleRetryOptions>;
  readonly retryAfterSeconds: number;
  readonly corsMaxAgeSeconds: number;
  readonly now: () => number;
  readonly generateEventId: () => string;
  readonly random: () => number;
  readonly onError: (error: unknown) => void;
}

/** Defaults of {@link IngestHandlerOptions}. */
export const INGEST_HANDLER_DEFAULTS = Object.freeze({
  allowedOrigins: '*' as const,
  maxBodyBytes: INGEST_LIMITS.maxBodyBytes,
  maxRecordBytes: INGEST_LIMITS.maxRecordBytes,
  maxPutRecordsBytes: INGEST_LIMITS.maxPutRecordsBytes,
  maxPutRecordsRecords: INGEST_LIMITS.maxPutRecordsRecords,
  maxConcurrentPutRecords: 4,
  throttleRetry: Object.freeze({ maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 400 }),
  retryAfterSeconds: 1,
  corsMaxAgeSeconds: 600,
});

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function keySetCheck(keys: readonly string[]): (apiKey: string) => boolean {
  const digests = keys.map(digest);
  return (apiKey) => {
    const presented = digest(apiKey);
    let isMatch = false;
    // Compare with every key, without stopping early: no timing hint about which key came close.
    for (const d of digests) if (presented.equals(d)) isMatch = true;
    return isMatch;
  };
}

/**
 * Merges defaults into {@link IngestHandlerOptions} and validates every field.
 * @throws ConfigurationError listing every problem.
 */
export function resolveIngestHandlerConfig(options: IngestHandlerOptions): ResolvedIngestHandlerConfig {
  const problems = new ProblemList('ingest handler options');
  const o = (options ?? {}) as Partial<IngestHandlerOptions>;
  if (typeof o.recordWriter?.putRecords !== 'function') {
    problems.add('recordWriter', 'must be a RecordWriter (an object with putRecords)');
  }
  let checkApiKey: (apiKey: string) => boolean | Promise<boolean> = () => false;
  if (typeof o.apiKeys === 'function') {
    checkApiKey = o.apiKeys;
  } else if (o.apiKeys !== null && typeof o.apiKeys === 'object' && Symbol.iterator in o.apiKeys) {
    const keys = [...o.apiKeys];
    if (keys.length === 0) problems.add('apiKeys', 'must hold at least one key');
    if (keys.some((k) => typeof k !== 'string' || k.length === 0)) {
      problems.add('apiKeys', 'keys must be non-empty strings');
    }
    checkApiKey = keySetCheck(keys);
  } else {
    problems.add('apiKeys', 'must be an iterable of keys or a check function');
  }
  const origins = o.allowedOrigins ?? INGEST_HANDLER_DEFAULTS.allowedOrigins;
  let allowedOrigins: '*' | ReadonlySet<string> = '*';
  if (origins !== '*') {
    if (
      !Array.isArray(origins) ||
      origins.some((x) => typeof x !== 'string' || !/^https?:\/\/[^/]+$/.test(x))
    ) {
      problems.add(
        'allowedOrigins',
        "must be '*' or an array of origins such as https://app.example.com (scheme and host, no path)",
      );
    } else {
      allowedOrigins = new Set(origins);
    }
  }
  const int = (
    path: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number => {
    // The value as given, even when wrong: the cross-checks below have always judged what was given.
    const v = value ?? fallback;
    problems.integer(path, v, min, max);
    return v;
  };
  const d = INGEST_HANDLER_DEFAULTS;
  const maxBodyBytes = int('maxBodyBytes', o.maxBodyBytes, d.maxBodyBytes, 1);
  const maxRecordBytes = int(
    'maxRecordBytes',
    o.maxRecordBytes,
    d.maxRecordBytes,
    64,
    INGEST_LIMITS.maxRecordBytes,
  );
  const maxPutRecordsBytes = int('maxPutRecordsBytes', o.maxPutRecordsBytes, d.maxPutRecordsBytes, 1);
  if (maxPutRecordsBytes < maxRecordBytes) {
    problems.add(
      'maxPutRecordsBytes',
      `must be at least maxRecordBytes (${maxRecordBytes}), or a record could never be written`,
    );
  }
  const maxPutRecordsRecords = int(
    'maxPutRecordsRecords',
    o.maxPutRecordsRecords,
    d.maxPutRecordsRecords,
    1,
    MAX_PUT_RECORDS_RECORDS,
  );
  const maxConcurrentPutRecords = int(
    'maxConcurrentPutRecords',
    o.maxConcurrentPutRecords,
    d.maxConcurrentPutRecords,
    1,
    64,
  );
  const r = o.throttleRetry ?? {};
  const throttleRetry = {
    maxAttempts: int('throttleRetry.maxAttempts', r.maxAttempts, d.throttleRetry.maxAttempts, 1, 20),
    baseDelayMs: int('throttleRetry.baseDelayMs', r.baseDelayMs, d.throttleRetry.baseDelayMs, 0, 60_000),
    maxDelayMs: int('throttleRetry.maxDelayMs', r.maxDelayMs, d.throttleRetry.maxDelayMs, 0, 60_000),
  };
  const retryAfterSeconds = int('retryAfterSeconds', o.retryAfterSeconds, d.retryAfterSeconds, 0, 3600);
  const corsMaxAgeSeconds = int('corsMaxAgeSeconds', o.corsMaxAgeSeconds, d.corsMaxAgeSeconds, 0, 86_400);
  for (const name of ['now', 'generateEventId', 'random', 'onError'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') problems.add(name, 'must be a function');
  }
  problems.throwIfAny();
  return {
    recordWriter: o.recordWriter!,
    checkApiKey,
    allowedOrigins,
    maxBodyBytes,
    maxRecordBytes,
    maxPutRecordsBytes,
    maxPutRecordsRecords,
    maxConcurrentPutRecords,
    throttleRetry,
    retryAfterSeconds,
    corsMaxAgeSeconds,
    now: o.now ?? Date.now,
    generateEventId: o.generateEventId ?? (() => uuidv7()),
    random: o.random ?? Math.random,
    onError: o.onError ?? (() => {}),
  };
}
