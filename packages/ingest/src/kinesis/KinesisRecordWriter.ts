import { type KinesisClient, PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import {
  awsErrorCode,
  DeadlineExceededError,
  httpStatusCode,
  isClientFault,
  ProblemList,
  withDeadline,
} from '@shardline/common';
import { UpstreamError, UpstreamFailureKind } from '../errors.js';
import type { RecordWriteResult, RecordWriter, RecordWriterEntry } from './RecordWriter.js';

/** Options of {@link KinesisRecordWriter}. Give `streamName` or `streamArn`. */
export interface KinesisRecordWriterOptions {
  /** The caller's client; the writer never destroys it. */
  readonly client: Pick<KinesisClient, 'send'>;
  readonly streamName?: string;
  /** Preferred on AWS (cross-account); kinesalite does not accept it. */
  readonly streamArn?: string;
  /**
   * Deadline of one `PutRecords` call: past it the call is aborted (its socket destroyed) and fails as
   * unavailable (code `Timeout`), which the handler retries like any transient failure, then answers
   * 503. An AbortSignal per call, because the SDK handler's `requestTimeout` stops counting once
   * response headers arrive. The whole request stays bounded by the handler's signal (the Lambda
   * adapter aborts it shortly before the function's deadline). A call cut off may still have written
   * its records: clients retry with the same event ids. @defaultValue 10000
   */
  readonly requestTimeoutMs?: number;
}

/** Defaults of {@link KinesisRecordWriterOptions}. */
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'KMSThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);
const REJECTED = new Set([
  'ResourceNotFoundException',
  'ResourceInUseException',
  'AccessDeniedException',
  'InvalidArgumentException',
  'ValidationException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSAccessDeniedException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignature',
  'ExpiredTokenException',
]);

/**
 * Translates an error of a `PutRecords` call into an {@link UpstreamError}: throttling, a refusal for
 * good (missing stream, access, KMS key state, invalid request) or unavailability (network, timeout,
 * server faults, anything unknown — retrying is the safe reading).
 */
export function translateKinesisError(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof DeadlineExceededError) {
    return new UpstreamError(UpstreamFailureKind.Unavailable, 'Timeout', error.message, error);
  }
  const code = awsErrorCode(error) ?? 'UnknownError';
  const message = (error as { message?: string } | null)?.message ?? String(error);
  if (THROTTLING.has(code) || httpStatusCode(error) === 429) {
    return new UpstreamError(
      UpstreamFailureKind.Throttled,
      code,
      `Kinesis throttled the write: ${message}`,
      error,
    );
  }
  if (REJECTED.has(code) || isClientFault(error)) {
    return new UpstreamError(
      UpstreamFailureKind.Rejected,
      code,
      `Kinesis refused the write: ${message}`,
      error,
    );
  }
  return new UpstreamError(
    UpstreamFailureKind.Unavailable,
    code,
    `Kinesis could not be reached or failed: ${message}`,
    error,
  );
}

/**
 * The {@link RecordWriter} over an AWS SDK v3 `KinesisClient` (a peer dependency: pass your own
 * client, configured with your retries and timeouts).
 *
 * @throws ConfigurationError when neither or both of `streamName` and `streamArn` are given, or
 * `requestTimeoutMs` is not a positive integer (every problem listed).
 * @example
 * ```ts
 * const writer = new KinesisRecordWriter({ client: new KinesisClient({}), streamName: 'events' });
 * const handle = createIngestHandler({ recordWriter: writer, apiKeys: ['secret'] });
 * ```
 */
export class KinesisRecordWriter implements RecordWriter {
  readonly #client: Pick<KinesisClient, 'send'>;
  readonly #target: { StreamName?: string; StreamARN?: string };
  readonly #requestTimeoutMs: number;

  constructor(options: KinesisRecordWriterOptions) {
    const problems = new ProblemList('KinesisRecordWriter options');
    if (typeof options?.client?.send !== 'function') problems.add('client', 'must be a KinesisClient');
    const hasName = typeof options?.streamName === 'string' && options.streamName.length > 0;
    const hasArn = typeof options?.streamArn === 'string' && options.streamArn.length > 0;
    if (hasName === hasArn) problems.add('streamName', 'give exactly one of streamName and streamArn');
    const requestTimeoutMs = options?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1)
      problems.add('requestTimeoutMs', `must be a positive integer, got ${JSON.stringify(requestTimeoutMs)}`);
    problems.throwIfAny();
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#client = options.client;
    this.#target = hasName ? { StreamName: options.streamName! } : { StreamARN: options.streamArn! };
  }

  async putRecords(
    entries: readonly RecordWriterEntry[],
    signal?: AbortSignal,
  ): Promise<readonly RecordWriteResult[]> {
    const records = new Array<{ Data: Uint8Array; PartitionKey: string }>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      records[i] = { Data: entry.data, PartitionKey: entry.partitionKey };
    }
    let output: PutRecordsCommandOutput;
    try {
      output = await withDeadline(
        'PutRecords',
        this.#requestTimeoutMs,
        (abortSignal) =>
          this.#client.send(new PutRecordsCommand({ ...this.#target, Records: records }), { abortSignal }),
        signal,
      );
    } catch (error) {
      throw translateKinesisError(error);
    }
    const results = output.Records ?? [];
    if (results.length !== entries.length) {
      throw new UpstreamError(
        UpstreamFailureKind.Unavailable,
        'InvalidResponse',
        `PutRecords answered ${results.length} results for ${entries.length} records`,
      );
    }
    const out = new Array<RecordWriteResult>(results.length);
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      out[i] =
        r.ErrorCode !== undefined && r.ErrorCode !== null
          ? { errorCode: r.ErrorCode, errorMessage: r.ErrorMessage ?? r.ErrorCode }
          : { shardId: r.ShardId ?? '', sequenceNumber: r.SequenceNumber ?? '' };
    }
    return out;
  }
}
