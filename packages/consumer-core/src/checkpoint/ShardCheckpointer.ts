import { backoffDelayMs, isRetriableError, sleepUnlessAborted } from '@shardline/common';
import { CheckpointRejectedError, LeaseLostError, RetriesExhaustedError } from '../errors.js';
import type { Clock } from '../internal/clock.js';
import type { CheckpointWriteOutcome, LeaseHandle } from '../leases/LeaseHandle.js';
import {
  compareExtendedSequenceNumbers,
  type ExtendedSequenceNumber,
  formatPosition,
  SentinelCheckpoint,
  sentinelPosition,
} from './ExtendedSequenceNumber.js';

/**
 * Backoff between failed checkpoint writes of one shard (equal jitter, doubling). Two attempts of one
 * shard are never closer than half of `initialDelayMs`, so a failing table sees at most
 * 2000 / `initialDelayMs` write attempts per second per shard — 10 with these values — and fewer as the
 * waits double.
 */
export const CHECKPOINT_RETRY_BACKOFF = { initialDelayMs: 200, maxDelayMs: 5_000 } as const;

/** Options of {@link ShardCheckpointer}. */
export interface ShardCheckpointerOptions {
  readonly shardId: string;
  /** The checkpoint stored when processing started. */
  readonly initialCheckpoint: ExtendedSequenceNumber;
  /** The shard's lease: checkpoints and prepared checkpoints are written through it, fenced. */
  readonly lease: Pick<LeaseHandle, 'checkpoint' | 'prepare'>;
  /** Writes happen at most once per this interval; 0 writes at once. */
  readonly checkpointIntervalMs: number;
  /**
   * How long one write keeps retrying a failing table before it gives up with
   * {@link RetriesExhaustedError} (the failover time: by then the lease expires anyway).
   */
  readonly retryBudgetMs: number;
  /** Backoff between failed attempts. @defaultValue {@link CHECKPOINT_RETRY_BACKOFF} */
  readonly backoff?: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly clock: Clock;
  /** A write attempt failed and is tried again after `delayMs`. */
  readonly onRetry: (error: unknown, attempt: number, delayMs: number) => void;
  /** A write gave up (the table kept failing, or the error cannot be retried). */
  readonly onGiveUp: (error: RetriesExhaustedError, position: ExtendedSequenceNumber) => void;
  /** A checkpoint was written. */
  readonly onWritten: (checkpoint: ExtendedSequenceNumber) => void;
}

/**
 * One shard's checkpoint: what the application asked for (`requested`) and what is durable (`written`).
 *
 * A checkpoint never moves backwards and never passes the last delivered record. Writes are coalesced:
 * at most one per `checkpointIntervalMs`, one at a time, the newest position winning; `flush()` writes
 * now (before release, at shard end and at stop). A failed write is retried with capped, jittered
 * backoff ({@link CHECKPOINT_RETRY_BACKOFF}) shared by every write of the shard, outside the lease's
 * mutex (renewals go on in between), until `retryBudgetMs` is spent or the lease is lost.
 */
export class ShardCheckpointer {
  readonly #options: ShardCheckpointerOptions;
  #delivered: ExtendedSequenceNumber | undefined;
  #requested: ExtendedSequenceNumber;
  #written: ExtendedSequenceNumber;
  #lastWriteAtMs = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #isClosed = false;
  #isLeaseLost = false;
  /** Aborted by close(): writes waiting for their next attempt give up. */
  readonly #closed = new AbortController();
  /** Failed attempts in a row (any write of this shard); 0 after a success. */
  #failuresInRow = 0;
  /** No write attempt before this time (monotonic ms): the shared backoff. */
  #nextAttemptAtMs = Number.NEGATIVE_INFINITY;
  /** The last background write's give-up, reported by the next checkpoint() until a write succeeds. */
  #unreportedFailure: RetriesExhaustedError | undefined;
  #attemptCount = 0;
  #lastAttemptAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: ShardCheckpointerOptions) {
    this.#options = options;
    this.#requested = options.initialCheckpoint;
    this.#written = options.initialCheckpoint;
  }

  /** The newest position the application checkpointed (maybe not written yet). */
  get requested(): ExtendedSequenceNumber {
    return this.#requested;
  }

  /** The newest position known to be in the lease table. */
  get written(): ExtendedSequenceNumber {
    return this.#written;
  }

  /** Whether a write found the lease gone. */
  get isLeaseLost(): boolean {
    return this.#isLeaseLost;
  }

  /** Write attempts made so far (checkpoints, prepared checkpoints, `SHARD_END`). */
  get attemptCount(): number {
    return this.#attemptCount;
  }

  /** Records that every record up to `position` was delivered to the application. */
  markDelivered(position: ExtendedSequenceNumber): void {
    this.#delivered = position;
  }

  /** Whether every delivered record is covered by the requested checkpoint. */
  get isCaughtUp(): boolean {
    return (
      this.#delivered === undefined || compareExtendedSequenceNumbers(this.#requested, this.#delivered) >= 0
    );
  }

  /**
   * Asks for a checkpoint at `position` (that record and everything before it is handled). A position
   * at or before the current one is not written again. With interval 0 it resolves once `position` (or
   * a later one) is in the table; with an interval, once recorded.
   *
   * @throws {@link CheckpointRejectedError} when `position` is after the last delivered record.
   * @throws {@link LeaseLostError} when the lease is gone (or the session ended): nothing was written.
   * @throws {@link RetriesExhaustedError} when the write kept failing (interval 0), or — with an
   *   interval — when the last background write gave up and none succeeded since (the position is
   *   recorded all the same and written with the next write).
   */
  async checkpoint(position: ExtendedSequenceNumber): Promise<void> {
    this.#checkDelivered(position);
    if (compareExtendedSequenceNumbers(position, this.#requested) > 0) {
      if (this.#isLeaseLost || this.#isClosed) throw this.#lostError('checkpoint');
      this.#requested = position;
    }
    if (compareExtendedSequenceNumbers(position, this.#written) <= 0) return;
    if (this.#isLeaseLost || this.#isClosed) throw this.#lostError('checkpoint');
    if (this.#options.checkpointIntervalMs === 0) {
      await this.#flushThrough(position);
      return;
    }
    this.#schedule();
    const failure = this.#unreportedFailure;
    if (failure) {
      this.#unreportedFailure = undefined;
      throw failure;
    }
  }

  #checkDelivered(position: ExtendedSequenceNumber): void {
    if (this.#delivered === undefined || compareExtendedSequenceNumbers(position, this.#delivered) > 0) {
      throw new CheckpointRejectedError(
        this.#options.shardId,
        `Cannot checkpoint shard ${this.#options.shardId} at ${formatPosition(position)}: the last delivered record is ${
          this.#delivered ? formatPosition(this.#delivered) : '(none)'
        }. A checkpoint may never pass a record that was not delivered.`,
      );
    }
  }

  /**
   * Records a prepared checkpoint at `position` with optional `state`, at once (not coalesced): the
   * first phase of a two-phase checkpoint. The next checkpoint clears it. Resolves once written.
   *
   * @throws {@link CheckpointRejectedError} when `position` is after the last delivered record or
   *   before the requested checkpoint; {@link LeaseLostError} when the lease is gone (nothing written);
   *   {@link RetriesExhaustedError} when the write kept failing.
   */
  async prepare(position: ExtendedSequenceNumber, state: Uint8Array | undefined): Promise<void> {
    this.#checkDelivered(position);
    if (compareExtendedSequenceNumbers(position, this.#requested) < 0) {
      throw new CheckpointRejectedError(
        this.#options.shardId,
        `Cannot prepare a checkpoint of shard ${this.#options.shardId} at ${formatPosition(position)}: it is before the checkpoint ${formatPosition(this.#requested)}.`,
      );
    }
    if (this.#isLeaseLost || this.#isClosed) throw this.#lostError('prepared checkpoint');
    await this.#withRetries(
      'prepared checkpoint',
      position,
      () => this.#options.lease.prepare({ pendingCheckpoint: position, pendingCheckpointState: state }),
      () => undefined,
    );
  }

  /**
   * Writes the requested checkpoint now if it is ahead of the written one. Never throws: a failure is
   * reported (`onGiveUp`) and, with an interval, retried later.
   */
  async flush(): Promise<void> {
    this.#clearTimer();
    try {
      await this.#flushThrough(this.#requested);
    } catch (error) {
      if (error instanceof RetriesExhaustedError) {
        this.#unreportedFailure = error;
        if (this.#options.checkpointIntervalMs > 0) this.#schedule();
      }
    }
  }

  /** Writes until `target` (or a later position) is in the table. */
  async #flushThrough(target: ExtendedSequenceNumber): Promise<void> {
    while (compareExtendedSequenceNumbers(target, this.#written) > 0) {
      if (this.#isLeaseLost) throw this.#lostError('checkpoint');
      if (this.#writing) {
        // Another caller's write: wait for it, then write what it did not cover (its failure is its own).
        await this.#writing.catch(() => undefined);
        continue;
      }
      const next = this.#requested;
      this.#writing = this.#withRetries(
        'checkpoint',
        next,
        () => this.#options.lease.checkpoint({ checkpoint: next }),
        () => {
          if (compareExtendedSequenceNumbers(next, this.#written) > 0) this.#written = next;
          this.#unreportedFailure = undefined;
          this.#options.onWritten(next);
        },
      ).finally(() => {
        this.#writing = undefined;
      });
      await this.#writing;
    }
  }

  /**
   * Writes `SHARD_END` (after flushing the application's last checkpoint), with the children's ids.
   * @returns whether it was written.
   */
  async writeShardEnd(childShardIds: readonly string[]): Promise<boolean> {
    const end = sentinelPosition(SentinelCheckpoint.ShardEnd);
    try {
      await this.#flushThrough(this.#requested);
      while (this.#writing) await this.#writing.catch(() => undefined);
      await this.#withRetries(
        'SHARD_END',
        end,
        () => this.#options.lease.checkpoint({ checkpoint: end, childShardIds }),
        () => {
          this.#written = end;
          this.#options.onWritten(end);
        },
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Stops scheduled writes; writes waiting to retry give up (a write under way still completes). */
  close(): void {
    this.#isClosed = true;
    this.#clearTimer();
    this.#closed.abort();
  }

  #schedule(): void {
    if (this.#timer || this.#isClosed) return;
    const nowMs = this.#options.clock.nowMs();
    // Not before the interval, nor before the shard's backoff after failed writes.
    const waitMs = Math.max(
      0,
      this.#lastWriteAtMs + this.#options.checkpointIntervalMs - nowMs,
      this.#nextAttemptAtMs - nowMs,
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, waitMs);
    this.#timer.unref?.();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One fenced write, retried with the shard's shared backoff while the table fails with retriable
   * errors, for at most `retryBudgetMs`.
   *
   * @throws {@link LeaseLostError} when the lease is gone; {@link RetriesExhaustedError} otherwise.
   */
  async #withRetries(
    what: string,
    position: ExtendedSequenceNumber,
    write: () => Promise<CheckpointWriteOutcome>,
    onWritten: () => void,
  ): Promise<void> {
    const { clock } = this.#options;
    const backoff = this.#options.backoff ?? CHECKPOINT_RETRY_BACKOFF;
    const startedAtMs = clock.nowMs();
    const deadlineAtMs = startedAtMs + this.#options.retryBudgetMs;
    for (let attempt = 1; ; attempt++) {
      // After failed writes: the shard's backoff, but never past this write's budget (every write tries
      // at least once), and never closer than half the first delay to the previous attempt — the bound
      // on attempts per second holds whatever the callers do.
      for (;;) {
        const nowMs = clock.nowMs();
        const attemptAtMs =
          this.#failuresInRow === 0
            ? nowMs
            : Math.max(
                Math.min(this.#nextAttemptAtMs, deadlineAtMs),
                this.#lastAttemptAtMs + backoff.initialDelayMs / 2,
              );
        if (attemptAtMs <= nowMs) break;
        if (!(await sleepUnlessAborted(attemptAtMs - nowMs, this.#closed.signal))) {
          throw this.#lostError(what);
        }
      }
      if (this.#isLeaseLost) throw this.#lostError(what);
      this.#attemptCount += 1;
      this.#lastWriteAtMs = clock.nowMs();
      this.#lastAttemptAtMs = this.#lastWriteAtMs;
      let outcome: CheckpointWriteOutcome;
      try {
        outcome = await write();
      } catch (error) {
        this.#failuresInRow += 1;
        const delayMs = backoffDelayMs(this.#failuresInRow, backoff);
        this.#nextAttemptAtMs = clock.nowMs() + delayMs;
        const isOverBudget = clock.nowMs() >= deadlineAtMs;
        if (!isRetriableError(error) || isOverBudget || this.#isClosed) {
          throw this.#giveUp(what, position, attempt, error);
        }
        this.#options.onRetry(error, attempt, delayMs);
        continue;
      }
      if (outcome === 'LEASE_LOST') {
        this.#isLeaseLost = true;
        throw this.#lostError(what);
      }
      this.#failuresInRow = 0;
      this.#nextAttemptAtMs = Number.NEGATIVE_INFINITY;
      onWritten();
      return;
    }
  }

  #giveUp(
    what: string,
    position: ExtendedSequenceNumber,
    attempts: number,
    lastError: unknown,
  ): RetriesExhaustedError {
    const failure = new RetriesExhaustedError(
      `Writing the ${what} of shard ${this.#options.shardId} at ${formatPosition(position)}`,
      attempts,
      lastError,
    );
    this.#options.onGiveUp(failure, position);
    return failure;
  }

  #lostError(what: string): LeaseLostError {
    const { shardId } = this.#options;
    return new LeaseLostError(
      shardId,
      this.#isLeaseLost
        ? `Lease ${shardId} was lost: the ${what} was not written (the next owner continues from the last written checkpoint).`
        : `The session of shard ${shardId} ended: the ${what} was not written (the next owner continues from the last written checkpoint).`,
    );
  }
}
