import { backoffDelayMs, sleepUnlessAborted } from '@shardline/common';
import {
  compareExtendedSequenceNumbers,
  type ExtendedSequenceNumber,
  SentinelCheckpoint,
} from '../checkpoint/ExtendedSequenceNumber.js';
import { ShardCheckpointer } from '../checkpoint/ShardCheckpointer.js';
import { LeaseLostError, RetriesExhaustedError } from '../errors.js';
import { asError, type ConsumerEventListener } from '../events.js';
import type { ShardProgress } from '../health/healthStatus.js';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../internal/logger.js';
import type { Lease } from '../leases/Lease.js';
import type { LeaseHandle } from '../leases/LeaseHandle.js';
import type { ChildShard, KinesisRecord, ShardReader, StartingPosition } from '../retrieval/ShardReader.js';
import type { InitialPosition } from '../shard-sync/shardLineage.js';
import type { RecordBatch, ShardCompletionReason, ShardInfo } from './RecordBatch.js';

/** What a shard consumer needs from the worker. */
export interface ShardConsumerContext {
  readonly reader: ShardReader;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onEvent: ConsumerEventListener;
  readonly initialPosition: InitialPosition;
  readonly maxBufferedBatches: number;
  readonly maxBufferedBytes: number;
  readonly checkpointIntervalMs: number;
  /** How long one checkpoint write retries a failing table before it gives up (the failover time). */
  readonly checkpointRetryBudgetMs: number;
  /** The shard's lease: fenced checkpoint, prepared checkpoint and release, and whether it is held. */
  readonly leaseHandle: LeaseHandle;
  /** Makes sure the children's leases exist; returns their ids. */
  readonly prepareChildren: (
    shardId: string,
    reported: readonly ChildShard[] | undefined,
  ) => Promise<string[]>;
  /** The shard is finished (SHARD_END written): children may be taken now. */
  readonly onShardFinished: (shardId: string) => void;
  /** The shard consumer completed (any reason): forget it. */
  readonly onCompleted: (shardId: string, reason: ShardCompletionReason) => void;
  /**
   * The session failed and its lease went back to the table: wait before taking it again (the
   * failures in a row at its checkpoint, when recorded).
   */
  readonly onFailed?: (shardId: string, failureCount: number | undefined) => void;
  /**
   * When a batch of this shard was last handled, if before this session (a session that failed here at
   * the same checkpoint): the health check's stall clock goes on instead of starting again.
   */
  readonly progressSinceMs?: number;
  /** Sessions of this shard that failed here in a row, at this checkpoint, before this one. */
  readonly failedSessionsBefore?: number;
}

class Batch implements RecordBatch {
  readonly shardId: string;
  readonly records: readonly KinesisRecord[];
  readonly millisBehindLatest: number | undefined;
  readonly byteCount: number;
  readonly last: ExtendedSequenceNumber;
  readonly #shardConsumer: ShardConsumer;

  constructor(
    shardConsumer: ShardConsumer,
    records: readonly KinesisRecord[],
    millisBehindLatest: number | undefined,
    byteCount: number,
  ) {
    this.#shardConsumer = shardConsumer;
    this.shardId = shardConsumer.shardId;
    this.records = records;
    this.millisBehindLatest = millisBehindLatest;
    this.byteCount = byteCount;
    const last = records[records.length - 1]!;
    this.last = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber };
  }

  checkpoint(record?: KinesisRecord | ExtendedSequenceNumber): Promise<void> {
    const position = record
      ? { sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber }
      : this.last;
    return this.#shardConsumer.checkpoint(position);
  }

  prepareCheckpoint(record?: KinesisRecord | ExtendedSequenceNumber, state?: Uint8Array): Promise<void> {
    const position = record
      ? { sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber }
      : this.last;
    return this.#shardConsumer.prepareCheckpoint(position, state);
  }

  release(): void {
    this.#shardConsumer.ack(this);
  }
}

/**
 * Consumes one leased shard (the KCL's shard consumer): pulls batches from the reader only while the
 * buffer has room, hands them out in order, keeps the shard's checkpoint, and ends the session with one
 * completion reason.
 */
export class ShardConsumer implements ShardInfo {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  readonly startingCheckpoint: ExtendedSequenceNumber;
  readonly pendingCheckpoint: ExtendedSequenceNumber | undefined;
  readonly pendingCheckpointState: Uint8Array | undefined;
  readonly completion: Promise<ShardCompletionReason>;
  readonly #context: ShardConsumerContext;
  readonly #lease: Lease;
  readonly #checkpointer: ShardCheckpointer;
  readonly #readerController = new AbortController();
  /** Fetched, not yet handed out. */
  #queue: Batch[] = [];
  /** Fetched (handed out or not), not yet handled: the buffer. */
  #unacked: Batch[] = [];
  #unackedBytes = 0;
  #readEnd: { childShards: readonly ChildShard[] | undefined } | undefined;
  #isReaderDone = false;
  #stopReason: ShardCompletionReason | undefined;
  #changed: (() => void) | undefined;
  #resolveCompletion!: (reason: ShardCompletionReason) => void;
  #isCompleted = false;
  #finishing: Promise<void> | undefined;
  /** `millisBehindLatest` of the last read (health: is the shard behind?). */
  #lastMillisBehindLatest: number | undefined;
  /** When a batch was last handled, or the session started (health: is the shard progressing?). */
  #lastProgressAtMs: number;
  /** Failed sessions in a row here before this one; 0 once a batch is handled. */
  #failedSessionsBefore: number;

  constructor(lease: Lease, context: ShardConsumerContext) {
    this.#lease = lease;
    this.#context = context;
    this.shardId = lease.leaseKey;
    this.parentShardIds = lease.parentShardIds;
    this.startingCheckpoint = lease.checkpoint;
    this.pendingCheckpoint = lease.pendingCheckpoint;
    this.pendingCheckpointState = lease.pendingCheckpointState;
    this.#lastProgressAtMs = context.progressSinceMs ?? context.clock.nowMs();
    this.#failedSessionsBefore = context.failedSessionsBefore ?? 0;
    this.completion = new Promise((resolve) => {
      this.#resolveCompletion = resolve;
    });
    this.#checkpointer = new ShardCheckpointer({
      shardId: this.shardId,
      initialCheckpoint: lease.checkpoint,
      lease: context.leaseHandle,
      checkpointIntervalMs: context.checkpointIntervalMs,
      retryBudgetMs: context.checkpointRetryBudgetMs,
      clock: context.clock,
      onRetry: (error, attempt, delayMs) =>
        context.onEvent({
          type: 'RETRY',
          operation: 'checkpoint',
          shardId: this.shardId,
          attempt,
          delayMs,
          error: asError(error),
        }),
      onGiveUp: (error, position) => {
        context.logger.warn('Checkpoint write failed; it is not in the lease table', {
          shardId: this.shardId,
          error,
        });
        context.onEvent({ type: 'CHECKPOINT_FAILED', shardId: this.shardId, checkpoint: position, error });
      },
      onWritten: (checkpoint) =>
        context.onEvent({ type: 'CHECKPOINT_WRITTEN', shardId: this.shardId, checkpoint }),
    });
  }

  #isClaimed = false;
  #shuttingDown: Promise<ShardCompletionReason> | undefined;

  /**
   * Claims the right to pull batches (one consumer per session: `run()` or one `records$` subscriber).
   * @returns false when already claimed.
   */
  claim(): boolean {
    if (this.#isClaimed) return false;
    this.#isClaimed = true;
    return true;
  }

  /** The checkpoint last written (durable) for this shard. */
  get writtenCheckpoint(): ExtendedSequenceNumber {
    return this.#checkpointer.written;
  }

  /** Failed sessions of this shard here in a row before this one (0 once a batch is handled). */
  get failedSessionsBefore(): number {
    return this.#failedSessionsBefore;
  }

  /** `millisBehindLatest` of the last batch read. */
  get millisBehindLatest(): number | undefined {
    return this.#lastMillisBehindLatest;
  }

  /** When a batch was last handled, or the session (or the failed sessions before it) started. */
  get lastProgressAtMs(): number {
    return this.#lastProgressAtMs;
  }

  /** What the health check judges this shard on: work waiting, and time since a batch was handled. */
  progress(nowMs: number): ShardProgress {
    return {
      shardId: this.shardId,
      bufferedBatchCount: this.#unacked.length,
      millisBehindLatest: this.#lastMillisBehindLatest,
      sinceProgressMs: Math.max(0, nowMs - this.#lastProgressAtMs),
      failedSessions: this.#failedSessionsBefore,
    };
  }

  /** Whether batches may still be handed out. */
  get isActive(): boolean {
    return this.#stopReason === undefined;
  }

  /** Starts reading. */
  start(): void {
    this.#context.onEvent({
      type: 'SHARD_STARTED',
      shardId: this.shardId,
      checkpoint: this.#lease.checkpoint,
    });
    void this.#pump();
  }

  /**
   * The next batch, in order; `undefined` once the shard was read to its end, the lease was lost, the
   * consumer is stopping, or the shard was halted.
   */
  async next(): Promise<RecordBatch | undefined> {
    for (;;) {
      if (this.#stopReason !== undefined) return undefined;
      if (!this.#context.leaseHandle.isHeld()) {
        // Possibly lost (renewals failing): deliver nothing more than another worker could also get.
        this.loseLease();
        return undefined;
      }
      const batch = this.#queue.shift();
      if (batch) {
        this.#checkpointer.markDelivered(batch.last);
        return batch;
      }
      if (this.#isReaderDone) return undefined;
      await this.#waitForChange();
    }
  }

  /** See {@link RecordBatch.checkpoint}. */
  async checkpoint(position: ExtendedSequenceNumber): Promise<void> {
    if (this.#failing) throw this.#failedError('checkpoint');
    try {
      await this.#checkpointer.checkpoint(position);
    } catch (error) {
      // Not durable, but recorded: the records are handled and the next write covers them, so their
      // buffer share is freed (the reader must not stall on a batch that was processed).
      if (error instanceof RetriesExhaustedError) this.#ackThrough(position);
      throw error;
    }
    this.#ackThrough(position);
  }

  /** See {@link RecordBatch.prepareCheckpoint}. */
  async prepareCheckpoint(position: ExtendedSequenceNumber, state: Uint8Array | undefined): Promise<void> {
    if (this.#failing) throw this.#failedError('prepared checkpoint');
    await this.#checkpointer.prepare(position, state);
  }

  #failedError(what: string): LeaseLostError {
    return new LeaseLostError(
      this.shardId,
      `The session of shard ${this.shardId} failed: the ${what} was not written (the shard is redone from its last written checkpoint).`,
    );
  }

  /** Marks a batch handled without checkpointing. */
  ack(batch: Batch): void {
    const index = this.#unacked.indexOf(batch);
    if (index < 0) return;
    this.#unacked.splice(index, 1);
    this.#unackedBytes -= batch.byteCount;
    this.#reportProcessed(batch);
    this.#notify();
  }

  #reportProcessed(batch: Batch): void {
    this.#lastProgressAtMs = this.#context.clock.nowMs();
    this.#failedSessionsBefore = 0;
    this.#context.onEvent({
      type: 'BATCH_PROCESSED',
      shardId: this.shardId,
      recordCount: batch.records.length,
      byteCount: batch.byteCount,
      millisBehindLatest: batch.millisBehindLatest,
    });
  }

  /**
   * After a `LeaseLostError` reached the application: ends the session if the lease is in fact gone.
   * @returns whether the session is over (nothing more will be delivered).
   */
  endIfLeaseLost(): boolean {
    if (this.#checkpointer.isLeaseLost || !this.#context.leaseHandle.isHeld()) this.loseLease();
    return !this.isActive;
  }

  /** The lease is gone: stop at once, write nothing more. */
  loseLease(): void {
    if (this.#isCompleted || this.#failing) return;
    this.#stop('LEASE_LOST');
    this.#checkpointer.close();
    this.#complete('LEASE_LOST');
  }

  /**
   * Ends the session because processing failed (see `ShardSession.fail`): no batch is handed out or
   * checkpointed after it, the lease is released with the failure counted in the lease item, and the
   * shard is redone from its last written checkpoint by the next owner; halted once the failures in a
   * row at that checkpoint reach `maxShardFailures`. Idempotent; ignored once the session ended.
   */
  fail(error: Error): void {
    if (this.#isCompleted || this.#failing || this.#stopReason === 'LEASE_LOST') return;
    this.#stop('FAILED');
    // Nothing more is written for this session, not even a checkpoint asked for before.
    this.#checkpointer.close();
    this.#failing = this.#failSession(asError(error));
  }

  #failing: Promise<void> | undefined;

  async #failSession(error: Error): Promise<void> {
    const checkpoint = this.#checkpointer.written;
    // A checkpoint write already under way finishes first (the failure write waits for the lease's
    // mutex); the failure is counted at the checkpoint then in the table.
    const outcome = await this.#context.leaseHandle.fail(error);
    const failure = outcome.kind === 'RECORDED' ? outcome.failure : undefined;
    const halted = failure?.haltedAt !== undefined;
    this.#context.onEvent({
      type: 'SHARD_FAILED',
      shardId: this.shardId,
      error,
      checkpoint: failure?.failedAt ?? checkpoint,
      failureCount: failure?.failureCount,
      halted,
    });
    if (halted) {
      this.#context.logger.error('Shard halted: its session failed too many times at one checkpoint', {
        shardId: this.shardId,
        failureCount: failure?.failureCount,
        error,
      });
      this.#context.onEvent({ type: 'SHARD_HALTED', shardId: this.shardId, error });
    } else {
      this.#context.logger.warn('Shard session failed; its lease was released to be redone', {
        shardId: this.shardId,
        failureCount: failure?.failureCount,
        outcome: outcome.kind,
        error,
      });
    }
    if (outcome.kind !== 'LEASE_LOST') this.#context.onFailed?.(this.shardId, failure?.failureCount);
    this.#complete(outcome.kind === 'LEASE_LOST' ? 'LEASE_LOST' : 'FAILED');
  }

  /**
   * Graceful stop: stop fetching, wait (up to `timeoutMs`) until every handed-out batch is handled,
   * write the final checkpoint (or `SHARD_END` when the shard was finished), then release the lease.
   */
  shutdown(timeoutMs: number): Promise<ShardCompletionReason> {
    this.#shuttingDown ??= this.#shutdown(timeoutMs, 'SHUTDOWN');
    return this.#shuttingDown;
  }

  /**
   * Cooperative hand-off (another worker asked for the lease): the same steps as {@link shutdown} —
   * stop fetching, complete `records$`, wait (up to `timeoutMs`) until every handed-out batch is
   * checkpointed, write the final checkpoint — then the lease goes to the next owner, which starts
   * exactly after that checkpoint. Completes `HANDED_OFF` (or `SHARD_END` when the shard was finished).
   */
  handOff(timeoutMs: number): Promise<ShardCompletionReason> {
    this.#shuttingDown ??= this.#shutdown(timeoutMs, 'HANDED_OFF');
    return this.#shuttingDown;
  }

  async #shutdown(timeoutMs: number, reason: 'SHUTDOWN' | 'HANDED_OFF'): Promise<ShardCompletionReason> {
    if (!this.#isCompleted) {
      if (this.#stopReason === undefined) this.#stopReason = reason;
      this.#readerController.abort();
      this.#dropUndelivered();
      const deadline = this.#context.clock.nowMs() + timeoutMs;
      while (!this.#isCompleted && this.#unacked.length > 0) {
        const leftMs = deadline - this.#context.clock.nowMs();
        if (leftMs <= 0) {
          this.#context.logger.warn('Stop timed out waiting for batches to be handled', {
            shardId: this.shardId,
            unhandledBatches: this.#unacked.length,
          });
          break;
        }
        await this.#waitForChange(leftMs);
      }
      if (this.#failing) {
        // fail() came first (or meanwhile): the failed session releases the lease, nothing is flushed.
        await this.#failing;
      } else if (!this.#isCompleted) {
        if (this.#isReaderDone && this.#readEnd && this.#checkpointer.isCaughtUp) {
          await this.#finishShard();
        } else {
          await this.#checkpointer.flush();
          this.#checkpointer.close();
          if (!this.#isCompleted) {
            await this.#context.leaseHandle.release();
            this.#complete(reason);
          }
        }
      }
    }
    return this.completion;
  }

  async #pump(): Promise<void> {
    let start = this.#startingPosition();
    let failures = 0;
    while (this.#stopReason === undefined && !this.#readEnd) {
      try {
        for await (const result of this.#context.reader.read({
          shardId: this.shardId,
          start,
          hashKeyRange: this.#lease.hashKeyRange,
          signal: this.#readerController.signal,
          onEvent: this.#context.onEvent,
        })) {
          if (this.#stopReason !== undefined) break;
          if (result.kind === 'end') {
            this.#readEnd = { childShards: result.childShards };
            break;
          }
          failures = 0;
          this.#lastMillisBehindLatest = result.millisBehindLatest;
          const batch = new Batch(this, result.records, result.millisBehindLatest, result.byteCount);
          // A reader that fails is restarted right after the last record it handed over.
          start = { kind: 'AFTER', position: batch.last };
          this.#queue.push(batch);
          this.#unacked.push(batch);
          this.#unackedBytes += batch.byteCount;
          this.#notify();
          while (
            this.#stopReason === undefined &&
            (this.#unacked.length >= this.#context.maxBufferedBatches ||
              this.#unackedBytes >= this.#context.maxBufferedBytes)
          ) {
            await this.#waitForChange();
          }
        }
      } catch (error) {
        if (!this.#readerController.signal.aborted) {
          this.#context.logger.error('Reading the shard failed; reading again', {
            shardId: this.shardId,
            error,
          });
          this.#context.onEvent({ type: 'ERROR', shardId: this.shardId, error: asError(error) });
        }
      }
      if (this.#stopReason !== undefined || this.#readEnd) break;
      // The reader stopped without reaching the shard's end: never leave a leased shard unread.
      failures += 1;
      const delayMs = backoffDelayMs(failures, { initialDelayMs: 200, maxDelayMs: 30_000 });
      if (!(await sleepUnlessAborted(delayMs, this.#readerController.signal))) break;
    }
    this.#isReaderDone = true;
    this.#notify();
    if (this.#readEnd && this.#stopReason === undefined) void this.#awaitEndCheckpoint();
  }

  /** At the shard's end: wait for the application's last checkpoint, then write SHARD_END. */
  async #awaitEndCheckpoint(): Promise<void> {
    while (this.#stopReason === undefined && (this.#queue.length > 0 || !this.#checkpointer.isCaughtUp)) {
      await this.#waitForChange();
    }
    if (this.#stopReason === undefined) await this.#finishShard();
  }

  #finishShard(): Promise<void> {
    this.#finishing ??= (async () => {
      let attempt = 0;
      // While stopping, a table that keeps failing must not hold up stop(): after a few tries the lease
      // is released without SHARD_END, and the next worker re-reads the (checkpointed) end of the shard.
      while (!this.#isCompleted && !this.#failing && !(this.#isWindingDown && attempt >= 3)) {
        try {
          const children = await this.#context.prepareChildren(this.shardId, this.#readEnd?.childShards);
          const written = await this.#checkpointer.writeShardEnd(children);
          if (written) {
            this.#checkpointer.close();
            this.#context.onEvent({ type: 'SHARD_ENDED', shardId: this.shardId, childShardIds: children });
            await this.#context.leaseHandle.release();
            this.#complete('SHARD_END');
            this.#context.onShardFinished(this.shardId);
            return;
          }
          if (this.#checkpointer.isLeaseLost) {
            this.loseLease();
            return;
          }
        } catch (error) {
          this.#context.onEvent({ type: 'ERROR', shardId: this.shardId, error: asError(error) });
        }
        attempt += 1;
        const delayMs = backoffDelayMs(attempt, { initialDelayMs: 200, maxDelayMs: 10_000 });
        await sleepUnlessAborted(this.#isWindingDown ? Math.min(delayMs, 500) : delayMs);
      }
      if (this.#failing) {
        await this.#failing;
      } else if (!this.#isCompleted) {
        this.#checkpointer.close();
        await this.#context.leaseHandle.release();
        this.#complete('SHUTDOWN');
      }
    })();
    return this.#finishing;
  }

  /** Stopping or handing off: the lease is about to go. */
  get #isWindingDown(): boolean {
    return this.#stopReason === 'SHUTDOWN' || this.#stopReason === 'HANDED_OFF';
  }

  #startingPosition(): StartingPosition {
    const checkpoint = this.#lease.checkpoint;
    switch (checkpoint.sequenceNumber) {
      case SentinelCheckpoint.TrimHorizon:
        return { kind: 'TRIM_HORIZON' };
      case SentinelCheckpoint.Latest:
        return { kind: 'LATEST' };
      case SentinelCheckpoint.AtTimestamp: {
        const initial = this.#context.initialPosition;
        // A table checkpointed AT_TIMESTAMP by another application setting: without a timestamp, the
        // safe reading is from the oldest record (never skip data).
        return typeof initial === 'object'
          ? { kind: 'AT_TIMESTAMP', timestamp: initial.atTimestamp }
          : { kind: 'TRIM_HORIZON' };
      }
      default:
        return { kind: 'AFTER', position: checkpoint };
    }
  }

  #ackThrough(position: ExtendedSequenceNumber): void {
    while (
      this.#unacked.length > 0 &&
      compareExtendedSequenceNumbers(this.#unacked[0]!.last, position) <= 0
    ) {
      const batch = this.#unacked.shift()!;
      this.#unackedBytes -= batch.byteCount;
      this.#reportProcessed(batch);
    }
    // Also wakes the end-of-shard wait, which watches the checkpoint.
    this.#notify();
  }

  #dropUndelivered(): void {
    for (const batch of this.#queue) {
      const index = this.#unacked.indexOf(batch);
      if (index >= 0) {
        this.#unacked.splice(index, 1);
        this.#unackedBytes -= batch.byteCount;
      }
    }
    this.#queue = [];
    this.#notify();
  }

  #stop(reason: ShardCompletionReason): void {
    this.#stopReason = reason;
    this.#readerController.abort();
    this.#dropUndelivered();
  }

  #complete(reason: ShardCompletionReason): void {
    if (this.#isCompleted) return;
    this.#isCompleted = true;
    this.#stopReason ??= reason;
    this.#readerController.abort();
    this.#notify();
    this.#resolveCompletion(reason);
    this.#context.onCompleted(this.shardId, reason);
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = undefined;
    changed?.();
  }

  #waitForChange(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.#changed;
      let timer: NodeJS.Timeout | undefined;
      this.#changed = () => {
        if (timer) clearTimeout(timer);
        previous?.();
        resolve();
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => this.#notify(), timeoutMs);
      }
    });
  }
}

/** The shard description of a session (a plain object, for handlers and `ShardSession`). */
export function shardInfoOf(shardConsumer: ShardConsumer): ShardInfo {
  return {
    shardId: shardConsumer.shardId,
    parentShardIds: shardConsumer.parentShardIds,
    startingCheckpoint: shardConsumer.startingCheckpoint,
    pendingCheckpoint: shardConsumer.pendingCheckpoint,
    pendingCheckpointState: shardConsumer.pendingCheckpointState,
  };
}
