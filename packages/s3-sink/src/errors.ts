/**
 * Base class of every error thrown by `@shardline/s3-sink`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class S3SinkError extends Error {
  /** Whether trying the same call again may succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** One problem found in the options of {@link createS3Sink}. */
export interface ConfigurationProblem {
  /** The option's path, e.g. `bufferSizeBytes` or `prefix`. */
  readonly path: string;
  /** What is wrong with it. */
  readonly message: string;
}

/** Options were wrong. Lists every problem found, not only the first. */
export class ConfigurationError extends S3SinkError {
  /** Every problem found. */
  readonly problems: readonly ConfigurationProblem[];

  constructor(problems: readonly ConfigurationProblem[]) {
    super(
      `Invalid s3-sink options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
    this.problems = problems;
  }
}

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
