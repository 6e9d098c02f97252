import { MAX_HASH_KEY } from '@shardline/common';
import { partitionKeyHash } from '@shardline/kpl';
import { compareExtendedSequenceNumbers } from '../checkpoint/ExtendedSequenceNumber.js';
import type { HashKeyRange } from '../leases/Lease.js';
import type {
  ChildShard,
  KinesisRecord,
  ReadResult,
  ShardReader,
  ShardReadRequest,
} from '../retrieval/ShardReader.js';
import type { ShardLister } from '../shard-sync/ShardLister.js';
import type { ShardDescription } from '../shard-sync/shardLineage.js';

const SEQUENCE_BASE = 49_000_000_000_000_000_000n;

/** Options of {@link InMemoryStream}. */
export interface InMemoryStreamOptions {
  /** Open shards at creation, splitting the hash-key space evenly. @defaultValue 1 */
  readonly shardCount?: number;
  /** Most records per read. @defaultValue 100 */
  readonly maxRecordsPerFetch?: number;
  /** Wait between reads when a shard has nothing new. @defaultValue 5 */
  readonly idleTimeBetweenReadsMs?: number;
}

/** A record written to an {@link InMemoryStream}. */
export interface PutRecordResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

interface FakeShard {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  readonly range: HashKeyRange;
  readonly records: KinesisRecord[];
  isOpen: boolean;
  children: ChildShard[];
}

/**
 * A Kinesis stream in memory, for unit tests of processors: put records (routed by the MD5 of their
 * partition key, as Kinesis does), split and merge shards, and read them through the consumer's
 * {@link ShardReader} and {@link ShardLister} ports.
 */
export class InMemoryStream implements ShardReader, ShardLister {
  readonly #shards = new Map<string, FakeShard>();
  readonly #maxRecords: number;
  readonly #idleMs: number;
  #nextShard = 0;
  #nextSequence = 0n;
  #listeners = new Set<() => void>();

  constructor(options: InMemoryStreamOptions = {}) {
    this.#maxRecords = options.maxRecordsPerFetch ?? 100;
    this.#idleMs = options.idleTimeBetweenReadsMs ?? 5;
    const count = options.shardCount ?? 1;
    const width = (MAX_HASH_KEY + 1n) / BigInt(count);
    for (let i = 0; i < count; i++) {
      const start = width * BigInt(i);
      const end = i === count - 1 ? MAX_HASH_KEY : start + width - 1n;
      this.#addShard([], start, end);
    }
  }

  /** Ids of the open shards. */
  get openShardIds(): string[] {
    return [...this.#shards.values()].filter((s) => s.isOpen).map((s) => s.shardId);
  }

  /** Every record of a shard, in order. */
  recordsOf(shardId: string): readonly KinesisRecord[] {
    return this.#shard(shardId).records;
  }

  /** Writes a record to the open shard whose range holds the partition key's hash. */
  putRecord(partitionKey: string, data: Uint8Array | string): PutRecordResult {
    const hash = partitionKeyHash(partitionKey);
    const shard = [...this.#shards.values()].find(
      (s) => s.isOpen && hash >= BigInt(s.range.startingHashKey) && hash <= BigInt(s.range.endingHashKey),
    );
    if (!shard) throw new Error(`No open shard for hash ${hash}`);
    return this.putRecordToShard(shard.shardId, partitionKey, data);
  }

  /** Writes a record (or a KPL aggregated record's bytes) to a given open shard. */
  putRecordToShard(shardId: string, partitionKey: string, data: Uint8Array | string): PutRecordResult {
    const shard = this.#shard(shardId);
    if (!shard.isOpen) throw new Error(`Shard ${shardId} is closed`);
    this.#nextSequence += 1n;
    const sequenceNumber = String(SEQUENCE_BASE + this.#nextSequence);
    shard.records.push({
      data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
      partitionKey,
      explicitHashKey: undefined,
      sequenceNumber,
      subSequenceNumber: 0,
      approximateArrivalTimestamp: new Date(),
      isAggregated: false,
    });
    this.#wake();
    return { shardId, sequenceNumber };
  }

  /** Closes a shard and opens two children splitting its range. @returns the children's ids. */
  split(shardId: string): [string, string] {
    const parent = this.#closeForReshard(shardId);
    const start = BigInt(parent.range.startingHashKey);
    const end = BigInt(parent.range.endingHashKey);
    const middle = start + (end - start) / 2n;
    const a = this.#addShard([shardId], start, middle);
    const b = this.#addShard([shardId], middle + 1n, end);
    parent.children = [a, b].map((s) => this.#childOf(s));
    this.#wake();
    return [a.shardId, b.shardId];
  }

  /** Closes two adjacent shards and opens one child covering both ranges. @returns the child's id. */
  merge(shardId: string, adjacentShardId: string): string {
    const first = this.#closeForReshard(shardId);
    const second = this.#closeForReshard(adjacentShardId);
    // BigInt has no Math.min/max: order the bounds instead.
    const bounds = [first, second]
      .flatMap((s) => [BigInt(s.range.startingHashKey), BigInt(s.range.endingHashKey)])
      .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const start = bounds[0]!;
    const end = bounds[bounds.length - 1]!;
    const child = this.#addShard([shardId, adjacentShardId].sort(), start, end);
    first.children = [this.#childOf(child)];
    second.children = [this.#childOf(child)];
    this.#wake();
    return child.shardId;
  }

  async listShards(): Promise<ShardDescription[]> {
    return [...this.#shards.values()].map((s) => ({
      shardId: s.shardId,
      parentShardIds: s.parentShardIds,
      hashKeyRange: s.range,
      isOpen: s.isOpen,
    }));
  }

  async *read(request: ShardReadRequest): AsyncGenerator<ReadResult> {
    const shard = this.#shard(request.shardId);
    let index = 0;
    switch (request.start.kind) {
      case 'TRIM_HORIZON':
        index = 0;
        break;
      case 'LATEST':
        index = shard.records.length;
        break;
      case 'AT_TIMESTAMP': {
        const at = request.start.timestamp.getTime();
        index = shard.records.findIndex((r) => r.approximateArrivalTimestamp.getTime() >= at);
        if (index < 0) index = shard.records.length;
        break;
      }
      case 'AFTER': {
        const after = request.start.position;
        index = shard.records.findIndex((r) => compareExtendedSequenceNumbers(r, after) > 0);
        if (index < 0) index = shard.records.length;
        break;
      }
    }
    while (!request.signal.aborted) {
      if (index < shard.records.length) {
        const records = shard.records.slice(index, index + this.#maxRecords);
        index += records.length;
        yield {
          kind: 'records',
          records,
          millisBehindLatest: index < shard.records.length ? 1 : 0,
          byteCount: records.reduce((sum, r) => sum + r.data.byteLength + r.partitionKey.length, 0),
        };
        continue;
      }
      if (!shard.isOpen) {
        yield { kind: 'end', childShards: shard.children };
        return;
      }
      await this.#waitForWrite(request.signal);
    }
  }

  #waitForWrite(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(this.#idleMs, 1) * 20);
      this.#listeners.add(done);
      signal.addEventListener('abort', done, { once: true });
    }).then(() => new Promise<void>((resolve) => setTimeout(resolve, this.#idleMs)));
  }

  #wake(): void {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }

  #closeForReshard(shardId: string): FakeShard {
    const shard = this.#shard(shardId);
    if (!shard.isOpen) throw new Error(`Shard ${shardId} is already closed`);
    shard.isOpen = false;
    return shard;
  }

  #childOf(shard: FakeShard): ChildShard {
    return { shardId: shard.shardId, parentShardIds: shard.parentShardIds, hashKeyRange: shard.range };
  }

  #addShard(parentShardIds: readonly string[], start: bigint, end: bigint): FakeShard {
    const shardId = `shardId-${String(this.#nextShard++).padStart(12, '0')}`;
    const shard: FakeShard = {
      shardId,
      parentShardIds,
      range: { startingHashKey: String(start), endingHashKey: String(end) },
      records: [],
      isOpen: true,
      children: [],
    };
    this.#shards.set(shardId, shard);
    return shard;
  }

  #shard(shardId: string): FakeShard {
    const shard = this.#shards.get(shardId);
    if (!shard) throw new Error(`Unknown shard ${shardId}`);
    return shard;
  }
}
