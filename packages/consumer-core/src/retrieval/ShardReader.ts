import type { ExtendedSequenceNumber } from '../checkpoint/ExtendedSequenceNumber.js';
import type { ConsumerEventListener } from '../events.js';
import type { HashKeyRange } from '../leases/Lease.js';

/**
 * One user record as delivered to processors: a plain Kinesis record, or one sub-record of a KPL
 * aggregated record (then `subSequenceNumber` is its index and `isAggregated` is true).
 */
export interface KinesisRecord {
  /** The payload. */
  readonly data: Uint8Array;
  /** The partition key the producer gave. */
  readonly partitionKey: string;
  /** The explicit hash key of a KPL sub-record, when the producer set one. */
  readonly explicitHashKey: string | undefined;
  /** The Kinesis sequence number (decimal string, 56 digits on AWS; compare as BigInt). */
  readonly sequenceNumber: string;
  /** Index inside a KPL aggregated record; 0 for plain records. */
  readonly subSequenceNumber: number;
  /** When Kinesis accepted the (outer) record. */
  readonly approximateArrivalTimestamp: Date;
  /** Whether the record came out of a KPL aggregated record. */
  readonly isAggregated: boolean;
}

/** Where reading starts. */
export type StartingPosition =
  | { readonly kind: 'TRIM_HORIZON' }
  | { readonly kind: 'LATEST' }
  | { readonly kind: 'AT_TIMESTAMP'; readonly timestamp: Date }
  /** Right after a checkpoint (sub-sequence aware). */
  | { readonly kind: 'AFTER'; readonly position: ExtendedSequenceNumber };

/** A child of a shard that ended, as Kinesis reported it. */
export interface ChildShard {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  readonly hashKeyRange: HashKeyRange | undefined;
}

/** What a read yields: a non-empty batch of records, or the end of the shard. */
export type ReadResult =
  | {
      readonly kind: 'records';
      readonly records: readonly KinesisRecord[];
      /** How far the shard's newest record is ahead of this batch (Kinesis's estimate). */
      readonly millisBehindLatest: number | undefined;
      /** Payload bytes in the batch (data + partition keys), for buffer accounting. */
      readonly byteCount: number;
    }
  | {
      readonly kind: 'end';
      /** Children as reported with the end (`ChildShards`), or `undefined` when the service did not say. */
      readonly childShards: readonly ChildShard[] | undefined;
    };

/** What to read. */
export interface ShardReadRequest {
  readonly shardId: string;
  readonly start: StartingPosition;
  /** The shard's hash range, to flag KPL sub-records that belong elsewhere. */
  readonly hashKeyRange: HashKeyRange | undefined;
  /** Stops reading; the iterable then ends. */
  readonly signal: AbortSignal;
  /** Receives retries, trimmed-record gaps, out-of-range sub-records. */
  readonly onEvent: ConsumerEventListener;
}

/**
 * The retrieval port: reads one shard from a position, yielding non-empty batches in order and then,
 * for a closed shard, one `end`. The consumer pulls the next batch only when it has room (backpressure).
 */
export interface ShardReader {
  /**
   * Prepares the reader once per worker start, before any lease is taken (the fan-out reader registers
   * or finds its stream consumer here). Optional.
   *
   * @throws when the reader cannot work at all (the worker's `start()` then rejects).
   */
  start?(signal: AbortSignal): Promise<void>;
  read(request: ShardReadRequest): AsyncIterable<ReadResult>;
}
