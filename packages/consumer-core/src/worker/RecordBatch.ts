import type { ExtendedSequenceNumber } from '../checkpoint/ExtendedSequenceNumber.js';
import type { KinesisRecord } from '../retrieval/ShardReader.js';

/** Why a shard's session ended: completion reasons, not errors. */
export const ShardCompletionReason = {
  /** The shard was read to its end and `SHARD_END` was checkpointed: its children may start. */
  ShardEnd: 'SHARD_END',
  /** Another worker took the lease (or it could not be renewed in time): stop work on it. */
  LeaseLost: 'LEASE_LOST',
  /** The consumer stopped; the lease was released after a final checkpoint. */
  Shutdown: 'SHUTDOWN',
} as const;
/** Why a shard's session ended. */
export type ShardCompletionReason = (typeof ShardCompletionReason)[keyof typeof ShardCompletionReason];

/** A shard being processed by this worker. */
export interface ShardInfo {
  readonly shardId: string;
  /** Parents (two for a merge child); they were all processed to `SHARD_END` before this shard started. */
  readonly parentShardIds: readonly string[];
}

/**
 * Records fetched from one shard, in order, with their checkpoint handle.
 *
 * A batch holds a share of the shard's buffer (`maxBufferedBatches`/`maxBufferedBytes`) until it is
 * handled: checkpointed (by itself, or by a checkpoint of a later record) or released.
 */
export interface RecordBatch {
  /** The shard the records come from. */
  readonly shardId: string;
  /** The records, in shard order (KPL sub-records expanded). Never empty. */
  readonly records: readonly KinesisRecord[];
  /** How far behind the newest record of the shard this batch is, when Kinesis said. */
  readonly millisBehindLatest: number | undefined;
  /**
   * Marks every record up to `record` (default: this batch's last record) handled. The checkpoint never
   * moves backwards, and it is written to the lease table within `checkpointIntervalMs` (at once when 0;
   * always before release, at shard end and at stop). Resolves once recorded (with interval 0: once
   * written). After the lease was lost it resolves without writing: the session completes `LEASE_LOST`.
   *
   * @throws `CheckpointRejectedError` when `record` is not a delivered record of this shard.
   */
  checkpoint(record?: KinesisRecord | ExtendedSequenceNumber): Promise<void>;
  /** Frees this batch's buffer share without checkpointing (for applications that checkpoint less often). */
  release(): void;
}
