import { ShardlineError } from '../errors.js';
import { asError, type ConsumerEventListener } from '../events.js';
import type { Clock } from '../internal/clock.js';
import { Loop } from '../internal/Loop.js';
import type { Logger } from '../internal/logger.js';
import { Mutex } from '../internal/Mutex.js';
import { isRetriableError, retry } from '../internal/retry.js';
import { withTimeout } from '../internal/withTimeout.js';
import type { Lease } from './Lease.js';
import {
  type CheckpointUpdate,
  type LeaseStore,
  type PrepareCheckpointUpdate,
  takeHintOf,
} from './LeaseStore.js';
import {
  isLeaseExpired,
  type LeaseObservations,
  type LeaseTakingPlan,
  observeLeases,
  planLeaseTaking,
} from './leaseTaking.js';

/** Options of {@link LeaseCoordinator}. */
export interface LeaseCoordinatorOptions {
  readonly store: LeaseStore;
  readonly workerId: string;
  readonly failoverTimeMs: number;
  readonly renewIntervalMs: number;
  readonly leaseTakeIntervalMs: number;
  readonly maxLeasesPerWorker: number;
  readonly maxLeasesToStealAtOnce: number;
  readonly stealCooldownMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onEvent: ConsumerEventListener;
  /** Given the whole table, which leases are work to take now (parents done, not finished). */
  readonly eligibility: (leases: readonly Lease[]) => (lease: Lease) => boolean;
  /** A lease was taken: start processing it. */
  readonly onLeaseAcquired: (lease: Lease) => void;
  /** A lease was lost (taken by another worker or expired locally): stop delivering it now. */
  readonly onLeaseLost: (leaseKey: string) => void;
  /**
   * Another worker asked for this lease (cooperative hand-off): stop fetching, let the delivered batches
   * be checkpointed, then call {@link LeaseCoordinator.release} (which completes the hand-off).
   * Without it, a hand-off request is treated as a lost lease.
   */
  readonly onHandoffRequested?: (leaseKey: string, nextOwner: string) => void;
  /** Called after every listing of the table (shard sync uses it). */
  readonly onLeasesListed?: (leases: readonly Lease[]) => void;
  /** Called with every take round's plan (metrics). */
  readonly onRoundPlanned?: (plan: LeaseTakingPlan) => void;
}

/** Signals a retry after adopting the counter of this worker's own write that had landed. */
class CounterAdoptedError extends ShardlineError {
  constructor() {
    super('The previous write had landed; retrying with its counter.', { retriable: true });
  }
}

/** Outcome of {@link LeaseCoordinator.checkpoint}. */
export type CheckpointWriteOutcome = 'WRITTEN' | 'LEASE_LOST';

interface HeldLease {
  lease: Lease;
  readonly mutex: Mutex;
  /** When the last successful counter-bumping write (take, renew, checkpoint) was sent. */
  lastWriteSentAtMs: number;
  isLost: boolean;
  /** A counter-bumping write failed without an answer (timeout, network): it may have landed. */
  hasUncertainWrite: boolean;
  /** Another worker asked for it: `lease.checkpointOwner` is this worker, `lease.leaseOwner` the next. */
  isHandingOff: boolean;
  /** The take hint last seen on it (a change means a peer stopped: run a take round). */
  takeHint: string | undefined;
}

/** A lease being handed to this worker: polled until the old owner completes the hand-off. */
interface PendingHandoff {
  lease: Lease;
  readonly previousOwner: string;
  /** When this worker first saw the lease's current counter (the hand-off expires like any lease). */
  counterSeenAtMs: number;
}

/**
 * Holds this worker's leases: takes them (fair share, see `planLeaseTaking`), renews them, writes
 * checkpoints fenced by the lease counter, and releases them. Owns only timing and state; every
 * decision is a pure function and every store call goes through the {@link LeaseStore} port.
 *
 * A lease counts as held only while its last successful write was sent less than the failover time
 * (minus a safety margin) ago: another worker cannot take it earlier than one failover time after it
 * first saw that counter value, which is after the write was sent. So a worker cut off from the table
 * stops delivering before anyone else may start.
 */
export class LeaseCoordinator {
  readonly #options: LeaseCoordinatorOptions;
  readonly #held = new Map<string, HeldLease>();
  readonly #renewLoop: Loop;
  readonly #takeLoop: Loop;
  readonly #handoffLoop: Loop;
  readonly #pending = new Map<string, PendingHandoff>();
  #observations: LeaseObservations = new Map();
  /** Lease keys held by this worker at the previous take round (for duplicate worker id detection). */
  #heldAtPreviousRound = new Set<string>();
  /** Leases renewed under this worker's id by another live process. */
  #foreignLeaseKeys = new Set<string>();
  #fastRoundTimer: NodeJS.Timeout | undefined;
  #lastListing: readonly Lease[] = [];
  #isTaking = true;
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(options: LeaseCoordinatorOptions) {
    this.#options = options;
    const onError = (operation: string) => (error: unknown) => {
      options.logger.warn(`Lease ${operation} round failed`, { error });
      options.onEvent({ type: 'ERROR', shardId: undefined, error: asError(error) });
    };
    this.#renewLoop = new Loop(options.renewIntervalMs, () => this.renewAll(), onError('renewal'));
    this.#takeLoop = new Loop(options.leaseTakeIntervalMs, () => this.takeRound(), onError('taking'));
    this.#handoffLoop = new Loop(
      this.handoffPollIntervalMs,
      () => this.#pollHandoffs(),
      onError('hand-off polling'),
    );
  }

  /** How often a lease being handed to this worker is read until the old owner lets go. */
  get handoffPollIntervalMs(): number {
    return Math.max(50, Math.min(250, Math.floor(this.#options.renewIntervalMs / 4)));
  }

  /**
   * Tells each live peer to run a take round now (a stopping worker, after releasing its leases): writes a
   * take hint on one lease of each, which the peer's next renewal reads. Best effort.
   */
  async hintPeers(): Promise<void> {
    const { store, workerId, clock, failoverTimeMs } = this.#options;
    const nowMs = clock.nowMs();
    const byPeer = new Map<string, string>();
    for (const lease of this.#lastListing) {
      const owner = lease.leaseOwner;
      if (!owner || owner === workerId || lease.checkpointOwner !== undefined || byPeer.has(owner)) continue;
      if (isLeaseExpired(this.#observations.get(lease.leaseKey), nowMs, failoverTimeMs)) continue;
      byPeer.set(owner, lease.leaseKey);
    }
    const hint = `${workerId} stopped ${Date.now()}`;
    await Promise.all(
      [...byPeer.values()].map((leaseKey) =>
        store.updateLeaseMeta(leaseKey, { takeHint: hint }).catch((error: unknown) => {
          this.#options.logger.debug('Could not leave a take hint', { leaseKey, error });
        }),
      ),
    );
  }

  /**
   * Waits (at most `timeoutMs`) for the hand-offs to this worker still running: a stopping worker then
   * releases what it received instead of leaving it to expire.
   */
  async settleHandoffs(timeoutMs: number): Promise<void> {
    const deadline = this.#options.clock.nowMs() + timeoutMs;
    while (this.#pending.size > 0 && this.#options.clock.nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Leases being handed to this worker right now (their old owner is finishing). */
  pendingHandoffKeys(): string[] {
    return [...this.#pending.keys()];
  }

  /** How long before the failover time a held lease is treated as possibly lost. */
  get safetyMarginMs(): number {
    return Math.max(this.#options.failoverTimeMs / 10, 50);
  }

  /** Starts renewing and taking (the first take round runs at once). */
  start(): void {
    this.#renewLoop.start(true);
    this.#takeLoop.start(false);
    this.#handoffLoop.start(true);
    // A renewal stuck on a request that never returns must not keep a lease "held": check expiry on
    // its own timer as well.
    this.#expiryTimer ??= setInterval(
      () => {
        for (const key of [...this.#held.keys()]) this.isHeld(key);
      },
      Math.max(25, Math.floor(this.safetyMarginMs / 2)),
    );
    this.#expiryTimer.unref?.();
  }

  /** Runs a take round soon (after a parent shard ended, for instance). */
  requestTakeRound(): void {
    this.#takeLoop.wake();
  }

  /** Stops taking new leases; renewals go on. */
  async stopTaking(): Promise<void> {
    this.#isTaking = false;
    if (this.#fastRoundTimer) clearTimeout(this.#fastRoundTimer);
    await this.#takeLoop.stop(1_000);
  }

  /** Stops every loop. Held leases are not released (see {@link release}). */
  async stop(): Promise<void> {
    this.#isTaking = false;
    if (this.#expiryTimer) clearInterval(this.#expiryTimer);
    if (this.#fastRoundTimer) clearTimeout(this.#fastRoundTimer);
    this.#expiryTimer = undefined;
    // Leases were released before this step; a renewal stuck on the network is abandoned, not awaited.
    await Promise.all([
      this.#takeLoop.stop(1_000),
      this.#renewLoop.stop(1_000),
      this.#handoffLoop.stop(1_000),
    ]);
  }

  /** Keys of the leases this worker holds (and has not lost). */
  heldLeaseKeys(): string[] {
    return [...this.#held.keys()].filter((key) => this.isHeld(key));
  }

  /** The lease as this worker last wrote it, while held. */
  heldLease(leaseKey: string): Lease | undefined {
    return this.isHeld(leaseKey) ? this.#held.get(leaseKey)?.lease : undefined;
  }

  /** Whether this worker may still act on the lease (held, not lost, renewed recently enough). */
  isHeld(leaseKey: string): boolean {
    const held = this.#held.get(leaseKey);
    if (!held || held.isLost) return false;
    if (
      this.#options.clock.nowMs() - held.lastWriteSentAtMs >
      this.#options.failoverTimeMs - this.safetyMarginMs
    ) {
      this.#markLost(leaseKey, held, 'EXPIRED_LOCALLY');
      return false;
    }
    return true;
  }

  /** One renewal round over every held lease. */
  async renewAll(): Promise<void> {
    await Promise.all([...this.#held.keys()].map((key) => this.#renew(key)));
  }

  /**
   * One take round: list the table, observe counters, take what the plan says. Steals are cooperative
   * hand-offs when the store supports them. While leases are moving, the next round comes after
   * `renewIntervalMs` instead of `leaseTakeIntervalMs`, so joining workers reach their share quickly
   * while a settled fleet scans no more often than the Java KCL.
   */
  async takeRound(): Promise<void> {
    const { store, clock, workerId } = this.#options;
    const signal = this.#takeLoop.signal;
    const leases = await store.listLeases(signal);
    this.#lastListing = leases;
    const nowMs = clock.nowMs();
    const previous = this.#observations;
    this.#observations = observeLeases(previous, leases, nowMs);
    this.#detectDuplicateWorkerId(leases, previous);
    this.#options.onLeasesListed?.(leases);
    if (!this.#isTaking) return;
    const heldLeaseKeys = new Set(this.heldLeaseKeys());
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
    if (plan.uncoveredLeaseCount > 0) {
      this.#options.logger.warn('maxLeasesPerWorker leaves shards without a worker', {
        uncoveredLeaseCount: plan.uncoveredLeaseCount,
        liveWorkerCount: plan.liveWorkerCount,
        maxLeasesPerWorker: this.#options.maxLeasesPerWorker,
      });
    }
    // Steal half of what is missing per round (at least one, at most maxLeasesToStealAtOnce when
    // given): workers that join together and each plan from the same listing then do not overshoot.
    const stealLimit = Math.min(
      this.#options.maxLeasesToStealAtOnce,
      Math.max(1, Math.ceil(plan.steal.length / 2)),
    );
    for (const lease of plan.take) await this.#take(lease, false, signal);
    for (const lease of plan.steal.slice(0, stealLimit)) await this.#steal(lease, signal);
    const isMoving =
      plan.take.length > 0 ||
      plan.steal.length > 0 ||
      plan.blockedByCooldownCount > 0 ||
      this.#pending.size > 0 ||
      leases.some((lease) => this.#observations.get(lease.leaseKey)?.ownerChangedAtMs === nowMs) ||
      leases.some((lease) => lease.checkpointOwner !== undefined);
    if (isMoving) this.#scheduleFastRound();
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
      if (lease.leaseOwner !== this.#options.workerId || this.#held.has(lease.leaseKey)) continue;
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
    if (this.#fastRoundTimer || !this.#isTaking) return;
    this.#fastRoundTimer = setTimeout(() => {
      this.#fastRoundTimer = undefined;
      if (this.#isTaking) this.#takeLoop.wake();
    }, this.#options.renewIntervalMs);
    this.#fastRoundTimer.unref?.();
  }

  /**
   * Two live processes with one worker id: a lease owned by this id, not held by this process (now nor
   * at the previous round), whose counter moved since the previous round, is renewed by someone else.
   */
  #detectDuplicateWorkerId(leases: readonly Lease[], previous: LeaseObservations): void {
    const { workerId } = this.#options;
    const heldNow = new Set(this.#held.keys());
    const foreign = new Set<string>();
    for (const lease of leases) {
      if (lease.leaseOwner !== workerId || lease.checkpointOwner !== undefined) continue;
      if (heldNow.has(lease.leaseKey) || this.#heldAtPreviousRound.has(lease.leaseKey)) continue;
      if (this.#pending.has(lease.leaseKey)) continue;
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

  /**
   * Writes a checkpoint with the held lease's counter as fencing token. Serialized with renewals of the
   * same lease so they never fail each other's condition. Retriable failures are retried while the
   * lease is held.
   *
   * @returns `LEASE_LOST` when the lease is no longer ours (nothing was written).
   * @throws the store's error when it keeps failing.
   */
  checkpoint(
    leaseKey: string,
    update: CheckpointUpdate,
    signal?: AbortSignal,
  ): Promise<CheckpointWriteOutcome> {
    return this.#fencedWrite(
      leaseKey,
      'checkpoint',
      (lease, callSignal) => this.#options.store.updateCheckpoint(lease, update, callSignal),
      signal,
    );
  }

  /**
   * Records a prepared checkpoint (two-phase checkpoint), fenced and serialized like {@link checkpoint}.
   * @returns `LEASE_LOST` when the lease is no longer ours (nothing was written).
   */
  prepareCheckpoint(
    leaseKey: string,
    update: PrepareCheckpointUpdate,
    signal?: AbortSignal,
  ): Promise<CheckpointWriteOutcome> {
    return this.#fencedWrite(
      leaseKey,
      'prepareCheckpoint',
      (lease, callSignal) => this.#options.store.prepareCheckpoint(lease, update, callSignal),
      signal,
    );
  }

  async #fencedWrite(
    leaseKey: string,
    operation: string,
    write: (lease: Lease, signal: AbortSignal) => Promise<Lease | undefined>,
    signal: AbortSignal | undefined,
  ): Promise<CheckpointWriteOutcome> {
    const held = this.#held.get(leaseKey);
    if (!held) return 'LEASE_LOST';
    return held.mutex.run(async () => {
      return retry(
        async () => {
          if (!this.isHeld(leaseKey)) return 'LEASE_LOST' as const;
          const sentAtMs = this.#options.clock.nowMs();
          const updated = await this.#uncertain(held, () =>
            withTimeout(
              operation,
              this.#options.failoverTimeMs,
              (callSignal) => write(held.lease, callSignal),
              signal,
            ),
          );
          if (!updated) {
            if (await this.#adoptOwnLandedWrite(held, signal)) throw new CounterAdoptedError();
            // Asked for by another worker: write again with the hand-off fence (checkpointOwner = us).
            if (await this.#noticeHandoff(held, signal ?? this.#renewLoop.signal))
              throw new CounterAdoptedError();
            this.#markLost(leaseKey, held, 'CHECKPOINT_FENCED');
            return 'LEASE_LOST' as const;
          }
          held.lease = updated;
          held.lastWriteSentAtMs = sentAtMs;
          return 'WRITTEN' as const;
        },
        {
          // The write holds the lease's mutex (renewals wait): back off no longer than a renewal would,
          // so a throttled table does not starve the renewals of a healthy lease.
          maxAttempts: 8,
          initialDelayMs: 50,
          maxDelayMs: Math.max(100, this.#options.failoverTimeMs / 10),
          signal,
          isRetriable: (error) => isRetriableError(error) && this.isHeld(leaseKey),
          onRetry: (error, attempt, delayMs) =>
            this.#options.onEvent({
              type: 'RETRY',
              operation,
              shardId: leaseKey,
              attempt,
              delayMs,
              error: asError(error),
            }),
        },
      );
    });
  }

  /**
   * Releases a held lease (owner removed, counter bumped) so any worker can take it at once, and stops
   * renewing it. @returns whether the table was updated.
   */
  async release(leaseKey: string, signal?: AbortSignal): Promise<boolean> {
    const held = this.#held.get(leaseKey);
    if (!held) return false;
    return held.mutex.run(async () => {
      this.#held.delete(leaseKey);
      if (held.isLost) return false;
      const { store } = this.#options;
      const handoff =
        held.isHandingOff && store.completeHandoff ? store.completeHandoff.bind(store) : undefined;
      try {
        const released = await retry(
          () =>
            withTimeout(
              handoff ? 'completeHandoff' : 'release',
              this.#options.failoverTimeMs,
              (callSignal) =>
                handoff ? handoff(held.lease, callSignal) : store.releaseLease(held.lease, callSignal),
              signal,
            ),
          {
            maxAttempts: 3,
            initialDelayMs: 100,
            maxDelayMs: 1_000,
            signal,
          },
        );
        if (released && handoff) {
          this.#options.onEvent({ type: 'LEASE_HANDED_OFF', leaseKey, nextOwner: held.lease.leaseOwner! });
        } else if (released) {
          this.#options.onEvent({ type: 'LEASE_RELEASED', leaseKey });
        }
        return released;
      } catch (error) {
        // It expires on its own after the failover time: slower for the next worker, never unsafe.
        this.#options.logger.warn('Releasing a lease failed; it will expire instead', { leaseKey, error });
        this.#options.onEvent({ type: 'ERROR', shardId: leaseKey, error: asError(error) });
        return false;
      }
    });
  }

  async #take(lease: Lease, stolen: boolean, signal: AbortSignal): Promise<void> {
    const { store, workerId, clock } = this.#options;
    const sentAtMs = clock.nowMs();
    let taken: Lease | undefined;
    try {
      taken = await store.takeLease(lease, workerId, signal);
    } catch (error) {
      this.#options.logger.warn('Taking a lease failed', { leaseKey: lease.leaseKey, error });
      return;
    }
    if (!taken) return; // another worker was faster, or the counter moved: next round.
    this.#pending.delete(lease.leaseKey);
    this.#held.set(lease.leaseKey, {
      lease: taken,
      mutex: new Mutex(),
      lastWriteSentAtMs: sentAtMs,
      isLost: false,
      hasUncertainWrite: false,
      isHandingOff: false,
      takeHint: takeHintOf(lease),
    });
    this.#options.onEvent({
      type: 'LEASE_TAKEN',
      leaseKey: lease.leaseKey,
      previousOwner: lease.leaseOwner,
      stolen,
    });
    this.#options.onLeaseAcquired(taken);
  }

  /** Asks the owner of a live lease to hand it over (or takes it outright without hand-off support). */
  async #steal(lease: Lease, signal: AbortSignal): Promise<void> {
    const { store, workerId, clock } = this.#options;
    if (!store.requestHandoff || lease.leaseOwner === undefined) {
      await this.#take(lease, true, signal);
      return;
    }
    let requested: Lease | undefined;
    try {
      requested = await store.requestHandoff(lease, workerId, signal);
    } catch (error) {
      this.#options.logger.warn('Requesting a hand-off failed', { leaseKey: lease.leaseKey, error });
      return;
    }
    if (!requested) return;
    this.#pending.set(lease.leaseKey, {
      lease: requested,
      previousOwner: lease.leaseOwner,
      counterSeenAtMs: this.#observations.get(lease.leaseKey)?.counterSeenAtMs ?? clock.nowMs(),
    });
    this.#options.onEvent({
      type: 'LEASE_HANDOFF_REQUESTED',
      leaseKey: lease.leaseKey,
      previousOwner: lease.leaseOwner,
    });
    this.#handoffLoop.wake();
  }

  /**
   * Reads each lease being handed to this worker: once the old owner removed `checkpointOwner` (after
   * its last checkpoint), renew it (a write of our own starts our holding time) and start processing
   * exactly after that checkpoint. A hand-off whose giver stopped writing for the failover time is
   * taken as an expired lease.
   */
  async #pollHandoffs(): Promise<void> {
    const { store, workerId, clock, failoverTimeMs } = this.#options;
    const signal = this.#handoffLoop.signal;
    for (const [leaseKey, pending] of [...this.#pending]) {
      if (this.#held.has(leaseKey)) {
        this.#pending.delete(leaseKey); // taken meanwhile (the hand-off expired): nothing to adopt
        continue;
      }
      const stored = await store.getLease(leaseKey, signal);
      const nowMs = clock.nowMs();
      if (stored === undefined || stored.leaseOwner !== workerId) {
        this.#pending.delete(leaseKey); // someone else got it (expiry, or an operator reset)
        continue;
      }
      if (stored.leaseCounter !== pending.lease.leaseCounter) pending.counterSeenAtMs = nowMs;
      pending.lease = stored;
      if (stored.checkpointOwner === undefined) {
        this.#pending.delete(leaseKey);
        const sentAtMs = clock.nowMs();
        const renewed = await store.renewLease(stored, signal).catch(() => undefined);
        if (renewed) this.#adopt(renewed, sentAtMs, pending.previousOwner);
        // Otherwise the next take round finds it (ours, or expired) like any other lease.
        continue;
      }
      if (nowMs - pending.counterSeenAtMs > failoverTimeMs) {
        this.#pending.delete(leaseKey);
        await this.#take(stored, true, signal);
      }
    }
  }

  #adopt(lease: Lease, sentAtMs: number, previousOwner: string | undefined): void {
    this.#held.set(lease.leaseKey, {
      lease,
      mutex: new Mutex(),
      lastWriteSentAtMs: sentAtMs,
      isLost: false,
      hasUncertainWrite: false,
      isHandingOff: false,
      takeHint: takeHintOf(lease),
    });
    this.#options.onEvent({ type: 'LEASE_TAKEN', leaseKey: lease.leaseKey, previousOwner, stolen: true });
    this.#options.onLeaseAcquired(lease);
  }

  async #renew(leaseKey: string): Promise<void> {
    const held = this.#held.get(leaseKey);
    if (!held) return;
    await held.mutex.run(async () => {
      if (!this.isHeld(leaseKey)) return;
      const { store, clock, failoverTimeMs } = this.#options;
      // A checkpoint written a moment ago bumped the counter like a renewal: skip this one. (At most a
      // third of an interval, so the longest gap between writes stays well inside the failover time.)
      if (!held.isHandingOff && clock.nowMs() - held.lastWriteSentAtMs < this.#options.renewIntervalMs / 3) {
        return;
      }
      try {
        await retry(
          async () => {
            const sentAtMs = clock.nowMs();
            // Never wait past the point where the lease would expire locally anyway.
            const leftMs = held.lastWriteSentAtMs + failoverTimeMs - this.safetyMarginMs - sentAtMs;
            const renewed = await this.#uncertain(held, () =>
              withTimeout(
                'renew',
                leftMs,
                (signal) => store.renewLease(held.lease, signal),
                this.#renewLoop.signal,
              ),
            );
            if (!renewed) {
              if (await this.#adoptOwnLandedWrite(held, this.#renewLoop.signal))
                throw new CounterAdoptedError();
              if (await this.#noticeHandoff(held, this.#renewLoop.signal)) return;
              this.#markLost(leaseKey, held, 'TAKEN');
              return;
            }
            held.lease = renewed;
            held.lastWriteSentAtMs = sentAtMs;
            const hint = takeHintOf(renewed);
            if (hint !== undefined && hint !== held.takeHint) {
              held.takeHint = hint;
              this.requestTakeRound(); // a peer stopped and released its leases: take them now
            }
          },
          {
            // A throttled or briefly unavailable table must not cost a healthy worker its leases: keep
            // trying until the lease would expire locally anyway.
            maxAttempts: Number.POSITIVE_INFINITY,
            initialDelayMs: 50,
            maxDelayMs: Math.max(100, failoverTimeMs / 10),
            signal: this.#renewLoop.signal,
            isRetriable: (error) => isRetriableError(error) && this.isHeld(leaseKey),
            onRetry: (error, attempt, delayMs) =>
              this.#options.onEvent({
                type: 'RETRY',
                operation: 'renew',
                shardId: leaseKey,
                attempt,
                delayMs,
                error: asError(error),
              }),
          },
        );
      } catch (error) {
        if (this.#renewLoop.signal.aborted) return;
        this.#options.logger.warn('Renewing a lease failed', { leaseKey, error });
        this.#options.onEvent({ type: 'ERROR', shardId: leaseKey, error: asError(error) });
        this.isHeld(leaseKey);
      }
    });
  }

  /**
   * After a renewal failed its condition: whether another worker asked for the lease (the stored lease
   * names this worker as `checkpointOwner`, same counter). Then the lease stays held (renewed with the
   * hand-off condition) while the shard winds down. @returns whether a hand-off was noticed.
   */
  async #noticeHandoff(held: HeldLease, signal: AbortSignal): Promise<boolean> {
    if (held.isHandingOff || !this.#options.onHandoffRequested) return false;
    const stored = await this.#options.store.getLease(held.lease.leaseKey, signal);
    if (
      stored === undefined ||
      stored.checkpointOwner !== this.#options.workerId ||
      stored.leaseCounter !== held.lease.leaseCounter ||
      stored.leaseOwner === undefined
    ) {
      return false;
    }
    held.lease = stored;
    held.isHandingOff = true;
    this.#options.onEvent({
      type: 'LEASE_HANDOFF_STARTED',
      leaseKey: stored.leaseKey,
      nextOwner: stored.leaseOwner!,
    });
    this.#options.onHandoffRequested(stored.leaseKey, stored.leaseOwner!);
    return true;
  }

  /** Runs a counter-bumping write, remembering when it failed without an answer. */
  async #uncertain<T>(held: HeldLease, write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      // A condition failure keeps the flag: it may be this very write's predecessor that landed.
      if (result) held.hasUncertainWrite = false;
      return result;
    } catch (error) {
      if (isRetriableError(error)) held.hasUncertainWrite = true;
      throw error;
    }
  }

  /**
   * After a write that failed without an answer, a condition failure may be this worker's own write
   * having landed (counter one ahead, owner still this worker). Then the stored counter is adopted and
   * the caller tries again. @returns whether it was adopted.
   */
  async #adoptOwnLandedWrite(held: HeldLease, signal: AbortSignal | undefined): Promise<boolean> {
    if (!held.hasUncertainWrite) return false;
    held.hasUncertainWrite = false;
    const stored = await this.#options.store.getLease(held.lease.leaseKey, signal);
    if (
      stored === undefined ||
      stored.leaseOwner !== held.lease.leaseOwner ||
      stored.leaseCounter !== held.lease.leaseCounter + 1 ||
      stored.checkpointOwner !== held.lease.checkpointOwner
    ) {
      return false;
    }
    held.lease = stored;
    return true;
  }

  #markLost(
    leaseKey: string,
    held: HeldLease,
    reason: 'TAKEN' | 'EXPIRED_LOCALLY' | 'CHECKPOINT_FENCED',
  ): void {
    if (held.isLost) return;
    held.isLost = true;
    this.#held.delete(leaseKey);
    this.#options.logger.warn('Lease lost', { leaseKey, reason });
    this.#options.onEvent({ type: 'LEASE_LOST', leaseKey, reason });
    this.#options.onLeaseLost(leaseKey);
  }
}
