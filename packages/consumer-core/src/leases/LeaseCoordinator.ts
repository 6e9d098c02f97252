import { ShardlineError } from '../errors.js';
import { asError, type ConsumerEventListener } from '../events.js';
import type { Clock } from '../internal/clock.js';
import { Loop } from '../internal/Loop.js';
import type { Logger } from '../internal/logger.js';
import { Mutex } from '../internal/Mutex.js';
import { isRetriableError, retry } from '../internal/retry.js';
import { withTimeout } from '../internal/withTimeout.js';
import type { Lease } from './Lease.js';
import type { CheckpointUpdate, LeaseStore, PrepareCheckpointUpdate } from './LeaseStore.js';
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
  #expiryTimer: NodeJS.Timeout | undefined;

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
    await this.#takeLoop.stop(1_000);
  }

  /** Stops every loop. Held leases are not released (see {@link release}). */
  async stop(): Promise<void> {
    this.#isTaking = false;
    if (this.#expiryTimer) clearInterval(this.#expiryTimer);
    this.#expiryTimer = undefined;
    // Leases were released before this step; a renewal stuck on the network is abandoned, not awaited.
    await Promise.all([this.#takeLoop.stop(1_000), this.#renewLoop.stop(1_000)]);
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
      try {
        const released = await retry(
          () =>
            withTimeout(
              'release',
              this.#options.failoverTimeMs,
              (callSignal) => this.#options.store.releaseLease(held.lease, callSignal),
              signal,
            ),
          {
            maxAttempts: 3,
            initialDelayMs: 100,
            maxDelayMs: 1_000,
            signal,
          },
        );
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
      hasUncertainWrite: false,
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
      stored.leaseOwner !== this.#options.workerId ||
      stored.leaseCounter !== held.lease.leaseCounter + 1 ||
      stored.checkpointOwner !== undefined
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
