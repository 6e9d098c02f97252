import { isRetriableError, retry, withDeadline } from '@shardline/common';
import { asError, type ConsumerEventListener } from '../events.js';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../internal/logger.js';
import type { HeldLease, HeldLeases } from './HeldLeases.js';
import type { Lease } from './Lease.js';
import type { CheckpointWriteOutcome, LeaseHandle } from './LeaseHandle.js';
import { adoptOwnLandedWrite, CounterAdoptedError } from './LeaseRenewer.js';
import type { CheckpointUpdate, LeaseStore, PrepareCheckpointUpdate } from './LeaseStore.js';
import { nextShardFailure, type ShardFailureRecord } from './shardFailure.js';

/**
 * How a failed session ended on the table: `RECORDED` (released with the failure counted, maybe
 * halted), `RELEASED` (a store without failure records: released, nothing counted), `LEASE_LOST` (no
 * longer ours: nothing written), `EXPIRING` (the table failed: the lease is no longer renewed and
 * expires after the failover time).
 */
export type ShardFailureOutcome =
  | { readonly kind: 'RECORDED'; readonly failure: ShardFailureRecord }
  | { readonly kind: 'RELEASED' | 'LEASE_LOST' | 'EXPIRING' };

/** Options of {@link FencedLeaseWriter}. */
export interface FencedLeaseWriterOptions {
  readonly store: LeaseStore;
  readonly held: HeldLeases;
  readonly failoverTimeMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onEvent: ConsumerEventListener;
  /**
   * After a write failed its condition: whether another worker asked for the lease (the write is then
   * tried again with the hand-off fence).
   */
  readonly noticeHandoff: (held: HeldLease, signal: AbortSignal) => Promise<boolean>;
  /** The signal for that check when the caller gave none (the renewal loop's). */
  readonly fallbackSignal: () => AbortSignal;
  /** Failed sessions in a row at one checkpoint before the shard is halted. @defaultValue 5 */
  readonly maxShardFailures?: number;
}

/**
 * The writes a shard consumer asks for — checkpoint, prepared checkpoint, release — fenced by the held
 * lease's counter and serialized with the renewals of the same lease (they hold its mutex), so they
 * never fail each other's condition. {@link handleFor} hands them out per lease as a {@link LeaseHandle}.
 */
export class FencedLeaseWriter {
  readonly #options: FencedLeaseWriterOptions;

  constructor(options: FencedLeaseWriterOptions) {
    this.#options = options;
  }

  /** The one handle of a lease a shard consumer gets. */
  handleFor(leaseKey: string): LeaseHandle {
    return {
      leaseKey,
      isHeld: () => this.#options.held.isHeld(leaseKey),
      checkpoint: (update) => this.checkpoint(leaseKey, update),
      prepare: (update) => this.prepareCheckpoint(leaseKey, update),
      release: () => this.release(leaseKey),
      fail: (error) => this.fail(leaseKey, error),
    };
  }

  /**
   * Ends a failed session: releases the lease and counts the failure in the lease item (fenced by the
   * held counter, serialized with the renewals), halting the shard once `maxShardFailures` failures in a
   * row happened at its checkpoint. The lease is no longer renewed from the start, so when the table
   * keeps failing it expires after the failover time (never held without being worked on). Never throws.
   */
  async fail(leaseKey: string, error: Error, signal?: AbortSignal): Promise<ShardFailureOutcome> {
    const held = this.#options.held.get(leaseKey);
    if (!held) return { kind: 'LEASE_LOST' };
    return held.mutex.run(async (): Promise<ShardFailureOutcome> => {
      this.#options.held.forget(leaseKey);
      if (held.isLost) return { kind: 'LEASE_LOST' };
      const { store } = this.#options;
      const failure = nextShardFailure(held.lease, error, this.#options.maxShardFailures ?? 5, new Date());
      const record = store.recordShardFailure?.bind(store);
      try {
        const written = await retry(
          () =>
            withDeadline(
              record ? 'recordShardFailure' : 'release',
              this.#options.failoverTimeMs,
              (callSignal) =>
                record ? record(held.lease, failure, callSignal) : store.releaseLease(held.lease, callSignal),
              signal,
            ),
          { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1_000, signal },
        );
        if (!written) return { kind: 'LEASE_LOST' };
        this.#options.onEvent({ type: 'LEASE_RELEASED', leaseKey });
        return record ? { kind: 'RECORDED', failure } : { kind: 'RELEASED' };
      } catch (writeError) {
        this.#options.logger.warn('Recording a shard failure failed; the lease will expire instead', {
          leaseKey,
          error: writeError,
        });
        this.#options.onEvent({ type: 'ERROR', shardId: leaseKey, error: asError(writeError) });
        return { kind: 'EXPIRING' };
      }
    });
  }

  /**
   * Writes a checkpoint with the held lease's counter as fencing token. Retriable failures are retried
   * while the lease is held.
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

  /**
   * Releases a held lease (owner removed, counter bumped) so any worker can take it at once, and stops
   * renewing it; a lease another worker asked for is handed to it instead. @returns whether the table
   * was updated.
   */
  async release(leaseKey: string, signal?: AbortSignal): Promise<boolean> {
    const held = this.#options.held.get(leaseKey);
    if (!held) return false;
    return held.mutex.run(async () => {
      this.#options.held.forget(leaseKey);
      if (held.isLost) return false;
      const { store } = this.#options;
      const handoff =
        held.isHandingOff && store.completeHandoff ? store.completeHandoff.bind(store) : undefined;
      try {
        const released = await retry(
          () =>
            withDeadline(
              handoff ? 'completeHandoff' : 'release',
              this.#options.failoverTimeMs,
              (callSignal) =>
                handoff ? handoff(held.lease, callSignal) : store.releaseLease(held.lease, callSignal),
              signal,
            ),
          {
            maxAttempts: 3,
            initialDelayMs: 100,
            maxDelayMs: 1_000,
            signal,
          },
        );
        if (released && handoff) {
          this.#options.onEvent({ type: 'LEASE_HANDED_OFF', leaseKey, nextOwner: held.lease.leaseOwner! });
        } else if (released) {
          this.#options.onEvent({ type: 'LEASE_RELEASED', leaseKey });
        }
        return released;
      } catch (error) {
        // It expires on its own after the failover time: slower for the next worker, never unsafe.
        this.#options.logger.warn('Releasing a lease failed; it will expire instead', { leaseKey, error });
        this.#options.onEvent({ type: 'ERROR', shardId: leaseKey, error: asError(error) });
        return false;
      }
    });
  }

  async #fencedWrite(
    leaseKey: string,
    operation: string,
    write: (lease: Lease, signal: AbortSignal) => Promise<Lease | undefined>,
    signal: AbortSignal | undefined,
  ): Promise<CheckpointWriteOutcome> {
    const { store, held: heldLeases } = this.#options;
    const held = heldLeases.get(leaseKey);
    if (!held) return 'LEASE_LOST';
    return held.mutex.run(async () => {
      return retry(
        async () => {
          if (!heldLeases.isHeld(leaseKey)) return 'LEASE_LOST' as const;
          const sentAtMs = this.#options.clock.nowMs();
          const updated = await held.trackUncertain(() =>
            withDeadline(
              operation,
              this.#options.failoverTimeMs,
              (callSignal) => write(held.lease, callSignal),
              signal,
            ),
          );
          if (!updated) {
            if (await adoptOwnLandedWrite(store, held, signal)) throw new CounterAdoptedError();
            // Asked for by another worker: write again with the hand-off fence (checkpointOwner = us).
            if (await this.#options.noticeHandoff(held, signal ?? this.#options.fallbackSignal()))
              throw new CounterAdoptedError();
            heldLeases.markLost(leaseKey, held, 'CHECKPOINT_FENCED');
            return 'LEASE_LOST' as const;
          }
          held.wrote(updated, sentAtMs);
          return 'WRITTEN' as const;
        },
        {
          // The write holds the lease's mutex (renewals wait): back off no longer than a renewal would,
          // so a throttled table does not starve the renewals of a healthy lease.
          maxAttempts: 8,
          initialDelayMs: 50,
          maxDelayMs: Math.max(100, this.#options.failoverTimeMs / 10),
          signal,
          isRetriable: (error) => isRetriableError(error) && heldLeases.isHeld(leaseKey),
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
}
