import { type ExtendedSequenceNumber, SentinelCheckpoint } from '../checkpoint/ExtendedSequenceNumber.js';
import type { Lease } from '../leases/Lease.js';
import { type LeaseDeletionReason, planLeaseCleanup } from '../leases/leaseCleanup.js';
import { retrievalOf } from '../leases/retrievalAttribute.js';
import { shardFailureOf } from '../leases/shardFailure.js';
import type { ShardDescription } from '../shard-sync/shardLineage.js';
import { formatTextTable } from './textTable.js';

/** Whether a lease is being renewed, judged by watching its counter (no timestamps are stored). */
export type Liveness = 'live' | 'not-renewed' | 'unowned';

/** One row of `shardline status`. */
export interface ShardStatusRow {
  readonly shardId: string;
  /** `open`, `closed` (resharded away, still listed) or `gone` (trimmed from the stream's listing). */
  readonly shard: 'open' | 'closed' | 'gone';
  readonly owner: string | undefined;
  /** The next owner while a cooperative hand-off runs (`checkpointOwner` is the current one). */
  readonly handingOffTo: string | undefined;
  readonly liveness: Liveness;
  readonly checkpoint: string;
  /** `MillisBehindLatest` after the checkpoint, when known. */
  readonly lagMs: number | undefined;
  readonly parentShardIds: readonly string[];
  readonly childShardIds: readonly string[];
  /**
   * `finished` (SHARD_END), `halted` (failed `maxShardFailures` times in a row: no worker takes it until
   * `shardline skip`), `waiting-for-parents`, `ready`, or `no-lease`.
   */
  readonly lineage: 'finished' | 'halted' | 'waiting-for-parents' | 'ready' | 'no-lease';
  readonly leaseCounter: number | undefined;
  /**
   * Lease cleanup (with the default settings): the lease is deletable now, or waits — for children to
   * start, for a parent lease to go first, or (shard gone from the stream) for the grace period.
   */
  readonly pendingDeletion: PendingDeletionStatus | undefined;
  /** Failed sessions in a row at `failedAt` (0 when none since the last checkpoint). */
  readonly failureCount: number;
  /** The checkpoint those failures happened at. */
  readonly failedAt: string | undefined;
  /** The last failure's error. */
  readonly lastFailure: string | undefined;
  /** When the shard was halted (ISO 8601), if it is. */
  readonly haltedAt: string | undefined;
  /**
   * How the lease's last worker read the shard (the `shardlineRetrieval` attribute): `polling` or
   * `fanOut:<consumerName>`; undefined when not recorded (an older Shardline, the Java KCL, no lease).
   */
  readonly retrieval: string | undefined;
}

/** A lease cleanup will delete: why, and what it waits for (`ready` = at the next cleanup round). */
export interface PendingDeletionStatus {
  readonly reason: LeaseDeletionReason;
  readonly waitingFor:
    | 'ready'
    | 'children-not-started'
    | 'child-lease-missing'
    | 'children-unknown'
    | 'parent-lease-present'
    | 'gone-grace-period';
  readonly shardIds: readonly string[];
}

/** Formats a checkpoint for people: the sentinel, or the sequence number (with `/sub` when inside a KPL record). */
export function formatCheckpoint(checkpoint: ExtendedSequenceNumber): string {
  return checkpoint.subSequenceNumber > 0
    ? `${checkpoint.sequenceNumber}/${checkpoint.subSequenceNumber}`
    : checkpoint.sequenceNumber;
}

/**
 * Builds the status rows from two listings of the table taken `watchMs` apart and the stream's shards:
 * a lease is live when its counter moved in between (workers renew well within that time).
 */
export function shardStatusRows(
  before: readonly Lease[],
  after: readonly Lease[],
  shards: readonly ShardDescription[],
  lags: ReadonlyMap<string, number | undefined>,
): ShardStatusRow[] {
  const counters = new Map(before.map((l) => [l.leaseKey, l.leaseCounter]));
  const leases = new Map(after.map((l) => [l.leaseKey, l]));
  const listed = new Map(shards.map((s) => [s.shardId, s]));
  const ids = [...new Set([...listed.keys(), ...leases.keys()])].sort();
  // One look, no history: a gone shard shows as waiting for its grace period (workers time it).
  const cleanup = planLeaseCleanup({
    leases: after,
    listing: { shards, listedAtMs: 1 },
    nowMs: 0,
    observations: new Map(),
    settings: {
      cleanupLeasesUponShardCompletion: true,
      cleanupGarbageLeases: true,
      garbageLeaseGracePeriodMs: 1,
    },
  });
  const pendingDeletions = new Map<string, PendingDeletionStatus>();
  for (const { lease, reason } of cleanup.deletions) {
    pendingDeletions.set(lease.leaseKey, { reason, waitingFor: 'ready', shardIds: [] });
  }
  for (const pending of cleanup.pending) {
    pendingDeletions.set(pending.leaseKey, {
      reason: pending.reason,
      waitingFor: pending.waitingFor,
      shardIds: pending.shardIds ?? [],
    });
  }
  return ids.map((shardId) => {
    const lease = leases.get(shardId);
    const shard = listed.get(shardId);
    const parents = lease?.parentShardIds ?? shard?.parentShardIds ?? [];
    const isFinished = lease?.checkpoint.sequenceNumber === SentinelCheckpoint.ShardEnd;
    const parentsDone = parents.every((p) => {
      const parent = leases.get(p);
      return parent === undefined || parent.checkpoint.sequenceNumber === SentinelCheckpoint.ShardEnd;
    });
    const owner = lease?.checkpointOwner ?? lease?.leaseOwner;
    const moved = lease !== undefined && counters.get(shardId) !== lease.leaseCounter;
    const failure = lease ? shardFailureOf(lease) : undefined;
    return {
      shardId,
      shard: shard === undefined ? 'gone' : shard.isOpen ? 'open' : 'closed',
      owner,
      handingOffTo: lease?.checkpointOwner !== undefined ? lease.leaseOwner : undefined,
      liveness: owner === undefined ? 'unowned' : moved ? 'live' : 'not-renewed',
      checkpoint: lease ? formatCheckpoint(lease.checkpoint) : '-',
      lagMs: lags.get(shardId),
      parentShardIds: parents,
      childShardIds: lease?.childShardIds ?? [],
      lineage: !lease
        ? 'no-lease'
        : isFinished
          ? 'finished'
          : failure?.haltedAt !== undefined
            ? 'halted'
            : parentsDone
              ? 'ready'
              : 'waiting-for-parents',
      leaseCounter: lease?.leaseCounter,
      pendingDeletion: pendingDeletions.get(shardId),
      failureCount: failure?.failureCount ?? 0,
      failedAt: failure?.failedAt,
      lastFailure: failure?.lastFailure,
      haltedAt: failure?.haltedAt,
      retrieval: lease ? retrievalOf(lease) : undefined,
    };
  });
}

/** Renders rows as an aligned text table. */
export function formatStatusTable(rows: readonly ShardStatusRow[]): string {
  const header = [
    'SHARD',
    'STATE',
    'OWNER',
    'LEASE',
    'CHECKPOINT',
    'LAG',
    'PARENTS',
    'CHILDREN',
    'LINEAGE',
    'CLEANUP',
    'FAILURES',
    'RETRIEVAL',
  ];
  const lines = rows.map((r) => [
    r.shardId,
    r.shard,
    r.owner ? (r.handingOffTo ? `${r.owner} -> ${r.handingOffTo}` : r.owner) : '-',
    r.liveness,
    r.checkpoint,
    r.lagMs === undefined ? '-' : `${r.lagMs} ms`,
    r.parentShardIds.join(',') || '-',
    r.childShardIds.join(',') || '-',
    r.lineage,
    formatPendingDeletion(r.pendingDeletion),
    r.failureCount === 0 ? '-' : `${r.failureCount} at ${r.failedAt ?? '?'}`,
    r.retrieval ?? '-',
  ]);
  const halted = rows.filter((r) => r.haltedAt !== undefined);
  return formatTextTable(header, lines)
    .concat(
      halted.map(
        (r) =>
          `HALTED ${r.shardId} since ${r.haltedAt} at ${r.failedAt ?? '?'}: ${r.lastFailure ?? '(no error recorded)'} ` +
          `— fix the cause, or move past the record with: shardline skip --shard ${r.shardId} --next`,
      ),
    )
    .join('\n');
}

/** The CLEANUP cell: `-`, `delete (reason)`, or `wait <what> [shards] (reason)`. */
export function formatPendingDeletion(pending: PendingDeletionStatus | undefined): string {
  if (!pending) return '-';
  const reason = pending.reason === 'SHARD_GONE' ? 'gone' : 'completed';
  if (pending.waitingFor === 'ready') return `delete (${reason})`;
  const shards = pending.shardIds.length > 0 ? ` ${pending.shardIds.join(',')}` : '';
  return `wait ${pending.waitingFor}${shards} (${reason})`;
}

/** The summary line of pending lease deletions under the status table. */
export function formatPendingDeletionSummary(rows: readonly ShardStatusRow[]): string {
  const pending = rows.filter((r) => r.pendingDeletion !== undefined);
  const ready = pending.filter((r) => r.pendingDeletion?.waitingFor === 'ready');
  return pending.length === 0
    ? 'Pending lease deletions: none'
    : `Pending lease deletions: ${pending.length} (${ready.length} at the next cleanup round: ${ready.map((r) => r.shardId).join(', ') || '-'})`;
}
