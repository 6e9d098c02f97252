import { type BackoffOptions, backoffDelayMs } from './backoff.js';
import { ShardlineError } from './errors.js';
import { sleep } from './sleep.js';

/** Options of {@link retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Tries in all (the first included). `Infinity` retries until aborted or past the deadline. */
  readonly maxAttempts: number;
  /**
   * No retry starts after this instant (`now()` milliseconds): when the next wait would end past it,
   * the last error is rethrown instead. @defaultValue no deadline
   */
  readonly deadlineAtMs?: number;
  /** The clock `deadlineAtMs` is read against. @defaultValue Date.now */
  readonly now?: () => number;
  /** Whether an error is worth another try. @defaultValue {@link isRetriableError} */
  readonly isRetriable?: (error: unknown) => boolean;
  /** The delay for an error, overriding the backoff (e.g. longer after throttling). */
  readonly delayMsFor?: (error: unknown, attempt: number) => number | undefined;
  /** Called before each wait with the error and the attempt that failed. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Aborting stops waiting and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Random numbers in `[0, 1)` for the jitter (tests pass a seeded source). @defaultValue Math.random */
  readonly random?: () => number;
}

/** Default retriability: a {@link ShardlineError} says so itself; anything else is not retried. */
export function isRetriableError(error: unknown): boolean {
  return error instanceof ShardlineError && error.retriable;
}

/**
 * Calls `operation` until it succeeds, a non-retriable error is thrown, `maxAttempts` is reached or the
 * next wait would pass `deadlineAtMs` (then the last error is rethrown). Waits with jittered
 * exponential backoff between tries ({@link backoffDelayMs}).
 *
 * @throws the last error of `operation`, or the signal's reason when `signal` aborts a wait.
 * @example
 * ```ts
 * const table = await retry(() => describeTable(), { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 2_000 });
 * ```
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const isRetriable = options.isRetriable ?? isRetriableError;
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.signal?.aborted || attempt >= options.maxAttempts || !isRetriable(error)) throw error;
      const delayMs =
        options.delayMsFor?.(error, attempt) ?? backoffDelayMs(attempt, options, options.random);
      if (options.deadlineAtMs !== undefined && now() + delayMs > options.deadlineAtMs) throw error;
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}
