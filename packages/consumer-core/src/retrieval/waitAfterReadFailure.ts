import { backoffDelayMs, sleepUnlessAborted } from '@shardline/common';
import type { DependencyError } from '../errors.js';
import type { ShardReadRequest } from './ShardReader.js';

/** How a reader waits after a failed call, the same for every retrieval mode. */
export interface ReadRetryPolicy {
  /** Largest backoff delay after a retriable error. */
  readonly maxBackoffMs: number;
  /** Wait after a non-retriable error (a reader never gives its shard up by itself). */
  readonly fatalRetryMs: number;
  /** Source of the backoff's jitter. */
  readonly random: () => number;
}

/**
 * A reader's retry policy from its options, with the defaults every retrieval mode shares: backoff capped
 * at 5 s, 30 s after a non-retriable error, `Math.random` jitter.
 */
export function resolveReadRetryPolicy(options: {
  readonly maxBackoffMs?: number;
  readonly fatalErrorRetryMs?: number;
  readonly random?: () => number;
}): ReadRetryPolicy {
  return {
    maxBackoffMs: options.maxBackoffMs ?? 5_000,
    fatalRetryMs: options.fatalErrorRetryMs ?? 30_000,
    random: options.random ?? Math.random,
  };
}

/** One failed call of a reader, its error already translated. */
export interface ReadFailure {
  /** The API called, e.g. `GetRecords`. */
  readonly operation: string;
  readonly error: DependencyError;
  /** Failures in a row, this one included (1 for the first). */
  readonly attempt: number;
  /** The first backoff delay for this kind of error (throttling waits longer). */
  readonly initialDelayMs: number;
}

/**
 * Reports a reader's failed call — `RETRY` with the delay when the error is retriable, `ERROR` when it
 * is not — then waits: the jittered backoff of `failure.attempt` from `failure.initialDelayMs`, capped at
 * `policy.maxBackoffMs`, or `policy.fatalRetryMs` after a non-retriable error.
 *
 * @returns `false` when the request's signal aborted the wait (stop reading), `true` to try again.
 */
export function waitAfterReadFailure(
  request: Pick<ShardReadRequest, 'shardId' | 'signal' | 'onEvent'>,
  failure: ReadFailure,
  policy: ReadRetryPolicy,
): Promise<boolean> {
  const { shardId, signal, onEvent } = request;
  const { operation, error, attempt } = failure;
  const delayMs = !error.retriable
    ? policy.fatalRetryMs
    : backoffDelayMs(
        attempt,
        { initialDelayMs: failure.initialDelayMs, maxDelayMs: policy.maxBackoffMs },
        policy.random,
      );
  if (error.retriable) {
    onEvent({ type: 'RETRY', operation, shardId, attempt, delayMs, error });
  } else {
    onEvent({ type: 'ERROR', shardId, error });
  }
  return sleepUnlessAborted(delayMs, signal);
}
