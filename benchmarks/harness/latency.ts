import { percentile } from './stats.js';

/** Collects durations (ms) and answers percentiles. */
export class LatencyRecorder {
  readonly #samplesMs: number[] = [];

  /** Adds one duration in ms. */
  record(ms: number): void {
    this.#samplesMs.push(ms);
  }

  /** Times `fn` and records its duration (also when it throws). */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const t0 = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      this.record(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }

  get count(): number {
    return this.#samplesMs.length;
  }

  /**
   * The `p`-th percentile (nearest rank), ms.
   * @throws RangeError when nothing was recorded.
   */
  percentileMs(p: number): number {
    return percentile(this.#samplesMs, p);
  }
}
