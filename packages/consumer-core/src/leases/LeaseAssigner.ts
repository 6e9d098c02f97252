import { forEachConcurrently } from '../internal/forEachConcurrently.js';
import { Loop } from '../internal/Loop.js';
import type { Lease } from './Lease.js';
import type { LeaseLoopContext } from './LeaseLoopContext.js';
import type { LeaseStore } from './LeaseStore.js';
import { type LeaseTakingSettings, warnOfUncoveredLeases } from './LeaseTaker.js';
import {
  type LeaseAssignment,
  type LeaseAssignmentPlan,
  liveWorkerIds,
  planLeaseAssignment,
  workerIdOfItem,
  workerItemKey,
} from './leaseAssignment.js';
import { isLeaseExpired, type LeaseObservations, observeLeases } from './leaseTaking.js';

/** Assignment writes in flight at once (a cold start assigns every lease in one round). */
const ASSIGNMENT_CONCURRENCY = 16;

/** A heartbeat item not renewed for this many failover times is deleted by the leader. */
const STALE_WORKER_ITEM_FAILOVER_TIMES = 10;

/** Options of {@link LeaseAssigner}. */
export interface LeaseAssignerOptions extends LeaseLoopContext, LeaseTakingSettings {
  /** The coordinator table (heartbeat items). */
  readonly coordinatorStore: LeaseStore;
  /** Given the whole table, which leases are work to spread (parents done, not finished, not halted). */
  readonly eligibility: (leases: readonly Lease[]) => (lease: Lease) => boolean;
  /** An assignment round failed as a whole. */
  readonly onRoundError: (error: unknown) => void;
  /** Called after every listing of the lease table (lease cleanup uses it). */
  readonly onLeasesListed?: (leases: readonly Lease[]) => void;
  /** Called with every round's plan (metrics, tests). */
  readonly onRoundPlanned?: (plan: LeaseAssignmentPlan) => void;
  /** The workers that received leases in a round (the leader's own discovery looks at once). */
  readonly onAssigned?: (receivers: ReadonlySet<string>) => void;
}

/**
 * The leader's loop (KCL 3.x `LeaseAssignmentManager`): each round lists the lease table and the
 * heartbeat items, observes the counters, asks the pure {@link planLeaseAssignment} what to write, and
 * writes it on behalf of the other workers: an outright take for the target (`takeLease`, conditional
 * on the counter) of an unowned or expired lease, a cooperative hand-off (`requestHandoff`) for a
 * live one. Each worker that received leases gets a take hint on its heartbeat item, so its next
 * heartbeat makes it look them up at once. Every write is conditional on the counter the leader saw:
 * two leaders at once (a partition) cost wasted writes, never a lease held twice.
 */
export class LeaseAssigner {
  readonly #options: LeaseAssignerOptions;
  readonly #loop: Loop;
  #observations: LeaseObservations = new Map();
  #workerObservations: LeaseObservations = new Map();
  #round = 0;
  #lastWorkers: readonly string[] = [];
  #isRunning = true;
  #startedAtMs = 0;
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(options: LeaseAssignerOptions) {
    this.#options = options;
    this.#loop = new Loop(options.leaseTakeIntervalMs, () => this.assignRound(), options.onRoundError);
  }

  /** The workers with a live heartbeat at the last round. */
  get lastWorkers(): readonly string[] {
    return this.#lastWorkers;
  }

  /**
   * Starts assigning (the first round runs at once). A new leader observes every lease afresh, so no
   * lease can look expired to it before one failover time: a round runs then too.
   */
  start(): void {
    this.#startedAtMs = this.#options.clock.nowMs();
    this.#loop.start(false);
    this.#expiryTimer = setTimeout(() => this.#loop.wake(), this.#options.failoverTimeMs + 100);
    this.#expiryTimer.unref?.();
  }

  /** Runs a round soon. */
  wake(): void {
    this.#loop.wake();
  }

  /** Stops assigning (a round stuck on the network is abandoned after a second). */
  async stop(): Promise<void> {
    this.#isRunning = false;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    await this.#loop.stop(1_000);
  }

  /** One round: list, observe, plan, write, hint. */
  async assignRound(): Promise<void> {
    const { store, coordinatorStore, clock, failoverTimeMs } = this.#options;
    const signal = this.#loop.signal;
    const leases = await store.listLeases(signal);
    const items = await coordinatorStore.listLeases(signal);
    const nowMs = clock.nowMs();
    this.#observations = observeLeases(this.#observations, leases, nowMs);
    this.#workerObservations = observeLeases(this.#workerObservations, items, nowMs);
    this.#options.onLeasesListed?.(leases);
    if (!this.#isRunning) return;
    const workers = liveWorkerIds(items, this.#workerObservations, nowMs, failoverTimeMs);
    const known = new Set(this.#lastWorkers);
    const isFleetGrowing = workers.some((worker) => !known.has(worker));
    this.#lastWorkers = workers;
    // A new leader of a fleet that is still starting (heartbeats still appearing) waits for the fleet
    // to stop growing, at most two failover times: assigning to the first few workers would have to be
    // undone by hand-offs once the others appear.
    if (isFleetGrowing && nowMs - this.#startedAtMs < 2 * failoverTimeMs) {
      this.#scheduleFastRound();
      return;
    }
    const plan = planLeaseAssignment({
      leases,
      observations: this.#observations,
      nowMs,
      failoverTimeMs,
      workers,
      isEligible: this.#options.eligibility(leases),
      maxLeasesPerWorker: this.#options.maxLeasesPerWorker,
      stealCooldownMs: this.#options.stealCooldownMs,
      maxMovesPerWorker: this.#options.maxLeasesToStealAtOnce,
    });
    this.#options.onRoundPlanned?.(plan);
    warnOfUncoveredLeases(this.#options.logger, plan, this.#options.maxLeasesPerWorker);
    const receivers = new Set<string>();
    await forEachConcurrently(plan.assignments, ASSIGNMENT_CONCURRENCY, async (assignment) => {
      if (await this.#write(assignment, signal)) receivers.add(assignment.to);
    });
    this.#round += 1;
    if (receivers.size > 0) this.#options.onAssigned?.(receivers);
    const hint = `${this.#options.workerId} assigned ${this.#round}`;
    await Promise.all(
      [...receivers].map((worker) =>
        coordinatorStore
          .updateLeaseMeta(workerItemKey(worker), { takeHint: hint }, signal)
          .catch(() => false),
      ),
    );
    await this.#deleteStaleWorkerItems(items, nowMs, signal);
    const isMoving =
      plan.assignments.length > 0 ||
      plan.blockedByCooldownCount > 0 ||
      leases.some((lease) => lease.checkpointOwner !== undefined) ||
      leases.some((lease) => this.#observations.get(lease.leaseKey)?.ownerChangedAtMs === nowMs);
    if (isMoving) this.#scheduleFastRound();
  }

  /** One assignment: an outright take for the target, or a hand-off request for a live lease. */
  async #write({ lease, to, move }: LeaseAssignment, signal: AbortSignal): Promise<boolean> {
    const { store } = this.#options;
    try {
      if (move && store.requestHandoff) return (await store.requestHandoff(lease, to, signal)) !== undefined;
      return (await store.takeLease(lease, to, signal)) !== undefined;
    } catch (error) {
      // The next round sees the table again and plans anew: nothing is lost by skipping one write.
      this.#options.logger.warn('Assigning a lease failed', { leaseKey: lease.leaseKey, to, error });
      return false;
    }
  }

  /** Deletes heartbeat items of workers gone for a long time (conditional on the counter seen). */
  async #deleteStaleWorkerItems(items: readonly Lease[], nowMs: number, signal: AbortSignal): Promise<void> {
    const { coordinatorStore, failoverTimeMs } = this.#options;
    if (!coordinatorStore.deleteLease) return;
    const staleMs = STALE_WORKER_ITEM_FAILOVER_TIMES * failoverTimeMs;
    for (const item of items) {
      if (workerIdOfItem(item.leaseKey) === undefined) continue;
      if (!isLeaseExpired(this.#workerObservations.get(item.leaseKey), nowMs, staleMs)) continue;
      await coordinatorStore.deleteLease(item, signal).catch(() => false);
    }
  }

  #scheduleFastRound(): void {
    if (this.#isRunning) this.#loop.wakeAfter(this.#options.renewIntervalMs);
  }
}
