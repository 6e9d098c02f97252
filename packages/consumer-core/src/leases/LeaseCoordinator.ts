import { asError, type ConsumerEventListener } from '../events.js';
import type { Clock } from '../internal/clock.js';
import { Loop } from '../internal/Loop.js';
import type { Logger } from '../internal/logger.js';
import { Mutex } from '../internal/Mutex.js';
import { isRetriableError, retry } from '../internal/retry.js';
import type { Lease } from './Lease.js';
import type { CheckpointUpdate, LeaseStore } from './LeaseStore.js';
import { type LeaseObservations, observeLeases, planLeaseTaking } from './leaseTaking.js';

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
  /** Called after every listing of the table (shard sync uses it). */
  readonly onLeasesListed?: (leases: readonly Lease[]) => void;
}

/** Outcome of {@link LeaseCoordinator.checkpoint}. */
export type CheckpointWriteOutcome = 'WRITTEN' | 'LEASE_LOST';

interface HeldLease {
  lease: Lease;
  readonly mutex: Mutex;
  /** When the last successful counter-bumping write (take, renew, checkpoint) was sent. */
  lastWriteSentAtMs: number;
  isLost: boolean;
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
  #observations: LeaseObservations = new Map();
  #isTaking = true;

  constructor(options: LeaseCoordinatorOptions) {
    this.#options = options;
    const onError = (operation: string) => (error: unknown) => {
      options.logger.warn(`Lease ${operation} round failed`, { error });
      options.onEvent({ type: 'ERROR', shardId: undefined, error: asError(error) });
    };
    this.#renewLoop = new Loop(options.renewIntervalMs, () => this.renewAll(), onError('renewal'));
    this.#takeLoop = new Loop(options.leaseTakeIntervalMs, () => this.takeRound(), onError('taking'));
  }

  /** How long before the failover time a held lease is treated as possibly lost. */
  get safetyMarginMs(): number {
    return Math.max(this.#options.failoverTimeMs / 10, 50);
  }

  /** Starts renewing and taking (the first take round runs at once). */
  start(): void {
    this.#renewLoop.start(true);
    this.#takeLoop.start(false);
  }

  /** Runs a take round soon (after a parent shard ended, for instance). */
  requestTakeRound(): void {
    this.#takeLoop.wake();
  }

  /** Stops taking new leases; renewals go on. */
  async stopTaking(): Promise<void> {
    this.#isTaking = false;
    await this.#takeLoop.stop();
  }

  /** Stops every loop. Held leases are not released (see {@link release}). */
  async stop(): Promise<void> {
    this.#isTaking = false;
    await Promise.all([this.#takeLoop.stop(), this.#renewLoop.stop()]);
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

  /** One take round: list the table, observe counters, take what the plan says. */
  async takeRound(): Promise<void> {
    const { store, clock, workerId } = this.#options;
    const signal = this.#takeLoop.signal;
    const leases = await store.listLeases(signal);
    const nowMs = clock.nowMs();
    this.#observations = observeLeases(this.#observations, leases, nowMs);
    this.#options.onLeasesListed?.(leases);
    if (!this.#isTaking) return;
    const plan = planLeaseTaking({
      leases,
      observations: this.#observations,
      nowMs,
      workerId,
      heldLeaseKeys: new Set(this.heldLeaseKeys()),
      failoverTimeMs: this.#options.failoverTimeMs,
      isEligible: this.#options.eligibility(leases),
      maxLeasesPerWorker: this.#options.maxLeasesPerWorker,
      maxLeasesToStealAtOnce: this.#options.maxLeasesToStealAtOnce,
      stealCooldownMs: this.#options.stealCooldownMs,
    });
    if (plan.uncoveredLeaseCount > 0) {
      this.#options.logger.warn('maxLeasesPerWorker leaves shards without a worker', {
        uncoveredLeaseCount: plan.uncoveredLeaseCount,
        liveWorkerCount: plan.liveWorkerCount,
      });
    }
    for (const lease of plan.take) await this.#take(lease, false, signal);
    for (const lease of plan.steal) await this.#take(lease, true, signal);
  }

  /**
   * Writes a checkpoint with the held lease's counter as fencing token. Serialized with renewals of the
   * same lease so they never fail each other's condition. Retriable failures are retried while the
   * lease is held.
   *
   * @returns `LEASE_LOST` when the lease is no longer ours (nothing was written).
   * @throws the store's error when it keeps failing.
   */
  async checkpoint(
    leaseKey: string,
    update: CheckpointUpdate,
    signal?: AbortSignal,
  ): Promise<CheckpointWriteOutcome> {
    const held = this.#held.get(leaseKey);
    if (!held) return 'LEASE_LOST';
    return held.mutex.run(async () => {
      return retry(
        async () => {
          if (!this.isHeld(leaseKey)) return 'LEASE_LOST' as const;
          const sentAtMs = this.#options.clock.nowMs();
          const updated = await this.#options.store.updateCheckpoint(held.lease, update, signal);
          if (!updated) {
            this.#markLost(leaseKey, held, 'CHECKPOINT_FENCED');
            return 'LEASE_LOST' as const;
          }
          held.lease = updated;
          held.lastWriteSentAtMs = sentAtMs;
          return 'WRITTEN' as const;
        },
        {
          maxAttempts: 8,
          initialDelayMs: 100,
          maxDelayMs: 2_000,
          signal,
          isRetriable: (error) => isRetriableError(error) && this.isHeld(leaseKey),
          onRetry: (error, attempt, delayMs) =>
            this.#options.onEvent({
              type: 'RETRY',
              operation: 'checkpoint',
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
      try {
        const released = await retry(() => this.#options.store.releaseLease(held.lease, signal), {
          maxAttempts: 3,
          initialDelayMs: 100,
          maxDelayMs: 1_000,
          signal,
        });
        if (released) this.#options.onEvent({ type: 'LEASE_RELEASED', leaseKey });
        return released;
      } catch (error) {
        // It expires on its own after the failover time: slower for the next worker, never unsafe.
        this.#options.logger.warn('Releasing a lease failed; it will expire instead', { leaseKey, error });
        this.#options.onEvent({ type: 'ERROR', shardId: leaseKey, error: asError(error) });
        return false;
      }
    });
  }

  /** Forgets a lease without writing (after a loss, or when the shard's work is done and released). */
  forget(leaseKey: string): void {
    this.#held.delete(leaseKey);
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
    this.#held.set(lease.leaseKey, {
      lease: taken,
      mutex: new Mutex(),
      lastWriteSentAtMs: sentAtMs,
      isLost: false,
    });
    this.#options.onEvent({
      type: 'LEASE_TAKEN',
      leaseKey: lease.leaseKey,
      previousOwner: lease.leaseOwner,
      stolen,
    });
    this.#options.onLeaseAcquired(taken);
  }

  async #renew(leaseKey: string): Promise<void> {
    const held = this.#held.get(leaseKey);
    if (!held) return;
    await held.mutex.run(async () => {
      if (!this.isHeld(leaseKey)) return;
      const { store, clock, failoverTimeMs } = this.#options;
      try {
        await retry(
          async () => {
            const sentAtMs = clock.nowMs();
            const renewed = await store.renewLease(held.lease, this.#renewLoop.signal);
            if (!renewed) {
              this.#markLost(leaseKey, held, 'TAKEN');
              return;
            }
            held.lease = renewed;
            held.lastWriteSentAtMs = sentAtMs;
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
