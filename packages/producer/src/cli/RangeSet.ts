/** A set of positive integers kept as sorted, merged, inclusive ranges (row numbers of a replay). */
export class RangeSet {
  /** Sorted, disjoint, non-adjacent `[start, end]` pairs. */
  #ranges: [number, number][] = [];
  #size = 0;

  /** How many numbers are in the set. */
  get size(): number {
    return this.#size;
  }

  /** The ranges, sorted. */
  ranges(): readonly (readonly [number, number])[] {
    return this.#ranges;
  }

  /** Index of the last range starting at or before `n`, or -1. */
  #find(n: number): number {
    let lo = 0;
    let hi = this.#ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ranges[mid]![0] <= n) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  has(n: number): boolean {
    const i = this.#find(n);
    return i >= 0 && this.#ranges[i]![1] >= n;
  }

  add(n: number): void {
    this.addRange(n, n);
  }

  addRange(start: number, end: number): void {
    if (end < start) return;
    let i = this.#find(start);
    // Merge with every range that overlaps or touches [start, end].
    const from = i >= 0 && this.#ranges[i]![1] >= start - 1 ? i : i + 1;
    let newStart = start;
    let newEnd = end;
    let removed = 0;
    let removedCount = 0;
    for (i = from; i < this.#ranges.length && this.#ranges[i]![0] <= end + 1; i++) {
      const [s, e] = this.#ranges[i]!;
      newStart = Math.min(newStart, s);
      newEnd = Math.max(newEnd, e);
      removed += e - s + 1;
      removedCount += 1;
    }
    this.#ranges.splice(from, removedCount, [newStart, newEnd]);
    this.#size += newEnd - newStart + 1 - removed;
  }

  /** Empties the set, returning its ranges. */
  drain(): [number, number][] {
    const ranges = this.#ranges;
    this.#ranges = [];
    this.#size = 0;
    return ranges;
  }
}
