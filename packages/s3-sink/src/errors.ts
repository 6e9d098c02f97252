import { ShardlineError } from '@shardline/common';

// The root and configuration errors are @shardline/common's, shared by every Shardline package (one class,
// so `instanceof ConfigurationError` holds whichever package threw it).
export { ConfigurationError, type ConfigurationProblem, ShardlineError } from '@shardline/common';

/**
 * Base class of every error thrown by `@shardline/s3-sink`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class S3SinkError extends ShardlineError {}

/** An S3 request failed (after the retries it was allowed, when `retriable` is false). */
export class S3WriteError extends S3SinkError {
  /** The object key. */
  readonly key: string;
  /** The S3 operation or the `Upload` step that failed. */
  readonly operation: string;
  /** Tries made so far. */
  readonly attempts: number;

  constructor(
    key: string,
    operation: string,
    attempts: number,
    options: { cause?: unknown; retriable?: boolean },
  ) {
    super(
      `S3 ${operation} of ${key} failed (attempt ${attempts}): ${
        options.cause instanceof Error ? options.cause.message : String(options.cause)
      }`,
      options,
    );
    this.key = key;
    this.operation = operation;
    this.attempts = attempts;
  }
}

/** A call that the sink's state does not allow (e.g. `start()` twice, or after `stop()`). */
export class InvalidStateError extends S3SinkError {}

/** The state stored with a pending checkpoint could not be read (written by another version?). */
export class PendingStateError extends S3SinkError {
  /** The shard. */
  readonly shardId: string;

  constructor(shardId: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.shardId = shardId;
  }
}
