import { ShardlineError } from '../errors.js';
import { sleep } from './sleep.js';

/** Exponential backoff with full jitter. */
export interface BackoffOptions {
  /** Upper bound of the first delay. */
  readonly initialDelayMs: number;
  /** Upper bound of any delay. */
  readonly maxDelayMs: number;
  /** Growth per attempt. @defaultValue 2 */
  readonly multiplier?: number;
}

/**
 * The delay before retry number `attempt` (1 = first retry): a uniform random value in
 * `[cap/2, cap]` where `cap = min(maxDelayMs, initialDelayMs × multiplier^(attempt-1))` ("equal jitter":
 * spreads retries of many workers while never retrying hot).
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const multiplier = options.multiplier ?? 2;
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * multiplier ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** Options of {@link retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Tries in all (the first included). `Infinity` retries until aborted. */
  readonly maxAttempts: number;
  /** Whether an error is worth another try. @defaultValue `error.retriable === true` for {@link ShardlineError} */
  readonly isRetriable?: (error: unknown) => boolean;
  /** The delay for an error, overriding the backoff (e.g. longer after throttling). */
  readonly delayMsFor?: (error: unknown, attempt: number) => number | undefined;
  /** Called before each wait with the error and the attempt that failed. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Aborting stops waiting and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Random source for the jitter (tests pass a seeded one). */
  readonly random?: () => number;
}

/** Default retriability: a {@link ShardlineError} says so itself; anything else is not retried. */
export function isRetriableError(error: unknown): boolean {
  return error instanceof ShardlineError && error.retriable;
}

/**
 * Calls `operation` until it succeeds, a non-retriable error is thrown, or `maxAttempts` is reached
 * (then the last error is rethrown). Waits with jittered exponential backoff between tries.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const isRetriable = options.isRetriable ?? isRetriableError;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.signal?.aborted || attempt >= options.maxAttempts || !isRetriable(error)) throw error;
      const delayMs =
        options.delayMsFor?.(error, attempt) ?? backoffDelayMs(attempt, options, options.random);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}
