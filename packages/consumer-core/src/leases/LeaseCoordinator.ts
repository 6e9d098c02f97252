import { asError } from '../events.js';
import { FencedLeaseWriter } from './FencedLeaseWriter.js';
import { HeldLeases } from './HeldLeases.js';
import type { Lease } from './Lease.js';
import type { LeaseHandle } from './LeaseHandle.js';
import { LeaseHandoffs } from './LeaseHandoffs.js';
import type { LeaseLoopContext } from './LeaseLoopContext.js';
import { LeaseRenewer } from './LeaseRenewer.js';
import type { LeaseStore } from './LeaseStore.js';
import { LeaseTaker, type LeaseTakingSettings } from './LeaseTaker.js';
import type { LeaseTakingPlan } from './leaseTaking.js';

/** Options of {@link LeaseCoordinator}. */
export interface LeaseCoordinatorOptions extends LeaseLoopContext, LeaseTakingSettings {
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
  /** Failed sessions in a row at one checkpoint before a shard is halted. @defaultValue 5 */
  readonly maxShardFailures?: number;
}

/**
 * This worker's side of the lease table, composed the way the Java KCL splits it:
 *
 * - {@link HeldLeases}: the leases held now, the one owner of that state;
 * - {@link LeaseRenewer}: the renewal loop (KCL `LeaseRenewer`);
 * - {@link LeaseTaker}: the take rounds (KCL `LeaseTaker`; the decision is the pure `planLeaseTaking`);
 * - {@link LeaseHandoffs}: cooperative hand-off through `checkpointOwner`, and take hints;
 * - {@link FencedLeaseWriter}: the checkpoint, prepared-checkpoint and release writes a shard consumer
 *   makes through its {@link LeaseHandle}.
 *
 * Lease cleanup (deleting the leases of shards trimmed away, KCL `LeaseCleanupManager`) is a module of
 * its own beside these when it comes, fed by the taker's listings. This class only wires the modules and
 * orders their start and stop; every store call goes through the {@link LeaseStore} port.
 */
export class LeaseCoordinator {
  readonly #held: HeldLeases;
  readonly #renewer: LeaseRenewer;
  readonly #taker: LeaseTaker;
  readonly #handoffs: LeaseHandoffs;
  readonly #writer: FencedLeaseWriter;

  constructor(options: LeaseCoordinatorOptions) {
    const { store, workerId, failoverTimeMs, renewIntervalMs, clock, logger, onEvent } = options;
    const onRoundError = (operation: string) => (error: unknown) => {
      logger.warn(`Lease ${operation} round failed`, { error });
      onEvent({ type: 'ERROR', shardId: undefined, error: asError(error) });
    };
    this.#held = new HeldLeases({
      failoverTimeMs,
      clock,
      logger,
      onEvent,
      onLeaseAcquired: options.onLeaseAcquired,
      onLeaseLost: options.onLeaseLost,
    });
    const held = this.#held;
    const context: LeaseLoopContext = {
      store,
      workerId,
      failoverTimeMs,
      renewIntervalMs,
      clock,
      logger,
      onEvent,
    };
    this.#handoffs = new LeaseHandoffs({
      ...context,
      held,
      onRoundError: onRoundError('hand-off polling'),
      take: (lease, signal) => this.#taker.take(lease, true, signal),
      ...(options.onHandoffRequested ? { onHandoffRequested: options.onHandoffRequested } : {}),
    });
    const noticeHandoff = this.#handoffs.noticeRequest.bind(this.#handoffs);
    this.#renewer = new LeaseRenewer({
      ...context,
      held,
      onRoundError: onRoundError('renewal'),
      noticeHandoff,
      onTakeHint: () => this.requestTakeRound(),
    });
    this.#taker = new LeaseTaker({
      ...context,
      held,
      handoffs: this.#handoffs,
      leaseTakeIntervalMs: options.leaseTakeIntervalMs,
      maxLeasesPerWorker: options.maxLeasesPerWorker,
      maxLeasesToStealAtOnce: options.maxLeasesToStealAtOnce,
      stealCooldownMs: options.stealCooldownMs,
      onRoundError: onRoundError('taking'),
      eligibility: options.eligibility,
      ...(options.onLeasesListed ? { onLeasesListed: options.onLeasesListed } : {}),
      ...(options.onRoundPlanned ? { onRoundPlanned: options.onRoundPlanned } : {}),
    });
    this.#writer = new FencedLeaseWriter({
      store,
      held,
      failoverTimeMs,
      clock,
      logger,
      onEvent,
      noticeHandoff,
      fallbackSignal: () => this.#renewer.signal,
      ...(options.maxShardFailures !== undefined ? { maxShardFailures: options.maxShardFailures } : {}),
    });
  }

  /** Starts renewing, taking (the first take round runs at once) and polling hand-offs to this worker. */
  start(): void {
    this.#renewer.start();
    this.#taker.start();
    this.#handoffs.start();
  }

  /** Runs a take round soon (after a parent shard ended, for instance). */
  requestTakeRound(): void {
    this.#taker.wake();
  }

  /** Stops taking new leases; renewals go on. */
  async stopTaking(): Promise<void> {
    await this.#taker.stop();
  }

  /** Stops every loop. Held leases are not released (see {@link release}). */
  async stop(): Promise<void> {
    // Leases were released before this step; a renewal stuck on the network is abandoned, not awaited.
    await Promise.all([this.#taker.stop(), this.#renewer.stop(), this.#handoffs.stop()]);
  }

  /** Keys of the leases this worker holds (and has not lost). */
  heldLeaseKeys(): string[] {
    return this.#held.heldLeaseKeys();
  }

  /** The lease as this worker last wrote it, while held. */
  heldLease(leaseKey: string): Lease | undefined {
    return this.#held.heldLease(leaseKey);
  }

  /** Whether this worker may still act on the lease (held, not lost, renewed recently enough). */
  isHeld(leaseKey: string): boolean {
    return this.#held.isHeld(leaseKey);
  }

  /** The handle a shard consumer gets for its lease: fenced checkpoint, prepare and release. */
  leaseHandle(leaseKey: string): LeaseHandle {
    return this.#writer.handleFor(leaseKey);
  }

  /**
   * Releases a held lease (owner removed, counter bumped; handed to the next owner when one asked for
   * it) and stops renewing it. @returns whether the table was updated.
   */
  release(leaseKey: string, signal?: AbortSignal): Promise<boolean> {
    return this.#writer.release(leaseKey, signal);
  }

  /**
   * Waits (at most `timeoutMs`) for the hand-offs to this worker still running: a stopping worker then
   * releases what it received instead of leaving it to expire.
   */
  settleHandoffs(timeoutMs: number): Promise<void> {
    return this.#handoffs.settle(timeoutMs);
  }

  /**
   * Tells each live peer to run a take round now (a stopping worker, after releasing its leases): writes a
   * take hint on one lease of each, which the peer's next renewal reads. Best effort.
   */
  hintPeers(): Promise<void> {
    return this.#handoffs.hintPeers(this.#taker.lastListing, this.#taker.observations);
  }
}
