import type { ExtendedSequenceNumber } from '../checkpoint/ExtendedSequenceNumber.js';
import { type StreamIdentity, streamIdentityAttributes } from './streamIdentity.js';

/** An inclusive range of 128-bit hash keys, as decimal strings (the lease table's representation). */
export interface HashKeyRange {
  readonly startingHashKey: string;
  readonly endingHashKey: string;
}

/**
 * One lease: the right to process one shard, as stored in the lease table (one item per shard, the
 * Java KCL 2.x/3.x schema). Immutable; stores return new values.
 */
export interface Lease {
  /** The shard id (`shardId-000000000000`). */
  readonly leaseKey: string;
  /** The worker holding it; `undefined` when unassigned (the attribute is absent). */
  readonly leaseOwner: string | undefined;
  /** Bumped by every renew, take, checkpoint and release: the compare-and-set and fencing token. */
  readonly leaseCounter: number;
  /** Where processing resumes: after this position, or a sentinel. */
  readonly checkpoint: ExtendedSequenceNumber;
  /** A prepared, not yet committed checkpoint (KCL two-phase checkpoint). */
  readonly pendingCheckpoint: ExtendedSequenceNumber | undefined;
  /** Application state stored with the pending checkpoint. */
  readonly pendingCheckpointState: Uint8Array | undefined;
  /** How many times the owner changed since the last checkpoint. */
  readonly ownerSwitchesSinceCheckpoint: number;
  /** Parent shard ids (two for a merge child). */
  readonly parentShardIds: readonly string[];
  /** Child shard ids, written at shard end. */
  readonly childShardIds: readonly string[];
  /** The shard's hash-key range, when known. */
  readonly hashKeyRange: HashKeyRange | undefined;
  /**
   * KCL 3.x graceful hand-off: while set, `leaseOwner` is the next owner and this worker still
   * processes. Shardline never processes such a lease until it expires and is taken (which clears it).
   */
  readonly checkpointOwner: string | undefined;
  /**
   * Attributes this library does not interpret (KCL 3.x `throughputKBps`, multi-stream `streamName`, ...),
   * kept as stored, opaque, so that a read–modify–write never drops them.
   */
  readonly unknownAttributes: Readonly<Record<string, unknown>>;
}

/** What is needed to create a lease: everything else starts empty (counter 0, no owner). */
export interface NewLease {
  readonly leaseKey: string;
  readonly checkpoint: ExtendedSequenceNumber;
  readonly parentShardIds: readonly string[];
  readonly hashKeyRange: HashKeyRange | undefined;
  /** The stream it belongs to, stamped on the item (see `streamIdentity.ts`). */
  readonly streamIdentity?: StreamIdentity;
}

/** A lease with counter 0, no owner, no pending checkpoint. */
export function leaseFromNew(lease: NewLease): Lease {
  return {
    leaseKey: lease.leaseKey,
    leaseOwner: undefined,
    leaseCounter: 0,
    checkpoint: lease.checkpoint,
    pendingCheckpoint: undefined,
    pendingCheckpointState: undefined,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [...lease.parentShardIds],
    childShardIds: [],
    hashKeyRange: lease.hashKeyRange,
    checkpointOwner: undefined,
    unknownAttributes: lease.streamIdentity ? streamIdentityAttributes(lease.streamIdentity) : {},
  };
}
