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
  /**
   * Another worker asked for the lease (rebalancing): `records$` completed, the final checkpoint was
   * written after the delivered batches were checkpointed, and the lease went to the next owner, which
   * continues exactly after it. Handle it as `SHUTDOWN` (flush, checkpoint what was delivered).
   */
  HandedOff: 'HANDED_OFF',
  /**
   * The session failed (`ShardSession.fail`, or a poison batch of `run()`): nothing more was
   * checkpointed, the lease was released with the failure counted in the lease item, and the next owner
   * (or this worker after `shardFailureBackoffMs`) redoes the shard from its last checkpoint — unless the
   * failures in a row at that checkpoint reached `maxShardFailures`: then the shard is halted
   * (`SHARD_HALTED`) and left alone by every worker until `shardline skip` or `shardline reset`.
   */
  Failed: 'FAILED',
} as const;
/** Why a shard's session ended. */
export type ShardCompletionReason = (typeof ShardCompletionReason)[keyof typeof ShardCompletionReason];

/** A shard being processed by this worker. */
export interface ShardInfo {
  readonly shardId: string;
  /** Parents (two for a merge child); they were all processed to `SHARD_END` before this shard started. */
  readonly parentShardIds: readonly string[];
  /** The checkpoint this session started after (a sequence number or a sentinel such as `TRIM_HORIZON`). */
  readonly startingCheckpoint: ExtendedSequenceNumber;
  /**
   * A prepared checkpoint left by the previous owner (see {@link RecordBatch.prepareCheckpoint}): what it
   * intended to checkpoint next, e.g. to redo an interrupted write identically.
   */
  readonly pendingCheckpoint: ExtendedSequenceNumber | undefined;
  /** The application state stored with `pendingCheckpoint`. */
  readonly pendingCheckpointState: Uint8Array | undefined;
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
  /**
   * First phase of a two-phase checkpoint (KCL `prepareCheckpoint`): records, at once and fenced by the
   * lease counter, that the application intends to checkpoint at `record` (default: this batch's last),
   * with optional `state` (stored as `pendingCheckpointState`). The checkpoint itself does not move; the
   * next `checkpoint()` clears it. A worker that takes the lease later finds it in
   * `ShardInfo.pendingCheckpoint`/`pendingCheckpointState` — the way to redo an interrupted side effect
   * (an archive object, say) identically after a crash.
   *
   * @throws `LeaseLostError` when the lease is gone (nothing was written); `CheckpointRejectedError`
   *   for a position after the last delivered record or before the current checkpoint.
   */
  prepareCheckpoint(record?: KinesisRecord | ExtendedSequenceNumber, state?: Uint8Array): Promise<void>;
  /** Frees this batch's buffer share without checkpointing (for applications that checkpoint less often). */
  release(): void;
}
