import type { ShardFailureOutcome } from './FencedLeaseWriter.js';
import type { CheckpointUpdate, PrepareCheckpointUpdate } from './LeaseStore.js';

/** Outcome of a fenced write: `LEASE_LOST` when the lease is no longer this worker's (nothing written). */
export type CheckpointWriteOutcome = 'WRITTEN' | 'LEASE_LOST';

/**
 * What a shard consumer may do with the lease of its shard: every write fenced by the lease counter,
 * serialized with the renewals of the same lease. Made by the lease coordinator for one lease key.
 */
export interface LeaseHandle {
  /** The lease (shard) this handle acts on. */
  readonly leaseKey: string;
  /** Whether the lease is still held (renewed recently enough): checked before every batch handed out. */
  isHeld(): boolean;
  /**
   * Writes a checkpoint (and at `SHARD_END` the children's ids). Retriable failures are retried while
   * the lease is held. @throws the store's error when it keeps failing.
   */
  checkpoint(update: CheckpointUpdate): Promise<CheckpointWriteOutcome>;
  /** Records a prepared checkpoint (two-phase checkpoint), fenced like {@link LeaseHandle.checkpoint}. */
  prepare(update: PrepareCheckpointUpdate): Promise<CheckpointWriteOutcome>;
  /**
   * Releases the lease (owner removed, counter bumped; or the hand-off completed when another worker
   * asked for it) and stops renewing it. Never throws. @returns whether the table was updated.
   */
  release(): Promise<boolean>;
  /**
   * Ends a failed session: releases the lease and counts the failure in the lease item (halting the
   * shard after `maxShardFailures` in a row at one checkpoint); stops renewing it. Never throws.
   */
  fail(error: Error): Promise<ShardFailureOutcome>;
}
