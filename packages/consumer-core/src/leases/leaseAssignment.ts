import type { Lease } from './Lease.js';
import { isLeaseExpired, isLeaseFinished, type LeaseObservations } from './leaseTaking.js';

/** Inputs of {@link planLeaseAssignment}: plain data, no I/O. */
export interface LeaseAssignmentInput {
  /** Every lease of the table. */
  readonly leases: readonly Lease[];
  /** The leader's observations including the same listing (see `observeLeases`). */
  readonly observations: LeaseObservations;
  /** Now, on the same monotonic clock as the observations. */
  readonly nowMs: number;
  /** The failover time: a lease whose counter stood still longer is expired. */
  readonly failoverTimeMs: number;
  /** The workers leases may be assigned to: those whose heartbeat is live (see {@link liveWorkerIds}). */
  readonly workers: readonly string[];
  /** Whether a lease is work to spread (not finished, parents done). @defaultValue not finished */
  readonly isEligible?: (lease: Lease) => boolean;
  /** The most leases one worker may hold. @defaultValue Infinity */
  readonly maxLeasesPerWorker?: number;
  /** A lease whose owner changed less than this long ago is not moved (no thrash). @defaultValue 0 */
  readonly stealCooldownMs?: number;
  /** The most live leases moved to one worker in one round. @defaultValue Infinity */
  readonly maxMovesPerWorker?: number;
}

/** One write of an assignment round. */
export interface LeaseAssignment {
  /** The lease as listed (the write is conditional on its counter). */
  readonly lease: Lease;
  /** The worker it goes to. */
  readonly to: string;
  /**
   * Whether the lease is live with another worker: it moves by cooperative hand-off (the owner finishes,
   * checkpoints and lets go); otherwise it is unowned or expired and assigned outright.
   */
  readonly move: boolean;
}

/** What an assignment round writes, and the figures behind it. */
export interface LeaseAssignmentPlan {
  /** Assignments of unowned and expired leases first, then the moves that even the spread. */
  readonly assignments: readonly LeaseAssignment[];
  /** Workers leases were spread over (live heartbeat, and not only expired leases). */
  readonly liveWorkerCount: number;
  /** The fair share: ceil(leases to spread / live workers), capped by `maxLeasesPerWorker`. */
  readonly targetLeaseCount: number;
  /** Eligible leases that no worker may take because `maxLeasesPerWorker` caps every live worker. */
  readonly uncoveredLeaseCount: number;
  /** Moves left out because every lease of an over-loaded worker was within the cool-down. */
  readonly blockedByCooldownCount: number;
  /** Leases per live worker once the plan is written. */
  readonly loads: ReadonlyMap<string, number>;
}

/**
 * The leader's decision (the fleet-wide counterpart of `planLeaseTaking`): assigns unowned and expired
 * leases to the least loaded live workers, then moves live leases from the most to the least loaded
 * worker until they differ by at most one. Leases live with a worker that has no heartbeat (a worker
 * of the other assignment mode, or a Java KCL 2.x worker on the same table) are left alone and not
 * counted. Pure: the same inputs give the same plan.
 */
export function planLeaseAssignment(input: LeaseAssignmentInput): LeaseAssignmentPlan {
  const { nowMs, failoverTimeMs } = input;
  const isEligible = input.isEligible ?? ((lease: Lease) => !isLeaseFinished(lease));
  const maxLeases = input.maxLeasesPerWorker ?? Number.POSITIVE_INFINITY;
  const cooldownMs = input.stealCooldownMs ?? 0;
  const maxMoves = input.maxMovesPerWorker ?? Number.POSITIVE_INFINITY;

  const heartbeats = new Set(input.workers);
  const available: { lease: Lease; rank: number; seenAtMs: number }[] = [];
  const held = new Map<string, { movable: Lease[]; count: number; expired: number }>();
  const holdingOf = (worker: string) => {
    let entry = held.get(worker);
    if (!entry) {
      entry = { movable: [], count: 0, expired: 0 };
      held.set(worker, entry);
    }
    return entry;
  };
  for (const lease of input.leases) {
    if (!isEligible(lease)) continue;
    const observation = input.observations.get(lease.leaseKey);
    const expired = isLeaseExpired(observation, nowMs, failoverTimeMs);
    const seenAtMs = observation?.counterSeenAtMs ?? nowMs;
    const owner = lease.leaseOwner;
    if (expired) {
      available.push({ lease, rank: 1, seenAtMs });
      if (owner !== undefined && heartbeats.has(owner)) holdingOf(owner).expired += 1;
    } else if (owner === undefined) {
      available.push({ lease, rank: 0, seenAtMs });
    } else if (heartbeats.has(owner)) {
      const entry = holdingOf(owner);
      entry.count += 1;
      // A lease being handed over counts for its next owner and does not move again meanwhile.
      const changedAtMs = observation?.ownerChangedAtMs;
      const cooling = changedAtMs !== undefined && nowMs - changedAtMs < cooldownMs;
      if (lease.checkpointOwner === undefined && !cooling) entry.movable.push(lease);
    }
    // Otherwise live with a worker this leader does not coordinate: left alone.
  }

  // A heartbeat whose every lease expired belongs to a process that stopped renewing: not a target.
  const workers = [...heartbeats]
    .filter((worker) => {
      const entry = held.get(worker);
      return !entry || entry.count > 0 || entry.expired === 0;
    })
    .sort();
  const loads = new Map(workers.map((worker) => [worker, held.get(worker)?.count ?? 0]));
  const counted = available.length + [...loads.values()].reduce((sum, load) => sum + load, 0);
  const fairShare = workers.length === 0 || counted === 0 ? 0 : Math.ceil(counted / workers.length);
  const targetLeaseCount = Math.min(fairShare, maxLeases);

  available.sort(
    (a, b) => a.rank - b.rank || a.seenAtMs - b.seenAtMs || (a.lease.leaseKey < b.lease.leaseKey ? -1 : 1),
  );
  const assignments: LeaseAssignment[] = [];
  const queue = new LoadQueue(loads);
  let uncoveredLeaseCount = 0;
  for (const { lease } of available) {
    const worker = queue.leastLoaded();
    if (worker === undefined || loads.get(worker)! >= targetLeaseCount) {
      uncoveredLeaseCount += 1;
      continue;
    }
    assignments.push({ lease, to: worker, move: false });
    queue.add(worker, 1);
  }

  // Even the spread: one lease at a time from the most to the least loaded worker.
  let blockedByCooldownCount = 0;
  const movedTo = new Map<string, number>();
  const blocked = new Set<string>();
  for (;;) {
    let most: string | undefined;
    let least: string | undefined;
    for (const [worker, load] of loads) {
      if (!blocked.has(worker) && (most === undefined || load > loads.get(most)!)) most = worker;
      if ((movedTo.get(worker) ?? 0) < maxMoves && (least === undefined || load < loads.get(least)!)) {
        least = worker;
      }
    }
    if (most === undefined || least === undefined) break;
    if (loads.get(most)! - loads.get(least)! < 2 || loads.get(least)! >= targetLeaseCount) break;
    const lease = held.get(most)?.movable.pop();
    if (!lease) {
      blocked.add(most);
      blockedByCooldownCount += 1;
      continue;
    }
    assignments.push({ lease, to: least, move: true });
    loads.set(most, loads.get(most)! - 1);
    loads.set(least, loads.get(least)! + 1);
    movedTo.set(least, (movedTo.get(least) ?? 0) + 1);
  }
  return {
    assignments,
    liveWorkerCount: workers.length,
    targetLeaseCount,
    uncoveredLeaseCount,
    blockedByCooldownCount,
    loads,
  };
}

/**
 * The workers whose heartbeat item (`worker:<id>` in the coordinator table, owned by that id) has a
 * live counter in the leader's observations.
 */
export function liveWorkerIds(
  items: readonly Lease[],
  observations: LeaseObservations,
  nowMs: number,
  failoverTimeMs: number,
): string[] {
  const workers: string[] = [];
  for (const item of items) {
    const workerId = workerIdOfItem(item.leaseKey);
    if (workerId === undefined || item.leaseOwner !== workerId) continue;
    if (isLeaseExpired(observations.get(item.leaseKey), nowMs, failoverTimeMs)) continue;
    workers.push(workerId);
  }
  return workers;
}

/** The key of the leader item in the coordinator table. */
export const LEADER_ITEM_KEY = 'leader';

/** The key of a worker's heartbeat item in the coordinator table. */
export function workerItemKey(workerId: string): string {
  return `worker:${workerId}`;
}

/** The worker id of a heartbeat item key, or `undefined` for other items. */
export function workerIdOfItem(itemKey: string): string | undefined {
  return itemKey.startsWith('worker:') ? itemKey.slice('worker:'.length) : undefined;
}

/** Workers by load, least loaded first (ties by id): a binary heap, so 10,000 assignments stay cheap. */
class LoadQueue {
  readonly #loads: Map<string, number>;
  readonly #heap: string[];

  constructor(loads: Map<string, number>) {
    this.#loads = loads;
    this.#heap = [...loads.keys()];
    for (let i = Math.floor(this.#heap.length / 2) - 1; i >= 0; i--) this.#down(i);
  }

  leastLoaded(): string | undefined {
    return this.#heap[0];
  }

  /** Adds to the least loaded worker's load (the one {@link leastLoaded} returned). */
  add(worker: string, amount: number): void {
    this.#loads.set(worker, this.#loads.get(worker)! + amount);
    if (this.#heap[0] === worker) this.#down(0);
  }

  #less(a: string, b: string): boolean {
    const la = this.#loads.get(a)!;
    const lb = this.#loads.get(b)!;
    return la < lb || (la === lb && a < b);
  }

  #down(index: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && this.#less(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.#less(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
      index = smallest;
    }
  }
}
