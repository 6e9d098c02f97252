/**
 * The time source. `nowMs()` is monotonic (never jumps with the wall clock): lease expiry and every
 * interval are judged on it. Tests pass their own.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock with an arbitrary origin. */
  nowMs(): number;
}

/** `performance.now()`: monotonic, unaffected by wall-clock changes. */
export const monotonicClock: Clock = { nowMs: () => performance.now() };
