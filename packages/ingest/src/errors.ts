import { ShardlineError } from '@shardline/common';

// The root and configuration errors are @shardline/common's, shared by every Shardline package (one class,
// so `instanceof ConfigurationError` holds whichever package threw it).
export { ConfigurationError, type ConfigurationProblem, ShardlineError } from '@shardline/common';

/**
 * Base class of every error thrown by `@shardline/ingest`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class IngestError extends ShardlineError {}

/** Text that is not valid JSON (or breaks a rule of the strict reader: UTF-8, surrogates, depth). */
export class JsonSyntaxError extends IngestError {
  /** Byte offset of the problem in the input. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** {@link encodeEnvelope} was given something that cannot become an envelope. */
export class EnvelopeEncodeError extends IngestError {}

/**
 * {@link decodeEnvelope} was given bytes that are not an event envelope. Such a record should be routed
 * to a dead-letter place with this error, never dropped.
 */
export class EnvelopeDecodeError extends IngestError {
  /** Byte offset of the problem, when known. */
  readonly offset: number | undefined;

  constructor(message: string, options: { offset?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.offset = options.offset;
  }
}

/** How a `PutRecords` call failed as a whole. */
export const UpstreamFailureKind = {
  /** Throughput exceeded (stream, shard or KMS): try again shortly. */
  Throttled: 'throttled',
  /** Network fault, timeout or a server-side error: may succeed when tried again. */
  Unavailable: 'unavailable',
  /** Refused for good (missing stream, access denied, invalid request): retrying will not help. */
  Rejected: 'rejected',
} as const;
/** See {@link UpstreamFailureKind}. */
export type UpstreamFailureKind = (typeof UpstreamFailureKind)[keyof typeof UpstreamFailureKind];

/**
 * A whole `PutRecords` call failed (no per-record result). Thrown by {@link RecordWriter}
 * implementations; the Kinesis adapter translates AWS errors into it.
 */
export class UpstreamError extends IngestError {
  /** What kind of failure. */
  readonly kind: UpstreamFailureKind;
  /** The upstream's error code, e.g. `ProvisionedThroughputExceededException`. */
  declare readonly code: string;

  constructor(kind: UpstreamFailureKind, code: string, message: string, cause?: unknown) {
    super(message, { cause, retriable: kind !== UpstreamFailureKind.Rejected, code });
    this.kind = kind;
  }
}
