import { SentinelCheckpoint } from '../checkpoint/ExtendedSequenceNumber.js';
import type { Lease } from './Lease.js';

/**
 * What this worker has seen of one lease. Expiry is judged on the observer's own monotonic clock: a
 * lease expires when its counter has not changed for the failover time since this worker first saw
 * that counter value. No timestamps are stored; other hosts' clocks are never compared.
 */
export interface LeaseObservation {
  /** The counter value last seen. */
  readonly leaseCounter: number;
  /** When this worker first saw that counter value (monotonic ms). */
  readonly counterSeenAtMs: number;
  /** The owner last seen. */
  readonly leaseOwner: string | undefined;
  /** When the owner was seen to change (monotonic ms); `undefined` when never seen changing. */
  readonly ownerChangedAtMs: number | undefined;
}

/** Observations by lease key. */
export type LeaseObservations = ReadonlyMap<string, LeaseObservation>;

/**
 * Updates observations with a fresh listing. A counter seen for the first time starts its clock now,
 * so a worker that just started treats every owned lease as live for one failover time.
 */
export function observeLeases(
  previous: LeaseObservations,
  leases: readonly Lease[],
  nowMs: number,
): Map<string, LeaseObservation> {
  const next = new Map<string, LeaseObservation>();
  for (const lease of leases) {
    const seen = previous.get(lease.leaseKey);
    const counterChanged = seen === undefined || seen.leaseCounter !== lease.leaseCounter;
    const ownerChanged = seen !== undefined && seen.leaseOwner !== lease.leaseOwner;
    next.set(lease.leaseKey, {
      leaseCounter: lease.leaseCounter,
      counterSeenAtMs: counterChanged ? nowMs : seen.counterSeenAtMs,
      leaseOwner: lease.leaseOwner,
      ownerChangedAtMs: ownerChanged ? nowMs : seen?.ownerChangedAtMs,
    });
  }
  return next;
}

/** Whether a lease's counter has stood still for longer than `failoverTimeMs` on this worker's clock. */
export function isLeaseExpired(
  observation: LeaseObservation | undefined,
  nowMs: number,
  failoverTimeMs: number,
): boolean {
  return observation !== undefined && nowMs - observation.counterSeenAtMs > failoverTimeMs;
}

/** Whether a lease is finished: its shard was read to the end and checkpointed there. */
export function isLeaseFinished(lease: Lease): boolean {
  return lease.checkpoint.sequenceNumber === SentinelCheckpoint.ShardEnd;
}

/** Inputs of {@link planLeaseTaking}: plain data, no I/O. */
export interface LeaseTakingInput {
  /** Every lease of the table. */
  readonly leases: readonly Lease[];
  /** Observations including the same listing (see {@link observeLeases}). */
  readonly observations: LeaseObservations;
  /** Now, on the same monotonic clock as the observations. */
  readonly nowMs: number;
  /** This worker. */
  readonly workerId: string;
  /** Leases this worker is processing right now. */
  readonly heldLeaseKeys: ReadonlySet<string>;
  /** The failover time: a lease whose counter stood still longer is expired. */
  readonly failoverTimeMs: number;
  /** Whether a lease is work to spread (not finished, parents done). @defaultValue not finished */
  readonly isEligible?: (lease: Lease) => boolean;
  /** The most leases this worker may hold. @defaultValue Infinity */
  readonly maxLeasesPerWorker?: number;
  /** The most live leases to take from other workers in one round. @defaultValue 1 */
  readonly maxLeasesToStealAtOnce?: number;
  /** A lease whose owner changed less than this long ago is not stolen (no thrash). @defaultValue 0 */
  readonly stealCooldownMs?: number;
  /**
   * Leases owned by this worker's id that another live process may be renewing (two processes with
   * one worker id, or not yet watched long enough to tell): left alone entirely. @defaultValue none
   */
  readonly foreignLeaseKeys?: ReadonlySet<string>;
}

/** What to take, and the figures behind it. */
export interface LeaseTakingPlan {
  /** Unowned, expired, or left by this worker's earlier life: take them (preferred order). */
  readonly take: readonly Lease[];
  /** Live leases of over-loaded workers, to even the spread. */
  readonly steal: readonly Lease[];
  /** This worker's fair share: ceil(eligible leases / live workers), capped by `maxLeasesPerWorker`. */
  readonly targetLeaseCount: number;
  /** Workers that renewed an eligible lease within the failover time, this one included. */
  readonly liveWorkerCount: number;
  /** Eligible leases that no worker may take because `maxLeasesPerWorker` caps every live worker. */
  readonly uncoveredLeaseCount: number;
  /** Over-loaded workers whose leases were all within the steal cool-down (a later round may move them). */
  readonly blockedByCooldownCount: number;
  /** Leases this worker holds or is being handed (the load the plan started from). */
  readonly heldCount: number;
}

/**
 * Decides which leases to take so that leases spread evenly over live workers (the most and least
 * loaded differ by at most one once everyone has run a round). Expired and unowned leases are taken
 * first; a live lease is stolen only from a worker holding at least two more than this one, so moves
 * always narrow the spread and never oscillate. Pure: the same inputs give the same plan.
 */
export function planLeaseTaking(input: LeaseTakingInput): LeaseTakingPlan {
  const { nowMs, workerId, failoverTimeMs } = input;
  const isEligible = input.isEligible ?? ((lease: Lease) => !isLeaseFinished(lease));
  const maxLeases = input.maxLeasesPerWorker ?? Number.POSITIVE_INFINITY;
  const maxSteal = input.maxLeasesToStealAtOnce ?? 1;
  const cooldownMs = input.stealCooldownMs ?? 0;

  const available: { lease: Lease; rank: number; seenAtMs: number }[] = [];
  const liveByOwner = new Map<string, Lease[]>();
  let mine = 0;
  let eligibleCount = 0;
  for (const lease of input.leases) {
    if (!isEligible(lease)) continue;
    // Renewed by another live process under this worker's id: neither taken nor stolen nor counted.
    if (lease.leaseOwner === workerId && input.foreignLeaseKeys?.has(lease.leaseKey)) continue;
    eligibleCount += 1;
    const observation = input.observations.get(lease.leaseKey);
    const expired = isLeaseExpired(observation, nowMs, failoverTimeMs);
    const seenAtMs = observation?.counterSeenAtMs ?? nowMs;
    if (lease.leaseOwner === workerId && input.heldLeaseKeys.has(lease.leaseKey)) {
      mine += 1;
    } else if (lease.leaseOwner === workerId && lease.checkpointOwner !== undefined && !expired) {
      // Being handed to this worker (cooperative hand-off in progress): already counts as ours.
      mine += 1;
    } else if (lease.checkpointOwner !== undefined) {
      // KCL 3.x hand-off in progress: the checkpoint owner still processes. Only expiry frees it.
      if (expired) available.push({ lease, rank: 1, seenAtMs });
      else addTo(liveByOwner, lease.leaseOwner ?? lease.checkpointOwner, lease);
    } else if (lease.leaseOwner === undefined) {
      available.push({ lease, rank: 0, seenAtMs });
    } else if (lease.leaseOwner === workerId) {
      // Ours from an earlier life of this worker id (static membership): nobody else processes it.
      available.push({ lease, rank: 0, seenAtMs });
    } else if (expired) {
      available.push({ lease, rank: 1, seenAtMs });
    } else {
      addTo(liveByOwner, lease.leaseOwner, lease);
    }
  }

  const liveWorkerCount = liveByOwner.size + (liveByOwner.has(workerId) ? 0 : 1);
  const fairShare = eligibleCount === 0 ? 0 : Math.ceil(eligibleCount / liveWorkerCount);
  const targetLeaseCount = Math.min(fairShare, maxLeases);
  const uncoveredLeaseCount = Math.max(
    0,
    eligibleCount - liveWorkerCount * Math.min(maxLeases, eligibleCount),
  );

  available.sort(
    (a, b) => a.rank - b.rank || a.seenAtMs - b.seenAtMs || (a.lease.leaseKey < b.lease.leaseKey ? -1 : 1),
  );
  const take = available.slice(0, Math.max(0, targetLeaseCount - mine)).map((a) => a.lease);
  let load = mine + take.length;

  const steal: Lease[] = [];
  let blockedByCooldownCount = 0;
  const loads = new Map([...liveByOwner].map(([owner, leases]) => [owner, leases.length]));
  // Per victim, its leases out of the cool-down in this taker's order, ranked once; `stolen` counts how
  // many of them this plan already took.
  const candidatesOf = new Map<string, { readonly leases: readonly Lease[]; stolen: number }>();
  while (steal.length < maxSteal && load < targetLeaseCount) {
    let victim: string | undefined;
    for (const [owner, count] of loads) {
      const best = victim === undefined ? -1 : loads.get(victim)!;
      if (count > best || (count === best && owner < victim!)) victim = owner;
    }
    if (victim === undefined || loads.get(victim)! - load < 2) break;
    let candidates = candidatesOf.get(victim);
    if (!candidates) {
      candidates = {
        leases: stealOrder(workerId, liveByOwner.get(victim)!, input.observations, nowMs, cooldownMs),
        stolen: 0,
      };
      candidatesOf.set(victim, candidates);
    }
    const chosen = candidates.leases[candidates.stolen];
    if (!chosen) {
      blockedByCooldownCount += 1;
      loads.delete(victim);
      continue;
    }
    candidates.stolen += 1;
    steal.push(chosen);
    loads.set(victim, loads.get(victim)! - 1);
    load += 1;
  }
  return {
    take,
    steal,
    targetLeaseCount,
    liveWorkerCount,
    uncoveredLeaseCount,
    blockedByCooldownCount,
    heldCount: mine,
  };
}

/**
 * A victim's leases that may be stolen (owner not changed within the cool-down), in this taker's order:
 * each taker prefers different leases, so workers joining at once rarely race for the same one. The
 * rank of each lease is computed once (a sort comparator would hash both ids at every comparison).
 */
function stealOrder(
  workerId: string,
  leases: readonly Lease[],
  observations: LeaseObservations,
  nowMs: number,
  cooldownMs: number,
): Lease[] {
  const ranked: { lease: Lease; rank: number }[] = [];
  for (const lease of leases) {
    const changedAt = observations.get(lease.leaseKey)?.ownerChangedAtMs;
    if (changedAt === undefined || nowMs - changedAt >= cooldownMs) {
      ranked.push({ lease, rank: stealRank(workerId, lease.leaseKey) });
    }
  }
  ranked.sort((a, b) => a.rank - b.rank || (a.lease.leaseKey < b.lease.leaseKey ? -1 : 1));
  return ranked.map((entry) => entry.lease);
}

function addTo(map: Map<string, Lease[]>, key: string, lease: Lease): void {
  const list = map.get(key);
  if (list) list.push(lease);
  else map.set(key, [lease]);
}

/** A stable pseudo-random rank of a lease for one taker (FNV-1a of both ids). */
function stealRank(workerId: string, leaseKey: string): number {
  let hash = 0x811c9dc5;
  const text = `${workerId}\u0000${leaseKey}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
