/**
 * How a backoff delay is drawn below its exponential ceiling.
 *
 * - `equal`: uniform in `[ceiling/2, ceiling]`, rounded. Retries of many callers spread out, and never
 *   come back hot (at 0 ms).
 * - `full`: uniform in `[0, ceiling)`, rounded down ("full jitter"): the widest spread, the shortest
 *   average wait.
 */
export const Jitter = {
  Equal: 'equal',
  Full: 'full',
} as const;
/** See {@link Jitter}. */
export type Jitter = (typeof Jitter)[keyof typeof Jitter];

/** Exponential backoff: the ceiling of retry `n` is `min(maxDelayMs, initialDelayMs × multiplier^(n-1))`. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  readonly initialDelayMs: number;
  /** Ceiling of any delay. */
  readonly maxDelayMs: number;
  /** Growth per attempt. @defaultValue 2 */
  readonly multiplier?: number;
  /** How the delay is drawn below the ceiling. @defaultValue `'equal'` */
  readonly jitter?: Jitter;
}

// Past 2^64 every realistic ceiling is maxDelayMs already; the cap keeps 0 × Infinity (NaN) away.
const MAX_EXPONENT = 64;

/** The ceiling of retry number `attempt` (1 = first retry), before jitter. */
export function backoffCeilingMs(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(MAX_EXPONENT, Math.max(0, attempt - 1));
  return Math.min(options.maxDelayMs, options.initialDelayMs * (options.multiplier ?? 2) ** exponent);
}

/**
 * The delay before retry number `attempt` (1 = first retry), jittered below
 * {@link backoffCeilingMs} as `options.jitter` says.
 *
 * @param random - random numbers in `[0, 1)` (tests pass a seeded source). @defaultValue Math.random
 * @example
 * ```ts
 * backoffDelayMs(3, { initialDelayMs: 100, maxDelayMs: 10_000 }); // 200–400 ms (equal jitter)
 * ```
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = backoffCeilingMs(attempt, options);
  if (options.jitter === Jitter.Full) return Math.floor(random() * ceiling);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
