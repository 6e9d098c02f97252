import { Loop } from '../internal/Loop.js';
import type { Logger } from '../internal/logger.js';
import type { HeldLeases } from './HeldLeases.js';
import type { Lease } from './Lease.js';
import type { LeaseHandoffs } from './LeaseHandoffs.js';
import type { LeaseLoopContext } from './LeaseLoopContext.js';
import { takeHintOf } from './LeaseStore.js';
import {
  isLeaseExpired,
  type LeaseObservations,
  type LeaseTakingPlan,
  observeLeases,
  planLeaseTaking,
} from './leaseTaking.js';
import { writeOrSkip } from './writeOrSkip.js';

/** How a worker takes leases (from the consumer's resolved options). */
export interface LeaseTakingSettings {
  readonly leaseTakeIntervalMs: number;
  readonly maxLeasesPerWorker: number;
  readonly maxLeasesToStealAtOnce: number;
  readonly stealCooldownMs: number;
}

/**
 * Warns when a round's plan (taking or assigning) found leases no live worker may hold under
 * `maxLeasesPerWorker`: those shards are not read until workers join or the cap is raised.
 */
export function warnOfUncoveredLeases(
  logger: Logger,
  plan: { readonly uncoveredLeaseCount: number; readonly liveWorkerCount: number },
  maxLeasesPerWorker: number,
): void {
  if (plan.uncoveredLeaseCount <= 0) return;
  logger.warn('maxLeasesPerWorker leaves shards without a worker', {
    uncoveredLeaseCount: plan.uncoveredLeaseCount,
    liveWorkerCount: plan.liveWorkerCount,
    maxLeasesPerWorker,
  });
}

/** Options of {@link LeaseTaker}. */
export interface LeaseTakerOptions extends LeaseLoopContext, LeaseTakingSettings {
  readonly held: HeldLeases;
  /** Steals go through it as cooperative hand-offs (when the store supports them). */
  readonly handoffs: Pick<LeaseHandoffs, 'request' | 'isPending' | 'hasPending' | 'forget'>;
  /** A take round failed as a whole. */
  readonly onRoundError: (error: unknown) => void;
  /** Given the whole table, which leases are work to take now (parents done, not finished). */
  readonly eligibility: (leases: readonly Lease[]) => (lease: Lease) => boolean;
  /** Called after every listing of the table (shard sync uses it). */
  readonly onLeasesListed?: (leases: readonly Lease[]) => void;
  /** Called with every take round's plan (metrics). */
  readonly onRoundPlanned?: (plan: LeaseTakingPlan) => void;
}

/**
 * Takes this worker's share of the leases (KCL `LeaseTaker`): each round lists the table, observes the
 * counters, asks the pure {@link planLeaseTaking} what to take and steal, and writes the takes. It also
 * notices a second live process using this worker id. Owns only timing and the round's state.
 */
export class LeaseTaker {
  readonly #options: LeaseTakerOptions;
  readonly #loop: Loop;
  #observations: LeaseObservations = new Map();
  /** Lease keys held by this worker at the previous take round (for duplicate worker id detection). */
  #heldAtPreviousRound = new Set<string>();
  /** Leases renewed under this worker's id by another live process. */
  #foreignLeaseKeys = new Set<string>();
  #lastListing: readonly Lease[] = [];
  #isTaking = true;

  constructor(options: LeaseTakerOptions) {
    this.#options = options;
    this.#loop = new Loop(options.leaseTakeIntervalMs, () => this.takeRound(), options.onRoundError);
  }

  /** The table as last listed. */
  get lastListing(): readonly Lease[] {
    return this.#lastListing;
  }

  /** What the take rounds saw of each lease's counter and owner. */
  get observations(): LeaseObservations {
    return this.#observations;
  }

  /** Starts taking (the first round runs at once). */
  start(): void {
    this.#loop.start(false);
  }

  /** Runs a take round soon (after a parent shard ended, for instance). */
  wake(): void {
    this.#loop.wake();
  }

  /** Stops taking new leases. */
  async stop(): Promise<void> {
    this.#isTaking = false;
    await this.#loop.stop(1_000);
  }

  /**
   * One take round: list the table, observe counters, take what the plan says. Steals are cooperative
   * hand-offs when the store supports them. While leases are moving, the next round comes after
   * `renewIntervalMs` instead of `leaseTakeIntervalMs`, so joining workers reach their share quickly
   * while a settled fleet scans no more often than the Java KCL.
   */
  async takeRound(): Promise<void> {
    const { store, clock, workerId, held, handoffs } = this.#options;
    const signal = this.#loop.signal;
    const leases = await store.listLeases(signal);
    this.#lastListing = leases;
    const nowMs = clock.nowMs();
    const previous = this.#observations;
    this.#observations = observeLeases(previous, leases, nowMs);
    this.#detectDuplicateWorkerId(leases, previous);
    this.#options.onLeasesListed?.(leases);
    if (!this.#isTaking) return;
    const heldLeaseKeys = new Set(held.heldLeaseKeys());
    const plan = planLeaseTaking({
      leases,
      observations: this.#observations,
      nowMs,
      workerId,
      heldLeaseKeys,
      failoverTimeMs: this.#options.failoverTimeMs,
      isEligible: this.#options.eligibility(leases),
      maxLeasesPerWorker: this.#options.maxLeasesPerWorker,
      maxLeasesToStealAtOnce: Number.POSITIVE_INFINITY,
      stealCooldownMs: this.#options.stealCooldownMs,
      foreignLeaseKeys: this.#unconfirmedOwnLeaseKeys(leases, nowMs),
    });
    this.#options.onRoundPlanned?.(plan);
    warnOfUncoveredLeases(this.#options.logger, plan, this.#options.maxLeasesPerWorker);
    // Steal half of what is missing per round (at least one, at most maxLeasesToStealAtOnce when
    // given): workers that join together and each plan from the same listing then do not overshoot.
    const stealLimit = Math.min(
      this.#options.maxLeasesToStealAtOnce,
      Math.max(1, Math.ceil(plan.steal.length / 2)),
    );
    for (const lease of plan.take) await this.take(lease, false, signal);
    for (const lease of plan.steal.slice(0, stealLimit)) await this.#steal(lease, signal);
    const isMoving =
      plan.take.length > 0 ||
      plan.steal.length > 0 ||
      plan.blockedByCooldownCount > 0 ||
      handoffs.hasPending ||
      leases.some((lease) => this.#observations.get(lease.leaseKey)?.ownerChangedAtMs === nowMs) ||
      leases.some((lease) => lease.checkpointOwner !== undefined);
    if (isMoving) this.#scheduleFastRound();
  }

  /** Takes a lease outright (conditional on its counter) and starts holding it. */
  async take(lease: Lease, stolen: boolean, signal: AbortSignal): Promise<void> {
    const { store, workerId, clock } = this.#options;
    const sentAtMs = clock.nowMs();
    const taken = await writeOrSkip(this.#options.logger, 'Taking a lease failed', lease.leaseKey, () =>
      store.takeLease(lease, workerId, signal),
    );
    if (!taken) return; // another worker was faster, or the counter moved: next round.
    this.#options.handoffs.forget(lease.leaseKey);
    this.#options.held.acquire({
      lease: taken,
      sentAtMs,
      takeHint: takeHintOf(lease),
      previousOwner: lease.leaseOwner,
      stolen,
    });
  }

  /** Asks the owner of a live lease to hand it over (or takes it outright without hand-off support). */
  async #steal(lease: Lease, signal: AbortSignal): Promise<void> {
    if (!this.#options.store.requestHandoff || lease.leaseOwner === undefined) {
      await this.take(lease, true, signal);
      return;
    }
    await this.#options.handoffs.request(
      lease,
      lease.leaseOwner,
      this.#observations.get(lease.leaseKey)?.counterSeenAtMs,
      signal,
    );
  }

  /**
   * Leases owned by this worker id that this process does not hold and may not take back yet: renewed
   * by a twin process, or not watched for two renew intervals (a live twin would have renewed by then).
   * A restart with a stable worker id so retakes its old leases after about two renew intervals.
   */
  #unconfirmedOwnLeaseKeys(leases: readonly Lease[], nowMs: number): Set<string> {
    const keys = new Set(this.#foreignLeaseKeys);
    const watchMs = Math.min(this.#options.failoverTimeMs, 2 * this.#options.renewIntervalMs);
    for (const lease of leases) {
      if (lease.leaseOwner !== this.#options.workerId || this.#options.held.has(lease.leaseKey)) continue;
      if (lease.checkpointOwner !== undefined) continue;
      const seenAtMs = this.#observations.get(lease.leaseKey)?.counterSeenAtMs ?? nowMs;
      if (nowMs - seenAtMs < watchMs) {
        keys.add(lease.leaseKey);
        this.#scheduleFastRound();
      }
    }
    return keys;
  }

  #scheduleFastRound(): void {
    if (this.#isTaking) this.#loop.wakeAfter(this.#options.renewIntervalMs);
  }

  /**
   * Two live processes with one worker id: a lease owned by this id, not held by this process (now nor
   * at the previous round), whose counter moved since the previous round, is renewed by someone else.
   */
  #detectDuplicateWorkerId(leases: readonly Lease[], previous: LeaseObservations): void {
    const { workerId, held, handoffs } = this.#options;
    const heldNow = new Set(held.keys());
    const foreign = new Set<string>();
    for (const lease of leases) {
      if (lease.leaseOwner !== workerId || lease.checkpointOwner !== undefined) continue;
      if (heldNow.has(lease.leaseKey) || this.#heldAtPreviousRound.has(lease.leaseKey)) continue;
      if (handoffs.isPending(lease.leaseKey)) continue;
      const seen = previous.get(lease.leaseKey);
      const wasForeign = this.#foreignLeaseKeys.has(lease.leaseKey);
      if (seen && seen.leaseOwner === workerId && seen.leaseCounter !== lease.leaseCounter) {
        foreign.add(lease.leaseKey);
      } else if (
        wasForeign &&
        !isLeaseExpired(
          this.#observations.get(lease.leaseKey),
          this.#options.clock.nowMs(),
          this.#options.failoverTimeMs,
        )
      ) {
        foreign.add(lease.leaseKey);
      }
    }
    const fresh = [...foreign].filter((key) => !this.#foreignLeaseKeys.has(key));
    this.#foreignLeaseKeys = foreign;
    this.#heldAtPreviousRound = heldNow;
    if (fresh.length > 0) {
      this.#options.logger.error(
        'Another live process uses this worker id: its leases are left alone. Give every process its own workerId.',
        { workerId, leaseKeys: fresh },
      );
      this.#options.onEvent({ type: 'DUPLICATE_WORKER_ID', workerId, leaseKeys: fresh });
    }
  }
}
