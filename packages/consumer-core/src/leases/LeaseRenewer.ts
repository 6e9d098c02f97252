import { isRetriableError, retry, withDeadline } from '@shardline/common';
import { ShardlineError } from '../errors.js';
import { asError } from '../events.js';
import { Loop } from '../internal/Loop.js';
import type { HeldLease, HeldLeases } from './HeldLeases.js';
import type { LeaseLoopContext } from './LeaseLoopContext.js';
import { type LeaseStore, takeHintOf } from './LeaseStore.js';

/** Signals a retry after adopting the counter of this worker's own write that had landed. */
export class CounterAdoptedError extends ShardlineError {
  constructor() {
    super('The previous write had landed; retrying with its counter.', { retriable: true });
  }
}

/**
 * After a write that failed without an answer, a condition failure may be this worker's own write
 * having landed (counter one ahead, owner still this worker). Then the stored counter is adopted and
 * the caller tries again. @returns whether it was adopted.
 */
export async function adoptOwnLandedWrite(
  store: LeaseStore,
  held: HeldLease,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (!held.takeUncertainWrite()) return false;
  const stored = await store.getLease(held.lease.leaseKey, signal);
  if (
    stored === undefined ||
    stored.leaseOwner !== held.lease.leaseOwner ||
    stored.leaseCounter !== held.lease.leaseCounter + 1 ||
    stored.checkpointOwner !== held.lease.checkpointOwner
  ) {
    return false;
  }
  held.adopt(stored);
  return true;
}

/** The renewer's record of success and failure (see {@link LeaseRenewer.renewalStatus}). */
export interface RenewalStatus {
  readonly lastRenewedAtMs: number | undefined;
  readonly failingSinceMs: number | undefined;
}

/** Options of {@link LeaseRenewer}. */
export interface LeaseRenewerOptions extends LeaseLoopContext {
  readonly held: HeldLeases;
  /** A renewal round failed as a whole. */
  readonly onRoundError: (error: unknown) => void;
  /**
   * After a renewal failed its condition: whether another worker asked for the lease (the lease then
   * stays held while its shard winds down).
   */
  readonly noticeHandoff: (held: HeldLease, signal: AbortSignal) => Promise<boolean>;
  /** A renewal read a new take hint: a peer stopped and released its leases. */
  readonly onTakeHint: () => void;
}

/**
 * Renews every held lease each `renewIntervalMs` (KCL `LeaseRenewer`), keeps trying a throttled table
 * until the lease would expire locally, adopts its own writes whose answer was lost, and checks expiry
 * on a timer of its own so a renewal stuck on the network never keeps a lease "held".
 */
export class LeaseRenewer {
  readonly #options: LeaseRenewerOptions;
  readonly #loop: Loop;
  #expiryTimer: NodeJS.Timeout | undefined;
  #lastRenewedAtMs: number | undefined;
  #failingSinceMs: number | undefined;

  constructor(options: LeaseRenewerOptions) {
    this.#options = options;
    // Fixed rate, as the KCL's renewer: with many leases a round takes a while, and waiting a full
    // interval after it would stretch the gap between renewals of a lease towards the failover time.
    this.#loop = new Loop(options.renewIntervalMs, () => this.renewAll(), options.onRoundError, {
      fixedRate: true,
      now: () => options.clock.nowMs(),
    });
  }

  /** Aborted when renewal stops: the signal of the renewal loop's calls. */
  get signal(): AbortSignal {
    return this.#loop.signal;
  }

  /**
   * When a renewal last succeeded, and since when they fail (the first failed attempt after that
   * success; `undefined` while they succeed), on the clock's milliseconds. Read by the health check.
   */
  get renewalStatus(): RenewalStatus {
    return { lastRenewedAtMs: this.#lastRenewedAtMs, failingSinceMs: this.#failingSinceMs };
  }

  /**
   * The lease table answered a listing while this worker holds no lease: nothing is left to renew, and
   * renewals are no longer failing (else a worker whose leases expired during an outage would be
   * reported failing after the table came back).
   */
  noteTableAnswered(): void {
    if (this.#options.held.keys().length === 0) this.#failingSinceMs = undefined;
  }

  #noteFailure(): void {
    this.#failingSinceMs ??= this.#options.clock.nowMs();
  }

  /** Starts renewing (the first round after one interval) and the expiry check. */
  start(): void {
    const { held } = this.#options;
    this.#loop.start(true);
    // A renewal stuck on a request that never returns must not keep a lease "held": check expiry on
    // its own timer as well.
    this.#expiryTimer ??= setInterval(
      () => {
        for (const key of held.keys()) held.isHeld(key);
      },
      Math.max(25, Math.floor(held.safetyMarginMs / 2)),
    );
    this.#expiryTimer.unref?.();
  }

  /** Stops the expiry check at once (the loop stops with {@link stop}). */
  stopExpiryCheck(): void {
    if (this.#expiryTimer) clearInterval(this.#expiryTimer);
    this.#expiryTimer = undefined;
  }

  /** Stops renewing; a renewal stuck on the network is abandoned after a second, not awaited. */
  async stop(): Promise<void> {
    this.stopExpiryCheck();
    await this.#loop.stop(1_000);
  }

  /** One renewal round over every held lease. */
  async renewAll(): Promise<void> {
    await Promise.all(this.#options.held.keys().map((key) => this.#renew(key)));
  }

  async #renew(leaseKey: string): Promise<void> {
    const { store, clock, failoverTimeMs, held: heldLeases } = this.#options;
    const held = heldLeases.get(leaseKey);
    if (!held) return;
    const signal = this.#loop.signal;
    await held.mutex.run(async () => {
      if (!heldLeases.isHeld(leaseKey)) return;
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
            const leftMs = held.lastWriteSentAtMs + failoverTimeMs - heldLeases.safetyMarginMs - sentAtMs;
            const renewed = await held.trackUncertain(() =>
              withDeadline('renew', leftMs, (callSignal) => store.renewLease(held.lease, callSignal), signal),
            );
            if (!renewed) {
              if (await adoptOwnLandedWrite(store, held, signal)) throw new CounterAdoptedError();
              if (await this.#options.noticeHandoff(held, signal)) return;
              heldLeases.markLost(leaseKey, held, 'TAKEN');
              return;
            }
            held.wrote(renewed, sentAtMs);
            this.#lastRenewedAtMs = clock.nowMs();
            this.#failingSinceMs = undefined;
            // A peer stopped and released its leases: take them now.
            if (held.noticeTakeHint(takeHintOf(renewed))) this.#options.onTakeHint();
          },
          {
            // A throttled or briefly unavailable table must not cost a healthy worker its leases: keep
            // trying until the lease would expire locally anyway.
            maxAttempts: Number.POSITIVE_INFINITY,
            initialDelayMs: 50,
            maxDelayMs: Math.max(100, failoverTimeMs / 10),
            signal,
            isRetriable: (error) => isRetriableError(error) && heldLeases.isHeld(leaseKey),
            onRetry: (error, attempt, delayMs) => {
              this.#noteFailure();
              this.#options.onEvent({
                type: 'RETRY',
                operation: 'renew',
                shardId: leaseKey,
                attempt,
                delayMs,
                error: asError(error),
              });
            },
          },
        );
      } catch (error) {
        if (signal.aborted) return;
        this.#noteFailure();
        this.#options.logger.warn('Renewing a lease failed', { leaseKey, error });
        this.#options.onEvent({ type: 'ERROR', shardId: leaseKey, error: asError(error) });
        heldLeases.isHeld(leaseKey);
      }
    });
  }
}
