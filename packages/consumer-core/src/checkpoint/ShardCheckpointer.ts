import { CheckpointRejectedError } from '../errors.js';
import type { Clock } from '../internal/clock.js';
import type { LeaseHandle } from '../leases/LeaseHandle.js';
import {
  compareExtendedSequenceNumbers,
  type ExtendedSequenceNumber,
  formatPosition,
  SentinelCheckpoint,
  sentinelPosition,
} from './ExtendedSequenceNumber.js';

/** Options of {@link ShardCheckpointer}. */
export interface ShardCheckpointerOptions {
  readonly shardId: string;
  /** The checkpoint stored when processing started. */
  readonly initialCheckpoint: ExtendedSequenceNumber;
  /** The shard's lease: checkpoints and prepared checkpoints are written through it, fenced. */
  readonly lease: Pick<LeaseHandle, 'checkpoint' | 'prepare'>;
  /** Writes happen at most once per this interval; 0 writes at once. */
  readonly checkpointIntervalMs: number;
  readonly clock: Clock;
  /** A background write failed (it is retried at the next flush). */
  readonly onWriteError: (error: unknown) => void;
  /** A checkpoint was written. */
  readonly onWritten: (checkpoint: ExtendedSequenceNumber) => void;
}

/**
 * One shard's checkpoint: what the application asked for (`requested`) and what is durable (`written`).
 *
 * A checkpoint never moves backwards and never passes the last delivered record. Writes are coalesced:
 * at most one per `checkpointIntervalMs`, one at a time, the newest position winning; `flush()` writes
 * now (before release, at shard end and at stop).
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
   * at or before the current one is ignored.
   *
   * @throws {@link CheckpointRejectedError} when `position` is after the last delivered record.
   */
  async checkpoint(position: ExtendedSequenceNumber): Promise<void> {
    this.#checkDelivered(position);
    if (compareExtendedSequenceNumbers(position, this.#requested) <= 0) return;
    this.#requested = position;
    if (this.#isClosed) return;
    if (this.#options.checkpointIntervalMs === 0) {
      await this.flush();
      return;
    }
    this.#schedule();
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
   * first phase of a two-phase checkpoint. The next checkpoint clears it.
   *
   * @returns whether it was written (`false`: the lease is gone).
   * @throws {@link CheckpointRejectedError} when `position` is after the last delivered record or
   *   before the requested checkpoint; the store's error when it keeps failing.
   */
  async prepare(position: ExtendedSequenceNumber, state: Uint8Array | undefined): Promise<boolean> {
    this.#checkDelivered(position);
    if (compareExtendedSequenceNumbers(position, this.#requested) < 0) {
      throw new CheckpointRejectedError(
        this.#options.shardId,
        `Cannot prepare a checkpoint of shard ${this.#options.shardId} at ${formatPosition(position)}: it is before the checkpoint ${formatPosition(this.#requested)}.`,
      );
    }
    if (this.#isLeaseLost) return false;
    const outcome = await this.#options.lease.prepare({
      pendingCheckpoint: position,
      pendingCheckpointState: state,
    });
    if (outcome === 'LEASE_LOST') this.#isLeaseLost = true;
    return outcome === 'WRITTEN';
  }

  /** Writes the requested checkpoint now if it is ahead of the written one. Never throws. */
  async flush(): Promise<void> {
    this.#clearTimer();
    while (!this.#isLeaseLost && compareExtendedSequenceNumbers(this.#requested, this.#written) > 0) {
      if (this.#writing) {
        await this.#writing;
        continue;
      }
      const target = this.#requested;
      this.#writing = this.#writeOnce(target, undefined).finally(() => {
        this.#writing = undefined;
      });
      await this.#writing;
      if (compareExtendedSequenceNumbers(this.#written, target) < 0) return; // failed; reported already
    }
  }

  /**
   * Writes `SHARD_END` (after flushing the application's last checkpoint), with the children's ids.
   * @returns whether it was written.
   */
  async writeShardEnd(childShardIds: readonly string[]): Promise<boolean> {
    await this.flush();
    if (this.#isLeaseLost) return false;
    while (this.#writing) await this.#writing;
    const end = sentinelPosition(SentinelCheckpoint.ShardEnd);
    await this.#writeOnce(end, childShardIds);
    return compareExtendedSequenceNumbers(this.#written, end) === 0;
  }

  /** Stops scheduled writes (a pending `flush()` still completes). */
  close(): void {
    this.#isClosed = true;
    this.#clearTimer();
  }

  #schedule(): void {
    if (this.#timer || this.#isClosed) return;
    const waitMs = Math.max(
      0,
      this.#lastWriteAtMs + this.#options.checkpointIntervalMs - this.#options.clock.nowMs(),
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

  async #writeOnce(
    target: ExtendedSequenceNumber,
    childShardIds: readonly string[] | undefined,
  ): Promise<void> {
    this.#lastWriteAtMs = this.#options.clock.nowMs();
    try {
      const outcome = await this.#options.lease.checkpoint({ checkpoint: target, childShardIds });
      if (outcome === 'LEASE_LOST') {
        this.#isLeaseLost = true;
        return;
      }
      if (compareExtendedSequenceNumbers(target, this.#written) > 0) this.#written = target;
      this.#options.onWritten(target);
    } catch (error) {
      this.#options.onWriteError(error);
      if (!this.#isClosed && compareExtendedSequenceNumbers(this.#requested, this.#written) > 0)
        this.#schedule();
    }
  }
}
