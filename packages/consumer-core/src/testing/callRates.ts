/** The most calls that fall within any window of `windowMs` (inclusive start, exclusive end), for sorted times. */
export function maxCallsInWindow(sortedTimesMs: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < sortedTimesMs.length; end++) {
    while (sortedTimesMs[end]! - sortedTimesMs[start]! >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
