/** An open shard's hash key range (inclusive). */
export interface ShardRange {
  readonly shardId: string;
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

/** Open shards sorted by hash range, for finding the shard of a hash key. Pure; built from ListShards. */
export class ShardMap {
  readonly #ranges: readonly ShardRange[];
  /** When it was built (epoch ms). */
  readonly builtAtMs: number;

  constructor(ranges: readonly ShardRange[], builtAtMs = Date.now()) {
    this.#ranges = [...ranges].sort((a, b) =>
      a.startingHashKey < b.startingHashKey ? -1 : a.startingHashKey > b.startingHashKey ? 1 : 0,
    );
    this.builtAtMs = builtAtMs;
  }

  /** Number of open shards. */
  get size(): number {
    return this.#ranges.length;
  }

  /** The shard whose range holds `hashKey`, or `undefined` when none does (a gap while resharding). */
  shardFor(hashKey: bigint): string | undefined {
    let lo = 0;
    let hi = this.#ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const range = this.#ranges[mid]!;
      if (hashKey < range.startingHashKey) hi = mid - 1;
      else if (hashKey > range.endingHashKey) lo = mid + 1;
      else return range.shardId;
    }
    return undefined;
  }
}
