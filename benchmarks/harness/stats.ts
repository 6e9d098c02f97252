/** Summary of one contender's values of one figure over the rounds of a run. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many rounds produced a value. */
  readonly count: number;
}

function sortedFinite(values: readonly number[], what: string): number[] {
  if (values.length === 0) throw new RangeError(`${what} of no values`);
  for (const [index, value] of values.entries()) {
    if (!Number.isFinite(value))
      throw new RangeError(`${what}: value ${index} is ${value}, not a finite number`);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * The median: the middle value, or the mean of the two middle values of an even count.
 *
 * @throws RangeError when `values` is empty or holds a value that is not finite.
 */
export function median(values: readonly number[]): number {
  const sorted = sortedFinite(values, 'median');
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The `p`-th percentile (0–100) by the nearest-rank method: the smallest value such that at least `p`%
 * of the values are less than or equal to it. Nearest rank never invents a value that was not observed,
 * which is what a latency percentile should report.
 *
 * @throws RangeError when `values` is empty, holds a value that is not finite, or `p` is outside 0–100.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0–100, got ${p}`);
  const sorted = sortedFinite(values, `p${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * Median, min and max of a figure's values over the rounds.
 *
 * @throws RangeError when `values` is empty or holds a value that is not finite.
 */
export function summarize(values: readonly number[]): Summary {
  const sorted = sortedFinite(values, 'summary');
  return { median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]!, count: sorted.length };
}

/**
 * `candidate / baseline`, or `null` when there is no baseline or it is zero (a ratio to nothing means
 * nothing).
 */
export function ratio(candidate: number, baseline: number | null): number | null {
  if (baseline === null || baseline === 0) return null;
  return candidate / baseline;
}

/** Rounds a figure for display and for the JSON line: 4 significant digits, integers kept whole. */
export function roundFigure(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  if (Math.abs(value) >= 1000) return Math.round(value);
  return Number(value.toPrecision(4));
}
