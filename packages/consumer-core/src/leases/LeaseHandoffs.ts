import { Loop } from '../internal/Loop.js';
import type { HeldLease, HeldLeases } from './HeldLeases.js';
import type { Lease } from './Lease.js';
import type { LeaseLoopContext } from './LeaseLoopContext.js';
import { takeHintOf } from './LeaseStore.js';
import { isLeaseExpired, type LeaseObservations } from './leaseTaking.js';
import { writeOrSkip } from './writeOrSkip.js';

/** Options of {@link LeaseHandoffs}. */
export interface LeaseHandoffsOptions extends LeaseLoopContext {
  readonly held: HeldLeases;
  /** A polling round failed as a whole. */
  readonly onRoundError: (error: unknown) => void;
  /** Takes a lease outright (a hand-off whose giver stopped writing for the failover time). */
  readonly take: (lease: Lease, signal: AbortSignal) => Promise<void>;
  /**
   * Another worker asked for this lease (cooperative hand-off): stop fetching, let the delivered batches
   * be checkpointed, then release it (which completes the hand-off). Without it, a hand-off request is
   * treated as a lost lease.
   */
  readonly onHandoffRequested?: (leaseKey: string, nextOwner: string) => void;
}

/** A lease being handed to this worker: polled until the old owner completes the hand-off. */
interface PendingHandoff {
  lease: Lease;
  readonly previousOwner: string;
  /** When this worker first saw the lease's current counter (the hand-off expires like any lease). */
  counterSeenAtMs: number;
}

/**
 * Cooperative hand-off (KCL 3.x graceful hand-off, through `checkpointOwner`), both sides:
 *
 * - to this worker: asks the owner of a live lease for it, then reads it until the old owner let go
 *   (or stopped writing for the failover time) and starts exactly after its last checkpoint;
 * - from this worker: notices that another worker asked for a held lease, so its shard winds down and
 *   the release completes the hand-off;
 *
 * and the take hints a stopping worker leaves for its peers.
 */
export class LeaseHandoffs {
  readonly #options: LeaseHandoffsOptions;
  readonly #loop: Loop;
  readonly #pending = new Map<string, PendingHandoff>();

  constructor(options: LeaseHandoffsOptions) {
    this.#options = options;
    this.#loop = new Loop(this.pollIntervalMs, () => this.#poll(), options.onRoundError);
  }

  /** How often a lease being handed to this worker is read until the old owner lets go. */
  get pollIntervalMs(): number {
    return Math.max(50, Math.min(250, Math.floor(this.#options.renewIntervalMs / 4)));
  }

  /** Starts polling the hand-offs to this worker. */
  start(): void {
    this.#loop.start(true);
  }

  /** Stops polling (a poll stuck on the network is abandoned after a second). */
  async stop(): Promise<void> {
    await this.#loop.stop(1_000);
  }

  /** Whether this lease is being handed to this worker. */
  isPending(leaseKey: string): boolean {
    return this.#pending.has(leaseKey);
  }

  /** Whether any lease is being handed to this worker. */
  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /** The lease was taken outright: no hand-off to wait for. */
  forget(leaseKey: string): void {
    this.#pending.delete(leaseKey);
  }

  /**
   * Asks the owner of a live lease to hand it over. `counterSeenAtMs` is when this worker first saw the
   * lease's counter (the hand-off expires like the lease).
   */
  async request(
    lease: Lease,
    previousOwner: string,
    counterSeenAtMs: number | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const { store, workerId, clock } = this.#options;
    if (!store.requestHandoff) return;
    const requested = await writeOrSkip(
      this.#options.logger,
      'Requesting a hand-off failed',
      lease.leaseKey,
      async () => store.requestHandoff?.(lease, workerId, signal), // defined: checked above
    );
    if (!requested) return;
    this.#pending.set(lease.leaseKey, {
      lease: requested,
      previousOwner,
      counterSeenAtMs: counterSeenAtMs ?? clock.nowMs(),
    });
    this.#options.onEvent({ type: 'LEASE_HANDOFF_REQUESTED', leaseKey: lease.leaseKey, previousOwner });
    this.#loop.wake();
  }

  /**
   * A leader asked the owner of a live lease to hand it to this worker (leader-based assignment): wait
   * for the old owner to let go, as after a request of this worker's own.
   */
  expect(lease: Lease, previousOwner: string): void {
    if (this.#pending.has(lease.leaseKey)) return;
    this.#pending.set(lease.leaseKey, { lease, previousOwner, counterSeenAtMs: this.#options.clock.nowMs() });
    this.#loop.wake();
  }

  /**
   * After a write to a held lease failed its condition: whether another worker asked for the lease (the
   * stored lease names this worker as `checkpointOwner`, same counter). Then the lease stays held
   * (written with the hand-off condition) while the shard winds down. @returns whether a hand-off was
   * noticed.
   */
  async noticeRequest(held: HeldLease, signal: AbortSignal): Promise<boolean> {
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
    held.startHandingOff(stored);
    this.#options.onEvent({
      type: 'LEASE_HANDOFF_STARTED',
      leaseKey: stored.leaseKey,
      nextOwner: stored.leaseOwner!,
    });
    this.#options.onHandoffRequested(stored.leaseKey, stored.leaseOwner!);
    return true;
  }

  /**
   * Waits (at most `timeoutMs`) for the hand-offs to this worker still running: a stopping worker then
   * releases what it received instead of leaving it to expire.
   */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = this.#options.clock.nowMs() + timeoutMs;
    while (this.#pending.size > 0 && this.#options.clock.nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Tells each live peer to run a take round now (a stopping worker, after releasing its leases): writes a
   * take hint on one lease of each, which the peer's next renewal reads. Best effort.
   *
   * @param leases the last listing of the table; `observations` what the taker saw of them.
   */
  async hintPeers(leases: readonly Lease[], observations: LeaseObservations): Promise<void> {
    const { store, workerId, clock, failoverTimeMs } = this.#options;
    const nowMs = clock.nowMs();
    const byPeer = new Map<string, string>();
    for (const lease of leases) {
      const owner = lease.leaseOwner;
      if (!owner || owner === workerId || lease.checkpointOwner !== undefined || byPeer.has(owner)) continue;
      if (isLeaseExpired(observations.get(lease.leaseKey), nowMs, failoverTimeMs)) continue;
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
   * Reads each lease being handed to this worker: once the old owner removed `checkpointOwner` (after
   * its last checkpoint), renew it (a write of our own starts our holding time) and start processing
   * exactly after that checkpoint. A hand-off whose giver stopped writing for the failover time is
   * taken as an expired lease.
   */
  async #poll(): Promise<void> {
    const { store, workerId, clock, failoverTimeMs, held } = this.#options;
    const signal = this.#loop.signal;
    for (const [leaseKey, pending] of [...this.#pending]) {
      if (held.has(leaseKey)) {
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
        if (renewed) {
          held.acquire({
            lease: renewed,
            sentAtMs,
            takeHint: takeHintOf(renewed),
            previousOwner: pending.previousOwner,
            stolen: true,
          });
        }
        // Otherwise the next take round finds it (ours, or expired) like any other lease.
        continue;
      }
      if (nowMs - pending.counterSeenAtMs > failoverTimeMs) {
        this.#pending.delete(leaseKey);
        await this.#options.take(stored, signal);
      }
    }
  }
}
