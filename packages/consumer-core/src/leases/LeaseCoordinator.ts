import { asError } from '../events.js';
import { CoordinatorMembership } from './CoordinatorMembership.js';
import { FencedLeaseWriter } from './FencedLeaseWriter.js';
import { HeldLeases } from './HeldLeases.js';
import type { Lease } from './Lease.js';
import { LeaseAssigner } from './LeaseAssigner.js';
import { LeaseCleaner } from './LeaseCleaner.js';
import { LeaseDiscovery } from './LeaseDiscovery.js';
import type { LeaseHandle } from './LeaseHandle.js';
import { LeaseHandoffs } from './LeaseHandoffs.js';
import { type LeaseLoopContext, leaseLoopContext } from './LeaseLoopContext.js';
import { LeaseRenewer, type RenewalStatus } from './LeaseRenewer.js';
import type { LeaseStore } from './LeaseStore.js';
import { LeaseTaker, type LeaseTakingSettings } from './LeaseTaker.js';
import type { LeaseAssignmentPlan } from './leaseAssignment.js';
import { workerItemKey } from './leaseAssignment.js';
import type { LeaseCleanupPlan, LeaseCleanupSettings, ListedShard } from './leaseCleanup.js';
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
  /** Lease cleanup settings; without them, no lease is ever deleted. */
  readonly cleanup?: LeaseCleanupSettings & { readonly leaseCleanupIntervalMs: number };
  /** Failed sessions in a row at one checkpoint before a shard is halted. @defaultValue 5 */
  readonly maxShardFailures?: number;
  /**
   * Leader-based assignment (KCL 3.x): one elected worker lists the table and assigns leases; the
   * others find theirs through the `leaseOwner` index. Without it every worker lists the table and
   * takes its own share (KCL 2.x).
   */
  readonly leaderAssignment?: LeaderAssignmentSettings;
}

/** The leader-based assignment mode of {@link LeaseCoordinator}. */
export interface LeaderAssignmentSettings {
  /** The coordinator table (heartbeat and leader items), a table of its own. */
  readonly coordinatorStore: LeaseStore;
  /** Fleet-wide: which leases are work to assign (no state of one worker, such as its failure backoff). */
  readonly eligibility: (leases: readonly Lease[]) => (lease: Lease) => boolean;
  /** Whether this worker starts on a lease assigned to it now (false: it is left to expire and move). */
  readonly accepts: (lease: Lease) => boolean;
  /** This worker became the leader or stopped being it (the leader syncs shards). */
  readonly onLeadershipChanged?: (isLeader: boolean) => void;
  /** Called with every assignment round's plan while this worker leads (metrics, tests). */
  readonly onAssignmentPlanned?: (plan: LeaseAssignmentPlan) => void;
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
 * - {@link LeaseCleaner}: deletes the leases of finished and vanished shards (KCL `LeaseCleanupManager`),
 *   fed by the taker's listings and the shard syncer's (see {@link LeaseCoordinator.noteShards}).
 *
 * This class only wires the modules and orders their start and stop; every store call goes through the
 * {@link LeaseStore} port.
 */
export class LeaseCoordinator {
  readonly #held: HeldLeases;
  readonly #renewer: LeaseRenewer;
  readonly #taker: LeaseTaker;
  readonly #handoffs: LeaseHandoffs;
  readonly #writer: FencedLeaseWriter;
  readonly #cleaner: LeaseCleaner | undefined;
  readonly #leader: LeaderMode | undefined;

  constructor(options: LeaseCoordinatorOptions) {
    const { store, failoverTimeMs, clock, logger, onEvent } = options;
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
    const context = leaseLoopContext(options);
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
      onLeasesListed: (leases) => {
        this.#renewer.noteTableAnswered();
        this.#cleaner?.noteLeases(leases);
        options.onLeasesListed?.(leases);
      },
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
    this.#cleaner = options.cleanup
      ? new LeaseCleaner({
          ...options.cleanup,
          store,
          clock,
          logger,
          onEvent,
          onRoundError: onRoundError('cleanup'),
        })
      : undefined;
    this.#leader = options.leaderAssignment
      ? new LeaderMode(options, options.leaderAssignment, context, held, this.#handoffs, {
          onRoundError,
          onLeasesListed: (leases) => this.#cleaner?.noteLeases(leases),
          onTableAnswered: () => this.#renewer.noteTableAnswered(),
        })
      : undefined;
  }

  /** Whether this worker is the elected leader now (leader-based assignment only). */
  get isLeader(): boolean {
    return this.#leader?.membership.isLeader ?? false;
  }

  /** Starts renewing, taking (the first take round runs at once) and polling hand-offs to this worker. */
  start(): void {
    this.#renewer.start();
    if (this.#leader) this.#leader.start();
    else this.#taker.start();
    this.#handoffs.start();
    this.#cleaner?.start();
  }

  /** A complete, unfiltered listing of the stream's shards (lease cleanup tells gone shards by it). */
  noteShards(shards: readonly ListedShard[]): void {
    this.#cleaner?.noteShards(shards);
  }

  /** The last lease cleanup round's plan, if cleanup runs. */
  get lastCleanupPlan(): LeaseCleanupPlan | undefined {
    return this.#cleaner?.lastPlan;
  }

  /** Runs a take round soon (after a parent shard ended, for instance). */
  requestTakeRound(): void {
    if (this.#leader) this.#leader.requestAssignment();
    else this.#taker.wake();
  }

  /** Stops taking new leases (and gives up leadership); renewals go on. */
  async stopTaking(): Promise<void> {
    await Promise.all([this.#taker.stop(), this.#cleaner?.stop(), this.#leader?.stopTaking()]);
  }

  /** Stops every loop. Held leases are not released (see {@link release}). */
  async stop(): Promise<void> {
    // Leases were released before this step; a renewal stuck on the network is abandoned, not awaited.
    await Promise.all([
      this.#taker.stop(),
      this.#renewer.stop(),
      this.#handoffs.stop(),
      this.#cleaner?.stop(),
      this.#leader?.stop(),
    ]);
  }

  /** The renewer's record of success and failure (the health check reads it). */
  get renewalStatus(): RenewalStatus {
    return this.#renewer.renewalStatus;
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
    if (this.#leader) return this.#leader.hintPeers();
    return this.#handoffs.hintPeers(this.#taker.lastListing, this.#taker.observations);
  }
}

/** The loops of leader-based assignment: membership (heartbeat, election), discovery, and the assigner while leading. */
class LeaderMode {
  readonly membership: CoordinatorMembership;
  readonly #discovery: LeaseDiscovery;
  readonly #createAssigner: () => LeaseAssigner;
  readonly #settings: LeaderAssignmentSettings;
  readonly #context: LeaseLoopContext;
  #assigner: LeaseAssigner | undefined;
  /** The workers the assigner last saw (a resigning leader hints them so one takes over at once). */
  #lastWorkers: readonly string[] = [];
  #isStopping = false;

  constructor(
    options: LeaseCoordinatorOptions,
    settings: LeaderAssignmentSettings,
    context: LeaseLoopContext,
    held: HeldLeases,
    handoffs: LeaseHandoffs,
    hooks: {
      readonly onRoundError: (operation: string) => (error: unknown) => void;
      readonly onLeasesListed: (leases: readonly Lease[]) => void;
      readonly onTableAnswered: () => void;
    },
  ) {
    this.#settings = settings;
    this.#context = context;
    this.#discovery = new LeaseDiscovery({
      ...context,
      held,
      handoffs,
      // Half the assignment interval (KCL 3.x), about the failover time: a lease whose hint was missed is
      // found before the leader sees it unrenewed for a failover time and assigns it again.
      intervalMs: Math.max(100, options.leaseTakeIntervalMs / 2 - 25),
      accepts: settings.accepts,
      onRoundError: hooks.onRoundError('discovery'),
      onRoundDone: hooks.onTableAnswered,
    });
    this.#createAssigner = () =>
      new LeaseAssigner({
        ...context,
        coordinatorStore: settings.coordinatorStore,
        leaseTakeIntervalMs: options.leaseTakeIntervalMs,
        maxLeasesPerWorker: options.maxLeasesPerWorker,
        maxLeasesToStealAtOnce: options.maxLeasesToStealAtOnce,
        stealCooldownMs: options.stealCooldownMs,
        eligibility: settings.eligibility,
        onRoundError: hooks.onRoundError('assignment'),
        onLeasesListed: hooks.onLeasesListed,
        onAssigned: (receivers) => {
          if (receivers.has(context.workerId)) this.#discovery.wake();
        },
        ...(settings.onAssignmentPlanned ? { onRoundPlanned: settings.onAssignmentPlanned } : {}),
      });
    this.membership = new CoordinatorMembership({
      ...context,
      coordinatorStore: settings.coordinatorStore,
      // Every half failover time (at most every take interval): a dead leader is replaced about one
      // failover time after its last renewal, for one small read per worker and interval.
      electionIntervalMs: Math.min(options.leaseTakeIntervalMs, options.failoverTimeMs / 2),
      onRoundError: hooks.onRoundError('leader election'),
      onHint: () => this.wake(),
      onLeadershipChanged: (isLeader) => this.#onLeadershipChanged(isLeader),
    });
  }

  start(): void {
    this.membership.start();
    this.#discovery.start();
  }

  /** Something changed (a hint, a finished parent shard): look for assigned leases, assign, elect. */
  wake(): void {
    this.#discovery.wake();
    this.#assigner?.wake();
    if (!this.#isStopping) this.membership.wake();
  }

  /**
   * Leases may be ready to assign (a parent shard ended, a sync created leases): the leader runs a round
   * now; any other worker leaves a take hint on the leader item, which the leader's next renewal reads.
   */
  requestAssignment(): void {
    this.wake();
    if (!this.membership.isLeader && !this.#isStopping) {
      void this.membership.hintLeader(`${this.#context.workerId} ready ${Date.now()}`);
    }
  }

  async stopTaking(): Promise<void> {
    this.#isStopping = true;
    await Promise.all([this.#discovery.stop(), this.membership.resign()]);
    await this.#discovery.releaseUnstarted().catch((error: unknown) => {
      this.#context.logger.warn('Could not give back assigned leases not started on', { error });
    });
  }

  async stop(): Promise<void> {
    this.#isStopping = true;
    await Promise.all([this.#discovery.stop(), this.#assigner?.stop(), this.membership.stop()]);
  }

  /**
   * A stopping worker released its leases: the leader should assign them now. A resigning leader also
   * hints the workers it last saw, so one of them stands for leader at once.
   */
  async hintPeers(): Promise<void> {
    const { coordinatorStore } = this.#settings;
    const hint = `${this.#context.workerId} stopped ${Date.now()}`;
    await this.membership.hintLeader(hint);
    await Promise.all(
      this.#lastWorkers
        .filter((worker) => worker !== this.#context.workerId)
        .map((worker) =>
          coordinatorStore.updateLeaseMeta(workerItemKey(worker), { takeHint: hint }).catch(() => false),
        ),
    );
  }

  #onLeadershipChanged(isLeader: boolean): void {
    if (isLeader && !this.#isStopping) {
      this.#assigner ??= this.#createAssigner();
      this.#assigner.start();
    } else if (this.#assigner) {
      const assigner = this.#assigner;
      this.#assigner = undefined;
      this.#lastWorkers = assigner.lastWorkers;
      void assigner.stop();
    }
    this.#settings.onLeadershipChanged?.(isLeader);
  }
}
