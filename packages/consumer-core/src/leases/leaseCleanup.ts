import { SentinelCheckpoint } from '../checkpoint/ExtendedSequenceNumber.js';
import type { Lease } from './Lease.js';
import { isLeaseFinished } from './leaseTaking.js';

/** A shard as the stream listed it (what lease cleanup needs of `ShardDescription`). */
export interface ListedShard {
  /** The shard id. */
  readonly shardId: string;
  /** `ParentShardId` and `AdjacentParentShardId`, when present. */
  readonly parentShardIds: readonly string[];
}

/** A complete, unfiltered listing of the stream's shards, and when it was taken (the cleaner's clock). */
export interface ShardListing {
  /** Every shard listed. */
  readonly shards: readonly ListedShard[];
  /** When the listing was taken, on the cleaner's clock. */
  readonly listedAtMs: number;
}

/** Why a lease is deleted. */
export const LeaseDeletionReason = {
  /** Finished (`SHARD_END`), every child started, no parent lease left (KCL `cleanupLeasesUponShardCompletion`). */
  ShardCompleted: 'SHARD_COMPLETED',
  /** The stream no longer lists the shard (trimmed by retention), and nobody wrote the lease for the grace period. */
  ShardGone: 'SHARD_GONE',
} as const;
/** Why a lease is deleted. */
export type LeaseDeletionReason = (typeof LeaseDeletionReason)[keyof typeof LeaseDeletionReason];

/** Why a lease that will be deleted is not deleted yet. */
export type LeaseDeletionWait =
  /** A child's lease is still at `TRIM_HORIZON`/`AT_TIMESTAMP`: it has not started. */
  | 'children-not-started'
  /** A child named by the lease (or the listing) has no lease yet. */
  | 'child-lease-missing'
  /** Neither the lease (`childShardIds`) nor the listing names the children. */
  | 'children-unknown'
  /** A parent's lease is still in the table: ancestors are deleted first (as the KCL). */
  | 'parent-lease-present'
  /** The stream does not list the shard: deleted once unlisted and unwritten for the grace period. */
  | 'gone-grace-period';

/** Switches and timing of lease cleanup (from the consumer's options). */
export interface LeaseCleanupSettings {
  /** Delete finished leases once their children started. KCL `cleanupLeasesUponShardCompletion`. */
  readonly cleanupLeasesUponShardCompletion: boolean;
  /** Delete leases of shards the stream no longer lists, after {@link garbageLeaseGracePeriodMs}. */
  readonly cleanupGarbageLeases: boolean;
  /** How long a lease must stay unlisted and unwritten before it is deleted as garbage. */
  readonly garbageLeaseGracePeriodMs: number;
}

/** What the cleaner remembers of one lease between rounds. */
export interface LeaseCleanupObservation {
  /** The counter last seen. */
  readonly leaseCounter: number;
  /** When that counter was first seen. */
  readonly observedAtMs: number;
  /** When a listing taken after {@link observedAtMs} first missed the shard (reset when listed again). */
  readonly unlistedSinceMs: number | undefined;
}

/** Per lease key. */
export type LeaseCleanupObservations = ReadonlyMap<string, LeaseCleanupObservation>;

/** Inputs of {@link planLeaseCleanup}: plain data, no I/O. */
export interface LeaseCleanupInput {
  /** Every lease of the table (one listing). */
  readonly leases: readonly Lease[];
  /** The latest complete listing of the stream, if any. */
  readonly listing: ShardListing | undefined;
  /** Now, on the same clock as `listing.listedAtMs`. */
  readonly nowMs: number;
  /** From the previous round (empty at first). */
  readonly observations: LeaseCleanupObservations;
  /** The switches and the grace period. */
  readonly settings: LeaseCleanupSettings;
}

/** A lease to delete now, conditional on the counter it was seen with. */
export interface LeaseDeletion {
  /** The lease as listed: its counter is the delete's condition. */
  readonly lease: Lease;
  /** Why it is deleted. */
  readonly reason: LeaseDeletionReason;
}

/** A lease that will be deleted, and what it waits for. */
export interface PendingLeaseDeletion {
  /** The lease. */
  readonly leaseKey: string;
  /** Why it will be deleted. */
  readonly reason: LeaseDeletionReason;
  /** What it waits for. */
  readonly waitingFor: LeaseDeletionWait;
  /** The children not started or without a lease, for `children-not-started`/`child-lease-missing`. */
  readonly shardIds?: readonly string[];
}

/** The result of {@link planLeaseCleanup}. */
export interface LeaseCleanupPlan {
  /** The leases to delete now (each conditional on its counter). */
  readonly deletions: readonly LeaseDeletion[];
  /** The leases that will be deleted later, and what they wait for. */
  readonly pending: readonly PendingLeaseDeletion[];
  /** To pass to the next round. */
  readonly observations: LeaseCleanupObservations;
}

const NOT_STARTED = new Set<string>([SentinelCheckpoint.TrimHorizon, SentinelCheckpoint.AtTimestamp]);

/** Whether a child lease has started: its checkpoint moved past `TRIM_HORIZON`/`AT_TIMESTAMP` (as the KCL). */
export function hasLeaseStarted(lease: Lease): boolean {
  return !NOT_STARTED.has(lease.checkpoint.sequenceNumber);
}

/**
 * Which leases to delete now, and which will be deleted later (KCL `LeaseCleanupManager`, planned over
 * the whole table so any worker can do it, not only the one that finished the shard):
 *
 * - a finished lease (`SHARD_END`) once every child's lease has started and no parent lease is left
 *   (ancestors go first, so the table always holds a contiguous lineage);
 * - a lease whose shard the stream no longer lists, once it was unlisted (by every complete listing
 *   taken after its counter was last seen to move) and unwritten for the grace period.
 *
 * Every deletion is conditional on the counter seen here: a lease written meanwhile is kept.
 */
export function planLeaseCleanup(input: LeaseCleanupInput): LeaseCleanupPlan {
  const { leases, nowMs, settings } = input;
  // An empty listing is never evidence that every shard is gone (a stream being recreated, a bad page).
  const listing = input.listing && input.listing.shards.length > 0 ? input.listing : undefined;
  const byKey = new Map(leases.map((lease) => [lease.leaseKey, lease]));
  const listed = listing ? new Set(listing.shards.map((shard) => shard.shardId)) : undefined;
  const listedChildren = new Map<string, string[]>();
  for (const shard of listing?.shards ?? []) {
    for (const parentId of shard.parentShardIds) {
      listedChildren.set(parentId, [...(listedChildren.get(parentId) ?? []), shard.shardId]);
    }
  }

  const observations = new Map<string, LeaseCleanupObservation>();
  const deletions: LeaseDeletion[] = [];
  const pending: PendingLeaseDeletion[] = [];
  for (const lease of leases) {
    const previous = input.observations.get(lease.leaseKey);
    let observation: LeaseCleanupObservation =
      previous && previous.leaseCounter === lease.leaseCounter
        ? previous
        : { leaseCounter: lease.leaseCounter, observedAtMs: nowMs, unlistedSinceMs: undefined };
    if (listing && listed && listing.listedAtMs > observation.observedAtMs) {
      observation = listed.has(lease.leaseKey)
        ? { ...observation, unlistedSinceMs: undefined }
        : { ...observation, unlistedSinceMs: observation.unlistedSinceMs ?? listing.listedAtMs };
    }
    observations.set(lease.leaseKey, observation);

    if (settings.cleanupLeasesUponShardCompletion && isLeaseFinished(lease)) {
      const wait = completedLeaseWait(lease, byKey, listedChildren);
      if (wait === undefined) {
        deletions.push({ lease, reason: LeaseDeletionReason.ShardCompleted });
        continue;
      }
      // A finished shard that is gone too is still deleted as garbage below.
      const isGone = settings.cleanupGarbageLeases && listed !== undefined && !listed.has(lease.leaseKey);
      if (!isGone) {
        pending.push({ leaseKey: lease.leaseKey, reason: LeaseDeletionReason.ShardCompleted, ...wait });
        continue;
      }
    }
    if (settings.cleanupGarbageLeases && listed !== undefined && !listed.has(lease.leaseKey)) {
      const since = observation.unlistedSinceMs;
      if (since !== undefined && nowMs - since >= settings.garbageLeaseGracePeriodMs) {
        deletions.push({ lease, reason: LeaseDeletionReason.ShardGone });
      } else {
        pending.push({
          leaseKey: lease.leaseKey,
          reason: LeaseDeletionReason.ShardGone,
          waitingFor: 'gone-grace-period',
        });
      }
    }
  }
  return { deletions, pending, observations };
}

function completedLeaseWait(
  lease: Lease,
  byKey: ReadonlyMap<string, Lease>,
  listedChildren: ReadonlyMap<string, readonly string[]>,
): Pick<PendingLeaseDeletion, 'waitingFor' | 'shardIds'> | undefined {
  const parents = lease.parentShardIds.filter((parentId) => byKey.has(parentId));
  if (parents.length > 0) return { waitingFor: 'parent-lease-present', shardIds: parents };
  const children =
    lease.childShardIds.length > 0 ? lease.childShardIds : (listedChildren.get(lease.leaseKey) ?? []);
  if (children.length === 0) return { waitingFor: 'children-unknown' };
  const missing = children.filter((childId) => !byKey.has(childId));
  if (missing.length > 0) return { waitingFor: 'child-lease-missing', shardIds: missing };
  const notStarted = children.filter((childId) => !hasLeaseStarted(byKey.get(childId)!));
  if (notStarted.length > 0) return { waitingFor: 'children-not-started', shardIds: notStarted };
  return undefined;
}
