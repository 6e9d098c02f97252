import { isRetriableError } from '@shardline/common';
import type { ConsumerEventListener, LeaseLossReason } from '../events.js';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../internal/logger.js';
import { Mutex } from '../internal/Mutex.js';
import type { Lease } from './Lease.js';

/**
 * One lease this worker holds, as it last wrote it. Its writes (renewal, checkpoint, release) run one at
 * a time under {@link HeldLease.mutex}, so they never fail each other's condition.
 */
export class HeldLease {
  readonly mutex = new Mutex();
  #lease: Lease;
  #lastWriteSentAtMs: number;
  #isLost = false;
  #hasUncertainWrite = false;
  #isHandingOff = false;
  #takeHint: string | undefined;

  constructor(lease: Lease, sentAtMs: number, takeHint: string | undefined) {
    this.#lease = lease;
    this.#lastWriteSentAtMs = sentAtMs;
    this.#takeHint = takeHint;
  }

  /** The lease as this worker last wrote (or read back) it: the fencing token of its next write. */
  get lease(): Lease {
    return this.#lease;
  }

  /** When the last successful counter-bumping write (take, renew, checkpoint) was sent. */
  get lastWriteSentAtMs(): number {
    return this.#lastWriteSentAtMs;
  }

  /** Whether it was lost (taken, fenced, or expired locally); a lost lease is never held again. */
  get isLost(): boolean {
    return this.#isLost;
  }

  /** Another worker asked for it: `lease.checkpointOwner` is this worker, `lease.leaseOwner` the next. */
  get isHandingOff(): boolean {
    return this.#isHandingOff;
  }

  /** A counter-bumping write sent at `sentAtMs` succeeded: the holding time starts again from then. */
  wrote(lease: Lease, sentAtMs: number): void {
    this.#lease = lease;
    this.#lastWriteSentAtMs = sentAtMs;
  }

  /** The stored lease read back after a failed condition (own write landed): the next write fences on it. */
  adopt(lease: Lease): void {
    this.#lease = lease;
  }

  /** Another worker asked for the lease: from now on its writes are fenced by `checkpointOwner`. */
  startHandingOff(stored: Lease): void {
    this.#lease = stored;
    this.#isHandingOff = true;
  }

  /**
   * Remembers the take hint last seen on the lease. @returns whether it changed (a peer stopped and
   * released its leases: a take round should run now).
   */
  noticeTakeHint(hint: string | undefined): boolean {
    if (hint === undefined || hint === this.#takeHint) return false;
    this.#takeHint = hint;
    return true;
  }

  /** Runs a counter-bumping write, remembering when it failed without an answer (it may have landed). */
  async trackUncertain<T>(write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      // A condition failure keeps the flag: it may be this very write's predecessor that landed.
      if (result) this.#hasUncertainWrite = false;
      return result;
    } catch (error) {
      if (isRetriableError(error)) this.#hasUncertainWrite = true;
      throw error;
    }
  }

  /** Whether a write failed without an answer since the last one that succeeded; clears the flag. */
  takeUncertainWrite(): boolean {
    const had = this.#hasUncertainWrite;
    this.#hasUncertainWrite = false;
    return had;
  }

  /** Marks it lost (through {@link HeldLeases.markLost}). @returns false when it already was. */
  loseOnce(): boolean {
    if (this.#isLost) return false;
    this.#isLost = true;
    return true;
  }
}

/** Options of {@link HeldLeases}. */
export interface HeldLeasesOptions {
  readonly failoverTimeMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onEvent: ConsumerEventListener;
  /** A lease was taken: start processing it. */
  readonly onLeaseAcquired: (lease: Lease) => void;
  /** A lease was lost (taken by another worker or expired locally): stop delivering it now. */
  readonly onLeaseLost: (leaseKey: string) => void;
}

/** How a lease came to be held (for the `LEASE_TAKEN` event). */
export interface Acquisition {
  /** The lease as written by this worker's take or renewal. */
  readonly lease: Lease;
  /** When that write was sent. */
  readonly sentAtMs: number;
  /** The take hint the lease carried when this worker decided to take it. */
  readonly takeHint: string | undefined;
  readonly previousOwner: string | undefined;
  readonly stolen: boolean;
}

/**
 * The leases this worker holds: the one owner of that state. The renewer, the taker, the hand-off and
 * the fenced writes act on it through this interface.
 *
 * A lease counts as held only while its last successful write was sent less than the failover time
 * (minus a safety margin) ago: another worker cannot take it earlier than one failover time after it
 * first saw that counter value, which is after the write was sent. So a worker cut off from the table
 * stops delivering before anyone else may start.
 */
export class HeldLeases {
  readonly #options: HeldLeasesOptions;
  readonly #held = new Map<string, HeldLease>();

  constructor(options: HeldLeasesOptions) {
    this.#options = options;
  }

  /** How long before the failover time a held lease is treated as possibly lost. */
  get safetyMarginMs(): number {
    return Math.max(this.#options.failoverTimeMs / 10, 50);
  }

  /** The entry of a lease, lost-by-expiry or not (writes check {@link isHeld} under its mutex). */
  get(leaseKey: string): HeldLease | undefined {
    return this.#held.get(leaseKey);
  }

  /** Whether there is an entry (held, or expired locally but not noticed yet). */
  has(leaseKey: string): boolean {
    return this.#held.has(leaseKey);
  }

  /** Keys of every entry, without checking expiry. */
  keys(): string[] {
    return [...this.#held.keys()];
  }

  /** Keys of the leases this worker holds (and has not lost). */
  heldLeaseKeys(): string[] {
    return this.keys().filter((key) => this.isHeld(key));
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
      this.markLost(leaseKey, held, 'EXPIRED_LOCALLY');
      return false;
    }
    return true;
  }

  /** A take (or the renewal that ends a hand-off to this worker) succeeded: hold it and start on it. */
  acquire({ lease, sentAtMs, takeHint, previousOwner, stolen }: Acquisition): void {
    this.#held.set(lease.leaseKey, new HeldLease(lease, sentAtMs, takeHint));
    this.#options.onEvent({ type: 'LEASE_TAKEN', leaseKey: lease.leaseKey, previousOwner, stolen });
    this.#options.onLeaseAcquired(lease);
  }

  /** Stops holding a lease being released (no event: the release reports its outcome). */
  forget(leaseKey: string): void {
    this.#held.delete(leaseKey);
  }

  /** The lease is gone: stop holding it, report it, and stop its shard. */
  markLost(leaseKey: string, held: HeldLease, reason: LeaseLossReason): void {
    if (!held.loseOnce()) return;
    this.#held.delete(leaseKey);
    this.#options.logger.warn('Lease lost', { leaseKey, reason });
    this.#options.onEvent({ type: 'LEASE_LOST', leaseKey, reason });
    this.#options.onLeaseLost(leaseKey);
  }
}
