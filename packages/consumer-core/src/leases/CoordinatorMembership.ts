import { SentinelCheckpoint, sentinelPosition } from '../checkpoint/ExtendedSequenceNumber.js';
import { Loop } from '../internal/Loop.js';
import { HeldLeases } from './HeldLeases.js';
import type { Lease } from './Lease.js';
import { type LeaseLoopContext, leaseLoopContext } from './LeaseLoopContext.js';
import { LeaseRenewer } from './LeaseRenewer.js';
import type { LeaseStore } from './LeaseStore.js';
import { LEADER_ITEM_KEY, workerItemKey } from './leaseAssignment.js';
import { isLeaseExpired, type LeaseObservations, observeLeases } from './leaseTaking.js';

/** Options of {@link CoordinatorMembership}. */
export interface CoordinatorMembershipOptions extends Omit<LeaseLoopContext, 'store'> {
  /** The coordinator table: a table of its own (the Java KCL 2.x reads every lease-table item as a lease). */
  readonly coordinatorStore: LeaseStore;
  /** How often the leader item is checked (and a lost heartbeat item claimed again). */
  readonly electionIntervalMs: number;
  /** This worker became the leader (`true`) or stopped being it (`false`). */
  readonly onLeadershipChanged: (isLeader: boolean) => void;
  /** A take hint arrived on the heartbeat or the leader item: the leader assigned something, or a peer stopped. */
  readonly onHint: () => void;
  /** An election round failed as a whole. */
  readonly onRoundError: (error: unknown) => void;
}

/**
 * This worker's membership of a leader-assigned fleet, kept in the coordinator table with the lease
 * protocol itself: a heartbeat item `worker:<id>` that only this worker takes and renews, and one
 * `leader` item that any worker takes once it is unowned or its counter stood still for the failover
 * time (the same expiry rule as leases, judged on the observer's clock). Both are renewed by a
 * {@link LeaseRenewer} of their own every `renewIntervalMs`, with the same retries and local expiry as
 * leases: a leader cut off from the table stops acting as leader before another may take over.
 */
export class CoordinatorMembership {
  readonly #options: CoordinatorMembershipOptions;
  readonly #held: HeldLeases;
  readonly #renewer: LeaseRenewer;
  readonly #loop: Loop;
  #leaderObservations: LeaseObservations = new Map();
  #isLeader = false;
  /** False once this worker resigned (it is stopping): it never stands for leader again. */
  #isCandidate = true;

  constructor(options: CoordinatorMembershipOptions) {
    this.#options = options;
    const { coordinatorStore: store, failoverTimeMs, clock, logger } = options;
    // Membership items are not shards: their gain and loss are reported by the leadership callback only.
    const onEvent = () => {};
    this.#held = new HeldLeases({
      failoverTimeMs,
      clock,
      logger,
      onEvent,
      onLeaseAcquired: (item) => {
        if (item.leaseKey === LEADER_ITEM_KEY) this.#setLeader(true);
      },
      onLeaseLost: (itemKey) => {
        if (itemKey === LEADER_ITEM_KEY) this.#setLeader(false);
        else this.#loop.wake(); // the heartbeat: claim it again at once
      },
    });
    this.#renewer = new LeaseRenewer({
      ...leaseLoopContext({ ...options, store, onEvent }),
      held: this.#held,
      onRoundError: options.onRoundError,
      noticeHandoff: async () => false,
      onTakeHint: options.onHint,
    });
    this.#loop = new Loop(options.electionIntervalMs, () => this.electionRound(), options.onRoundError);
  }

  /** Whether this worker holds the leader item now. */
  get isLeader(): boolean {
    return this.#isLeader && this.#held.isHeld(LEADER_ITEM_KEY);
  }

  /** Starts: claims the heartbeat item and stands for leader at once, then every election interval. */
  start(): void {
    this.#renewer.start();
    this.#loop.start(false);
  }

  /** Checks the leader item soon. */
  wake(): void {
    this.#loop.wake();
  }

  /** One round: claim the heartbeat item if not held; take the leader item if it is free or expired. */
  async electionRound(): Promise<void> {
    const { workerId, clock, failoverTimeMs } = this.#options;
    const signal = this.#loop.signal;
    const heartbeatKey = workerItemKey(workerId);
    if (!this.#held.isHeld(heartbeatKey)) {
      const item = await this.#readOrCreate(heartbeatKey, signal);
      if (item) await this.#claim(item, signal);
    }
    if (!this.#isCandidate || this.#held.isHeld(LEADER_ITEM_KEY)) return;
    const leader = await this.#readOrCreate(LEADER_ITEM_KEY, signal);
    if (!leader) return;
    const nowMs = clock.nowMs();
    this.#leaderObservations = observeLeases(this.#leaderObservations, [leader], nowMs);
    const isFree =
      leader.leaseOwner === undefined ||
      leader.leaseOwner === workerId || // this worker id's earlier life
      isLeaseExpired(this.#leaderObservations.get(LEADER_ITEM_KEY), nowMs, failoverTimeMs);
    if (isFree) await this.#claim(leader, signal);
  }

  /**
   * Gives up leadership for good (a stopping worker): stops renewing the leader item and releases it, so
   * another worker takes over at its next election round instead of after the failover time, and never
   * stands for leader again while its shards drain.
   */
  async resign(): Promise<void> {
    this.#isCandidate = false;
    await this.#release(LEADER_ITEM_KEY);
    this.#setLeader(false);
  }

  /** Stops: releases the leader and heartbeat items (best effort) and stops renewing. */
  async stop(): Promise<void> {
    await this.#loop.stop(1_000);
    await this.resign();
    await this.#release(workerItemKey(this.#options.workerId));
    await this.#renewer.stop();
  }

  /** Leaves a take hint on the leader item (a stopping worker released leases: assign them now). */
  async hintLeader(hint: string): Promise<void> {
    await this.#options.coordinatorStore
      .updateLeaseMeta(LEADER_ITEM_KEY, { takeHint: hint })
      .catch(() => false);
  }

  async #readOrCreate(itemKey: string, signal: AbortSignal): Promise<Lease | undefined> {
    const { coordinatorStore: store } = this.#options;
    const found = await store.getLease(itemKey, signal);
    if (found) return found;
    await store.createLeaseIfNotExists(
      {
        leaseKey: itemKey,
        checkpoint: sentinelPosition(SentinelCheckpoint.TrimHorizon),
        parentShardIds: [],
        hashKeyRange: undefined,
      },
      signal,
    );
    return store.getLease(itemKey, signal);
  }

  async #claim(item: Lease, signal: AbortSignal): Promise<void> {
    const sentAtMs = this.#options.clock.nowMs();
    const taken = await this.#options.coordinatorStore.takeLease(item, this.#options.workerId, signal);
    if (!taken) return; // another worker was faster
    if (taken.leaseKey === LEADER_ITEM_KEY && !this.#isCandidate) {
      // Resigned while this take was on its way: give it back at once.
      await this.#options.coordinatorStore.releaseLease(taken).catch(() => false);
      return;
    }
    this.#held.acquire({
      lease: taken,
      sentAtMs,
      takeHint: undefined,
      previousOwner: item.leaseOwner,
      stolen: false,
    });
  }

  async #release(itemKey: string): Promise<void> {
    const held = this.#held.get(itemKey);
    if (!held) return;
    await held.mutex.run(async () => {
      this.#held.forget(itemKey);
      await this.#options.coordinatorStore.releaseLease(held.lease).catch((error: unknown) => {
        this.#options.logger.debug('Could not release a coordinator item', { itemKey, error });
      });
    });
  }

  #setLeader(isLeader: boolean): void {
    if (this.#isLeader === isLeader) return;
    this.#isLeader = isLeader;
    this.#options.logger.info(
      isLeader ? 'This worker is now the lease leader' : 'This worker is no longer the lease leader',
      {
        workerId: this.#options.workerId,
      },
    );
    this.#options.onLeadershipChanged(isLeader);
  }
}
