import { ShardlineError } from '@shardline/common';

// The root and configuration errors are @shardline/common's, shared by every Shardline package (one class,
// so `instanceof ConfigurationError` holds whichever package threw it).
export { ConfigurationError, type ConfigurationProblem, ShardlineError } from '@shardline/common';

/**
 * Base class of every error thrown by `@shardline/producer`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class ProducerError extends ShardlineError {}

/** An event given to `put` cannot be sent as it is (bad partition key or event id, too large, not JSON). */
export class InvalidRecordError extends ProducerError {
  /** The field at fault: `data`, `partitionKey`, `eventId` or `explicitHashKey`. */
  readonly field: string;

  constructor(field: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.field = field;
  }
}

/** The producer is closing or closed: it accepts no more events. */
export class ProducerClosedError extends ProducerError {}

/**
 * A whole request of a transport failed (no per-record result): network fault, timeout, throttling of
 * the whole call, an HTTP error answer. Thrown by {@link Transport.send} implementations.
 */
export class TransportError extends ProducerError {
  /** A short code: the AWS error name, `HTTP_<status>`, or `NetworkError`. */
  declare readonly code: string;
  /** Whether the failure was throttling (counted as a throttle, retried after a backoff). */
  readonly isThrottle: boolean;
  /** How long the server asked to wait before trying again, when it said so (`Retry-After`). */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { retriable: boolean; isThrottle?: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause, retriable: options.retriable, code });
    this.isThrottle = options.isThrottle ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An event could not be delivered: retries ran out (deadline or attempts), the failure was not
 * retriable, or the producer closed before it was sent. The event was handed to the dead-letter sink
 * first (`isDeadLettered`), so it is not lost.
 */
export class DeliveryError extends ProducerError {
  /** The event's id. */
  readonly eventId: string;
  /** How many times it was sent. */
  readonly attempts: number;
  /** The last error code (per-record code, transport code, or `ProducerClosed`). */
  declare readonly code: string;
  /** Whether the dead-letter sink took the event (false only when the sink itself failed). */
  readonly isDeadLettered: boolean;

  constructor(
    eventId: string,
    code: string,
    message: string,
    details: { attempts: number; isDeadLettered: boolean; cause?: unknown },
  ) {
    super(message, { cause: details.cause, code });
    this.eventId = eventId;
    this.attempts = details.attempts;
    this.isDeadLettered = details.isDeadLettered;
  }
}

/** What is wrong with a destination, as {@link DestinationError} reports it. */
export const DestinationProblem = {
  /** The stream or the API route does not exist (or is not active). */
  Missing: 'missing',
  /** The credentials or the API key were refused. */
  Forbidden: 'forbidden',
  /** It could not be reached, or it failed, within the deadline. */
  Unreachable: 'unreachable',
} as const;
/** See {@link DestinationProblem}. */
export type DestinationProblem = (typeof DestinationProblem)[keyof typeof DestinationProblem];

/**
 * A destination checked before sending ({@link Transport.check}) cannot take records: the message
 * says why, in words a user can act on.
 */
export class DestinationError extends ProducerError {
  /** What is wrong. */
  readonly problem: DestinationProblem;

  constructor(problem: DestinationProblem, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retriable: problem === DestinationProblem.Unreachable });
    this.problem = problem;
  }
}
