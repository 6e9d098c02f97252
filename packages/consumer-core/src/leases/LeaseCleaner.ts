import type { ConsumerEventListener } from '../events.js';
import type { Clock } from '../internal/clock.js';
import { Loop } from '../internal/Loop.js';
import type { Logger } from '../internal/logger.js';
import type { Lease } from './Lease.js';
import type { LeaseStore } from './LeaseStore.js';
import {
  type LeaseCleanupObservations,
  type LeaseCleanupPlan,
  type LeaseCleanupSettings,
  type ListedShard,
  planLeaseCleanup,
  type ShardListing,
} from './leaseCleanup.js';

/** Options of {@link LeaseCleaner}. */
export interface LeaseCleanerOptions extends LeaseCleanupSettings {
  readonly store: LeaseStore;
  /** How often a cleanup round runs (KCL `leaseCleanupIntervalMillis`). */
  readonly leaseCleanupIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onEvent: ConsumerEventListener;
  /** A cleanup round failed as a whole. */
  readonly onRoundError: (error: unknown) => void;
}

/**
 * Deletes the leases the lineage no longer needs (KCL `LeaseCleanupManager`). It lists nothing itself:
 * it is fed the take rounds' table listings and the shard syncer's complete listings, and each round
 * asks the pure {@link planLeaseCleanup} what to delete. Every delete is conditional on the counter seen,
 * so workers deleting at the same time, or a worker writing the lease meanwhile, are harmless.
 */
export class LeaseCleaner {
  readonly #options: LeaseCleanerOptions;
  readonly #loop: Loop;
  #leases: readonly Lease[] | undefined;
  #listing: ShardListing | undefined;
  #observations: LeaseCleanupObservations = new Map();
  #lastPlan: LeaseCleanupPlan | undefined;

  constructor(options: LeaseCleanerOptions) {
    this.#options = options;
    this.#loop = new Loop(options.leaseCleanupIntervalMs, () => this.cleanupRound(), options.onRoundError);
  }

  /** Whether any cleanup is switched on. */
  get isEnabled(): boolean {
    return this.#options.cleanupLeasesUponShardCompletion || this.#options.cleanupGarbageLeases;
  }

  /** The last round's plan (what was deleted, what waits and why). */
  get lastPlan(): LeaseCleanupPlan | undefined {
    return this.#lastPlan;
  }

  /** Starts the rounds (the first after one interval: the first take round and sync feed it). */
  start(): void {
    if (this.isEnabled && this.#options.store.deleteLease) this.#loop.start(true);
  }

  /** Stops the rounds; a delete under way is aborted. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** A listing of the whole table (a take round's). */
  noteLeases(leases: readonly Lease[]): void {
    this.#leases = leases;
  }

  /** A complete, unfiltered listing of the stream's shards. */
  noteShards(shards: readonly ListedShard[]): void {
    this.#listing = { shards, listedAtMs: this.#options.clock.nowMs() };
  }

  /** One round: plan over the latest listings, then delete (each delete conditional on its counter). */
  async cleanupRound(): Promise<void> {
    const { store, clock, logger, onEvent } = this.#options;
    const leases = this.#leases;
    if (leases === undefined || !store.deleteLease) return;
    const plan = planLeaseCleanup({
      leases,
      listing: this.#listing,
      nowMs: clock.nowMs(),
      observations: this.#observations,
      settings: this.#options,
    });
    this.#observations = plan.observations;
    this.#lastPlan = plan;
    for (const { lease, reason } of plan.deletions) {
      if (this.#loop.signal.aborted) return;
      // One attempt per round: a failed or lost delete is planned again from the next listing.
      if (await store.deleteLease(lease, this.#loop.signal)) {
        logger.info('Deleted a lease the lineage no longer needs', { leaseKey: lease.leaseKey, reason });
        onEvent({ type: 'LEASE_DELETED', leaseKey: lease.leaseKey, reason });
      }
    }
  }
}
