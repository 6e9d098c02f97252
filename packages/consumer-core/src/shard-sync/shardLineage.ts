import { SentinelCheckpoint, sentinelPosition } from '../checkpoint/ExtendedSequenceNumber.js';
import type { HashKeyRange, Lease, NewLease } from '../leases/Lease.js';
import { isLeaseFinished } from '../leases/leaseTaking.js';

/** A shard as listed by the stream. */
export interface ShardDescription {
  readonly shardId: string;
  /** `ParentShardId` and `AdjacentParentShardId` (two for a merge child), when present. */
  readonly parentShardIds: readonly string[];
  readonly hashKeyRange: HashKeyRange | undefined;
  /** False once the shard was closed by a split or merge (it has an ending sequence number). */
  readonly isOpen: boolean;
}

/** Where an application without checkpoints starts. */
export type InitialPosition = 'TRIM_HORIZON' | 'LATEST' | { readonly atTimestamp: Date };

/**
 * Whether a lease's shard may be processed now: every parent is checkpointed at `SHARD_END`, or has no
 * lease (trimmed by retention, or never leased because the application started at `LATEST`). A merge
 * child waits for both parents.
 */
export function isLeaseReady(lease: Lease, leasesByKey: ReadonlyMap<string, Lease>): boolean {
  for (const parentId of lease.parentShardIds) {
    const parent = leasesByKey.get(parentId);
    if (parent !== undefined && !isLeaseFinished(parent)) return false;
  }
  return true;
}

/** For a table listing: which leases are work to take now (ready and not finished). */
export function eligibleLeases(leases: readonly Lease[]): (lease: Lease) => boolean {
  const byKey = new Map(leases.map((lease) => [lease.leaseKey, lease]));
  return (lease) => !isLeaseFinished(lease) && isLeaseReady(lease, byKey);
}

/** Inputs of {@link planNewLeases}. */
export interface NewLeasePlanInput {
  /** Every shard the stream lists. */
  readonly shards: readonly ShardDescription[];
  /** Keys of the leases already in the table. */
  readonly existingLeaseKeys: ReadonlySet<string>;
  /** Where lineages seen for the first time start. */
  readonly initialPosition: InitialPosition;
}

type Decision = 'exists' | 'skip' | 'root' | 'descendant';

/**
 * The leases to create for shards without one, parents before children (create them in this order).
 *
 * - A shard with a parent that has (or gets) a lease as a descendant starts at `TRIM_HORIZON`: it only
 *   runs after its parents reached `SHARD_END`, and every one of its records comes after theirs.
 * - Lineages seen for the first time start at the initial position. With `LATEST`, closed shards are
 *   skipped (nothing new will ever arrive in them) and their open descendants start at `LATEST`.
 * - A closed shard with no leased ancestor but a leased descendant gets no lease: its lineage goes on
 *   in that descendant (its own lease was deleted by lease cleanup once its children started, or it
 *   ended before the application started). As the KCL's `HierarchicalShardSyncer`, which only walks up
 *   from open shards without a lease, this keeps a sync after a cleanup from creating anything.
 */
export function planNewLeases(input: NewLeasePlanInput): NewLease[] {
  const byId = new Map(input.shards.map((shard) => [shard.shardId, shard]));
  const decisions = new Map<string, Decision>();
  const plan: NewLease[] = [];
  const isLatest = input.initialPosition === 'LATEST';
  const rootCheckpoint =
    input.initialPosition === 'LATEST'
      ? SentinelCheckpoint.Latest
      : input.initialPosition === 'TRIM_HORIZON'
        ? SentinelCheckpoint.TrimHorizon
        : SentinelCheckpoint.AtTimestamp;

  const childrenOf = new Map<string, string[]>();
  for (const shard of input.shards) {
    for (const parentId of shard.parentShardIds) {
      childrenOf.set(parentId, [...(childrenOf.get(parentId) ?? []), shard.shardId]);
    }
  }
  const leasedDescendant = new Map<string, boolean>();
  const hasLeasedDescendant = (shardId: string, visiting: Set<string>): boolean => {
    const known = leasedDescendant.get(shardId);
    if (known !== undefined) return known;
    visiting.add(shardId);
    const result = (childrenOf.get(shardId) ?? []).some(
      (childId) =>
        !visiting.has(childId) &&
        (input.existingLeaseKeys.has(childId) || hasLeasedDescendant(childId, visiting)),
    );
    visiting.delete(shardId);
    leasedDescendant.set(shardId, result);
    return result;
  };

  const decide = (shard: ShardDescription, visiting: Set<string>): Decision => {
    const known = decisions.get(shard.shardId);
    if (known) return known;
    if (input.existingLeaseKeys.has(shard.shardId)) {
      decisions.set(shard.shardId, 'exists');
      return 'exists';
    }
    visiting.add(shard.shardId);
    const parentDecisions = shard.parentShardIds.map((parentId) => {
      if (input.existingLeaseKeys.has(parentId)) return 'exists';
      const parent = byId.get(parentId);
      if (!parent || visiting.has(parentId)) return 'skip';
      return decide(parent, visiting);
    });
    visiting.delete(shard.shardId);
    let decision: Decision;
    if (parentDecisions.some((d) => d === 'exists' || d === 'descendant')) decision = 'descendant';
    else if (isLatest && !shard.isOpen) decision = 'skip';
    // A closed shard without a leased ancestor whose lineage continues in a lease was finished and its
    // lease deleted by lease cleanup (or it predates the application's start): never again a root.
    else if (!shard.isOpen && hasLeasedDescendant(shard.shardId, new Set())) decision = 'skip';
    else decision = 'root';
    decisions.set(shard.shardId, decision);
    if (decision === 'root' || decision === 'descendant') {
      plan.push({
        leaseKey: shard.shardId,
        checkpoint: sentinelPosition(
          decision === 'descendant' ? SentinelCheckpoint.TrimHorizon : rootCheckpoint,
        ),
        parentShardIds: [...shard.parentShardIds].sort(),
        hashKeyRange: shard.hashKeyRange,
      });
    }
    return decision;
  };

  for (const shard of input.shards) decide(shard, new Set());
  return plan;
}
