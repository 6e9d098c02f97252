import { forEachConcurrently } from '../internal/forEachConcurrently.js';
import { Loop } from '../internal/Loop.js';
import type { HeldLeases } from './HeldLeases.js';
import type { Lease } from './Lease.js';
import type { LeaseHandoffs } from './LeaseHandoffs.js';
import type { LeaseLoopContext } from './LeaseLoopContext.js';
import { takeHintOf } from './LeaseStore.js';

/** Reads of newly assigned leases in flight at once. */
const DISCOVERY_CONCURRENCY = 8;

/**
 * A hint's look at the index is repeated this long after it: the `leaseOwner` index is eventually
 * consistent and may not show the assignments the hint announced yet.
 */
const INDEX_SETTLE_MS = 1_000;

/** Options of {@link LeaseDiscovery}. */
export interface LeaseDiscoveryOptions extends LeaseLoopContext {
  readonly held: HeldLeases;
  /** Leases moved to this worker by hand-off are finished through it. */
  readonly handoffs: Pick<LeaseHandoffs, 'expect' | 'isPending'>;
  /** How often the index is read without a hint (the leader's hint makes it read at once). */
  readonly intervalMs: number;
  /** Whether this worker starts on an assigned lease now (false: it waits for the lease's next assignment). */
  readonly accepts: (lease: Lease) => boolean;
  /** A discovery round failed as a whole. */
  readonly onRoundError: (error: unknown) => void;
  /** A discovery round completed (the table answered). */
  readonly onRoundDone?: () => void;
}

/**
 * A worker's side of leader-based assignment (KCL 3.x `LeaseDiscoverer`): reads the keys of the
 * leases the `leaseOwner` index lists for this worker, reads each one it does not hold yet
 * (consistently), and starts on it with a renewal of its own (conditional on the counter the leader
 * wrote, so the holding time starts from this worker's own write, as after a take). A lease that
 * arrives by hand-off (`checkpointOwner` set) is finished through {@link LeaseHandoffs}: it starts
 * exactly after the old owner's last checkpoint.
 */
export class LeaseDiscovery {
  readonly #options: LeaseDiscoveryOptions;
  readonly #loop: Loop;
  #settleTimer: NodeJS.Timeout | undefined;

  constructor(options: LeaseDiscoveryOptions) {
    this.#options = options;
    this.#loop = new Loop(
      options.intervalMs,
      async () => {
        await this.discoverRound();
        options.onRoundDone?.();
      },
      options.onRoundError,
    );
  }

  /** Starts (the first round runs at once). */
  start(): void {
    this.#loop.start(false);
  }

  /** Runs a round soon (the leader assigned something), and once more when the index has settled. */
  wake(): void {
    this.#loop.wake();
    if (this.#settleTimer) clearTimeout(this.#settleTimer);
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      this.#loop.wake();
    }, INDEX_SETTLE_MS);
    this.#settleTimer.unref?.();
  }

  /** Stops looking for new leases. */
  async stop(): Promise<void> {
    if (this.#settleTimer) clearTimeout(this.#settleTimer);
    await this.#loop.stop(1_000);
  }

  /**
   * A stopping worker gives back the leases assigned to it that it has not started on (conditional on
   * the counter the leader wrote), so the leader assigns them again at once instead of after the
   * failover time. Leases being handed to it are settled by {@link LeaseHandoffs}. Best effort.
   */
  async releaseUnstarted(signal?: AbortSignal): Promise<void> {
    const { store, workerId, held, handoffs } = this.#options;
    if (!store.listLeaseKeysOwnedBy) return;
    const keys = await store.listLeaseKeysOwnedBy(workerId, signal);
    await forEachConcurrently(
      keys.filter((key) => !held.has(key) && !handoffs.isPending(key)),
      DISCOVERY_CONCURRENCY,
      async (leaseKey) => {
        const stored = await store.getLease(leaseKey, signal);
        if (stored?.leaseOwner !== workerId || stored.checkpointOwner !== undefined || held.has(leaseKey))
          return;
        await store.releaseLease(stored, signal);
      },
    );
  }

  /** One round: the index, then each lease not held yet. */
  async discoverRound(): Promise<void> {
    const { store, workerId, held, handoffs } = this.#options;
    if (!store.listLeaseKeysOwnedBy) return;
    const signal = this.#loop.signal;
    const keys = await store.listLeaseKeysOwnedBy(workerId, signal);
    const fresh = keys.filter((key) => !held.has(key) && !handoffs.isPending(key));
    await forEachConcurrently(fresh, DISCOVERY_CONCURRENCY, async (leaseKey) => {
      if (signal.aborted) return;
      try {
        await this.#adopt(leaseKey, signal);
      } catch (error) {
        this.#options.logger.warn('Starting on an assigned lease failed', { leaseKey, error });
      }
    });
  }

  async #adopt(leaseKey: string, signal: AbortSignal): Promise<void> {
    const { store, workerId, held, handoffs, clock } = this.#options;
    const stored = await store.getLease(leaseKey, signal);
    // The index lags the table: the lease may have moved on since.
    if (stored === undefined || stored.leaseOwner !== workerId || held.has(leaseKey)) return;
    if (stored.checkpointOwner !== undefined) {
      if (stored.checkpointOwner !== workerId) handoffs.expect(stored, stored.checkpointOwner);
      return;
    }
    if (!this.#options.accepts(stored)) return;
    const sentAtMs = clock.nowMs();
    const renewed = await store.renewLease(stored, signal);
    if (!renewed || held.has(leaseKey)) return; // moved meanwhile: the next round looks again
    held.acquire({
      lease: renewed,
      sentAtMs,
      takeHint: takeHintOf(renewed),
      previousOwner: undefined,
      stolen: false,
    });
  }
}
