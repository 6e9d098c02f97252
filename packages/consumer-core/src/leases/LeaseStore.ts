import type { ExtendedSequenceNumber } from '../checkpoint/ExtendedSequenceNumber.js';
import type { HashKeyRange, Lease, NewLease } from './Lease.js';
import type { ShardFailureRecord } from './shardFailure.js';
import type { StreamIdentity } from './streamIdentity.js';

/** A checkpoint write: the new position, and at shard end the children's ids. */
export interface CheckpointUpdate {
  /** The new checkpoint. */
  readonly checkpoint: ExtendedSequenceNumber;
  /** Child shard ids to record (written at `SHARD_END`; never written when empty). */
  readonly childShardIds?: readonly string[];
}

/** A prepared checkpoint (KCL two-phase checkpoint): the position and optional application state. */
export interface PrepareCheckpointUpdate {
  /** The position the application intends to checkpoint next. */
  readonly pendingCheckpoint: ExtendedSequenceNumber;
  /** Application state stored with it (e.g. what an archiver is about to write). Never written when empty. */
  readonly pendingCheckpointState?: Uint8Array;
}

/** Metadata that may be added to a lease without owning it (no counter change). */
export interface LeaseMetaUpdate {
  readonly childShardIds?: readonly string[];
  readonly hashKeyRange?: HashKeyRange;
  /**
   * A take hint (`shardlineTakeHint`, an attribute the KCL ignores): written by a stopping worker on one
   * lease of each live peer, whose next renewal reads it and runs a take round at once.
   */
  readonly takeHint?: string;
  /**
   * The stream the lease belongs to (`shardlineStreamArn`, `shardlineStreamCreatedAt`: attributes the
   * KCL ignores), written when a lease of an older table is adopted (see `streamIdentity.ts`).
   */
  readonly streamIdentity?: StreamIdentity;
}

/** The attribute of {@link LeaseMetaUpdate.takeHint}. */
export const TAKE_HINT_ATTRIBUTE = 'shardlineTakeHint';

/** The take hint of a lease as stored (see {@link LeaseMetaUpdate.takeHint}), if any. */
export function takeHintOf(lease: Lease): string | undefined {
  const value = lease.unknownAttributes[TAKE_HINT_ATTRIBUTE] as { S?: unknown } | undefined;
  return typeof value?.S === 'string' ? value.S : undefined;
}

/**
 * The lease table port. Every write is conditional exactly as in the Java KCL's
 * `DynamoDBLeaseRefresher` (docs/kcl-compatibility.md), so implementations can be swapped and tables shared with
 * the KCL (one fleet at a time).
 *
 * Methods that can lose a race return `undefined`/`false` when the condition fails (an expected
 * outcome); they throw a `DependencyError` (with `retriable`) when the store itself fails.
 */
export interface LeaseStore {
  /** Creates the table if it is missing and checks its key schema. @throws `LeaseTableSchemaError` */
  initialize(signal?: AbortSignal): Promise<void>;
  /** Every lease item (consistent read). Items that are not leases (KCL 3.5 metadata) are skipped. */
  listLeases(signal?: AbortSignal): Promise<Lease[]>;
  /**
   * Keys of the leases whose `leaseOwner` is `owner`, read through the lease table's `leaseOwner` index
   * (the KCL 3.x `LeaseOwnerToLeaseKeyIndex`, keys only): eventually consistent, so a key may be missing
   * for a moment or name a lease that has moved on; read the lease with {@link getLease} before acting.
   * Optional: the leader-based lease assignment needs it (see `LeaseDiscovery`).
   */
  listLeaseKeysOwnedBy?(owner: string, signal?: AbortSignal): Promise<string[]>;
  /** One lease (consistent read), or `undefined`. */
  getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined>;
  /** Creates a lease unless one with that key exists. @returns whether it was created. */
  createLeaseIfNotExists(lease: NewLease, signal?: AbortSignal): Promise<boolean>;
  /**
   * Renews (returning the lease as stored, so a take hint is seen): condition `leaseCounter =
   * lease.leaseCounter AND attribute_not_exists(checkpointOwner)`,
   * bumps the counter. While this worker hands the lease off (`lease.checkpointOwner` set), the
   * condition is `leaseCounter = lease.leaseCounter AND checkpointOwner = lease.checkpointOwner`. @returns the renewed lease, or `undefined` when it was lost.
   */
  renewLease(lease: Lease, signal?: AbortSignal): Promise<Lease | undefined>;
  /**
   * Takes for `owner`: condition `leaseCounter = lease.leaseCounter`; bumps the counter, sets the owner,
   * counts an owner switch, clears `checkpointOwner`. @returns the taken lease, or `undefined`.
   */
  takeLease(lease: Lease, owner: string, signal?: AbortSignal): Promise<Lease | undefined>;
  /**
   * Releases (KCL "evict"): condition `leaseOwner = lease.leaseOwner`; bumps the counter and removes the
   * owner so any worker may take it at once. @returns whether it was released.
   */
  releaseLease(lease: Lease, signal?: AbortSignal): Promise<boolean>;
  /**
   * Writes a checkpoint: condition `leaseCounter = lease.leaseCounter AND leaseOwner = lease.leaseOwner`
   * (the fencing token; `checkpointOwner = lease.checkpointOwner` instead while handing the lease off); bumps the counter, resets `ownerSwitchesSinceCheckpoint`, clears the pending
   * checkpoint. @returns the updated lease, or `undefined` when the lease is no longer held.
   */
  updateCheckpoint(lease: Lease, update: CheckpointUpdate, signal?: AbortSignal): Promise<Lease | undefined>;
  /**
   * Records a prepared checkpoint (KCL `prepareCheckpoint`): same condition and counter bump as
   * {@link LeaseStore.updateCheckpoint}; the checkpoint itself is unchanged. The next checkpoint clears it.
   * @returns the updated lease, or `undefined` when the lease is no longer held.
   */
  prepareCheckpoint(
    lease: Lease,
    update: PrepareCheckpointUpdate,
    signal?: AbortSignal,
  ): Promise<Lease | undefined>;
  /**
   * Starts a cooperative hand-off (KCL 3.x): condition `leaseOwner = lease.leaseOwner AND leaseCounter =
   * lease.leaseCounter AND attribute_not_exists(checkpointOwner)`; sets `leaseOwner = nextOwner`,
   * `checkpointOwner = lease.leaseOwner`, no counter change. The old owner's next renewal then fails and
   * it finishes, checkpoints and calls {@link LeaseStore.completeHandoff}. Optional: a store without it
   * makes rebalancing take leases outright (the old owner stops at its next renewal).
   * @returns the lease as stored, or `undefined` when the condition failed.
   */
  requestHandoff?(lease: Lease, nextOwner: string, signal?: AbortSignal): Promise<Lease | undefined>;
  /**
   * Ends a hand-off on the old owner's side: condition `leaseCounter = lease.leaseCounter AND
   * checkpointOwner = lease.checkpointOwner`; bumps the counter, counts an owner switch, removes
   * `checkpointOwner` (the next owner then holds the lease). @returns whether it was written.
   */
  completeHandoff?(lease: Lease, signal?: AbortSignal): Promise<boolean>;
  /**
   * An operator's checkpoint reset (`shardline reset`): condition `leaseCounter = lease.leaseCounter` (no
   * worker wrote since the lease was watched); bumps the counter, sets the checkpoint, resets
   * `ownerSwitchesSinceCheckpoint`, removes the owner, `checkpointOwner` and the pending checkpoint.
   * Optional: workers never call it. @returns whether it was written.
   */
  resetCheckpoint?(lease: Lease, checkpoint: ExtendedSequenceNumber, signal?: AbortSignal): Promise<boolean>;
  /**
   * Deletes a lease (lease cleanup, KCL `LeaseCleanupManager`): condition `leaseCounter =
   * lease.leaseCounter`, so a lease written since it was observed (taken, renewed, checkpointed) is
   * kept. Stricter than the KCL's unconditional `DeleteItem`. Optional: a store without it never
   * deletes. @returns whether it was deleted (false: gone already, or the counter moved).
   */
  deleteLease?(lease: Lease, signal?: AbortSignal): Promise<boolean>;
  /**
   * Ends a failed session (`ShardSession.fail`): the fencing condition of
   * {@link LeaseStore.updateCheckpoint}; bumps the counter, removes the owner and `checkpointOwner` (the
   * lease is released, the checkpoint unchanged) and sets the failure attributes of `failure`
   * (`shardlineFailureCount`, `shardlineFailedAt`, `shardlineLastFailure`, and `shardlineHalted` once
   * halted). A checkpoint write, a skip or a reset removes them. Optional: a store without it makes a
   * failure a plain release (nothing counted, never halted).
   * @returns whether it was written (`false`: the lease is no longer held).
   */
  recordShardFailure?(lease: Lease, failure: ShardFailureRecord, signal?: AbortSignal): Promise<boolean>;
  /** Adds metadata (condition: the lease exists; no counter change). @returns whether it exists. */
  updateLeaseMeta(leaseKey: string, update: LeaseMetaUpdate, signal?: AbortSignal): Promise<boolean>;
}
