import { backoffDelayMs, sleepUnlessAborted } from '@shardline/common';
import {
  compareExtendedSequenceNumbers,
  type ExtendedSequenceNumber,
  type KinesisRecord,
  LeaseLostError,
  type RecordBatch,
  type ShardSession,
} from '@shardline/consumer-core';
import type { ResolvedS3SinkConfig } from './config/resolveS3SinkConfig.js';
import { PendingStateError } from './errors.js';
import { failSession } from './failSession.js';
import {
  decodePendingRange,
  encodePendingRange,
  keysDigest,
  type ObjectLayout,
  type ObjectPlan,
  type PendingRange,
  planObjects,
  type SealedRange,
} from './objects/planObjects.js';
import type { RecordRoute } from './routing/RecordRouter.js';
import type { RouteResult } from './routing/RecordTransform.js';
import { type S3SinkEvent, type S3SinkHookInfo, SealReason } from './S3SinkEvents.js';
import type { ObjectWriter } from './upload/ObjectWriter.js';

/** What a shard archiver needs from the sink. */
export interface ShardArchiverContext {
  readonly config: ResolvedS3SinkConfig;
  readonly layout: ObjectLayout;
  /**
   * The record's route (after the transform, if any): a promise only for a transform that returned one.
   */
  readonly route: (record: KinesisRecord, shardId: string) => RouteResult;
  /**
   * Digest of the settings that decide the objects (`settingsFingerprint`), recorded with each prepared
   * range and compared on a redo. @defaultValue none (not recorded, not compared)
   */
  readonly settingsFingerprint?: string;
  readonly writer: ObjectWriter;
  readonly emit: (event: S3SinkEvent) => void;
  /** Aborted once the sink's stop deadline passes: give up writing (the next owner redoes the range). */
  readonly hardStopSignal: AbortSignal;
  /** Whether the sink is stopping (a completed session then seals with reason `stop`). */
  readonly isStopping: () => boolean;
  readonly onObjectWritten: (plan: ObjectPlan, bytes: number) => void;
  /** Records a transform dropped, counted once every object of their range is durable. */
  readonly onRecordsDropped?: (records: number) => void;
}

/** A previous owner's pending range, to redo exactly. */
interface Redo {
  readonly pending: ExtendedSequenceNumber;
  readonly range: PendingRange | undefined;
}

/**
 * Archives one leased shard: buffers its records, closes ranges by size, interval, partition limit, or at
 * the end, and for each range: records it as the lease's pending checkpoint, writes its objects,
 * checkpoints. After a crash the next owner finds the pending range and writes it again identically.
 */
export class ShardArchiver {
  readonly shardId: string;
  readonly #session: ShardSession;
  readonly #context: ShardArchiverContext;
  /**
   * The open buffer, or the sealed range being written (until it is checkpointed or abandoned): its
   * records, and each one's route at the same index.
   */
  #records: KinesisRecord[] = [];
  #routes: RecordRoute[] = [];
  #inputBytes = 0;
  /**
   * Records (and their input bytes) of the sealed range already in a written object: counted by the
   * sink as written from then on, so no longer as buffered (a record is one or the other, never both).
   */
  #writtenRecords = 0;
  #writtenBytes = 0;
  /** Records of the buffer (and their input bytes) that the transform dropped: in no object. */
  #droppedRecords = 0;
  #droppedBytes = 0;
  #partitions = new Set<string>();
  #openedAtMs = 0;
  #lastBatch: RecordBatch | undefined;
  #redo: Redo | undefined;
  #skipped = 0;
  #chain: Promise<void> = Promise.resolve();
  #isAbandoned = false;
  /** Set once the shard failed for a reason that is not one record's: nothing more is done for it. */
  #failure: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(session: ShardSession, context: ShardArchiverContext) {
    this.shardId = session.shardId;
    this.#session = session;
    this.#context = context;
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    const pending = session.pendingCheckpoint;
    if (
      pending !== undefined &&
      isDecimal(pending.sequenceNumber) &&
      (!isDecimal(session.startingCheckpoint.sequenceNumber) ||
        compareExtendedSequenceNumbers(pending, session.startingCheckpoint) > 0)
    ) {
      let range: PendingRange | undefined;
      if (session.pendingCheckpointState) {
        try {
          range = decodePendingRange(session.pendingCheckpointState);
        } catch (error) {
          context.emit({
            type: 'ERROR',
            shardId: this.shardId,
            error: new PendingStateError(
              this.shardId,
              `The pending checkpoint's state of ${this.shardId} is not a range of this sink; redoing up to the pending checkpoint as one range`,
              error,
            ),
          });
        }
      }
      this.#redo = { pending, range };
    }
  }

  /**
   * Records and input bytes held and not yet in a written object (the open buffer, or what of the sealed
   * range is not written yet), and when the oldest arrived (wall clock), for metrics. Disjoint from what
   * `onObjectWritten` counted: a record leaves this count in the same synchronous step that counts it
   * as written.
   */
  get buffered(): { records: number; bytes: number; openedAtMs: number | undefined } {
    const records = this.#records.length - this.#writtenRecords;
    return {
      records,
      bytes: this.#inputBytes - this.#writtenBytes,
      openedAtMs: records > 0 ? this.#openedAtMs : undefined,
    };
  }

  /** Resolves once the session is over and every range was written or abandoned. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Starts: aborts multipart uploads a previous owner left, then consumes the session. */
  start(): void {
    const { config } = this.#context;
    this.#chain = this.#enqueue(async () => {
      // Uploads the previous owner recorded with its pending range, then any other one left over.
      for (const upload of this.#redo?.range?.multipartUploads ?? []) {
        await this.#context.writer.abortMultipartUpload(
          this.shardId,
          upload.key,
          upload.uploadId,
          'takeover',
        );
      }
      try {
        await this.#context.writer.abortIncompleteUploads(this.shardId, this.#context.hardStopSignal);
      } catch (error) {
        // Not fatal: a leftover upload costs storage, never correctness (lifecycle rules clean up too).
        this.#context.emit({ type: 'ERROR', shardId: this.shardId, error: error as Error });
      }
    });
    if (config.bufferIntervalMs > 0) {
      const tickMs = Math.max(50, Math.min(1_000, Math.floor(config.bufferIntervalMs / 4)));
      this.#timer = setInterval(() => this.#onTick(), tickMs);
      this.#timer.unref?.();
    }
    this.#session.records$.subscribe({
      next: (batch) => {
        void this.#enqueue(() => this.#onBatch(batch));
      },
      error: (error: unknown) => {
        this.#context.emit({ type: 'ERROR', shardId: this.shardId, error: error as Error });
        void this.#enqueue(() => this.#finish()).finally(() => this.#resolveDone());
      },
      complete: () => {
        void this.#enqueue(() => this.#finish()).finally(() => this.#resolveDone());
      },
    });
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.#chain
      .then(() => (this.#failure === undefined ? task() : undefined))
      .catch((error: unknown) => this.#fail(error));
    this.#chain = next;
    return next;
  }

  /**
   * A step threw (a hook, the lease table, the writer): not a problem of one record (those are routed
   * to the error output), so going on would checkpoint past records that reached no object. The
   * shard stops here without a checkpoint and its lease is released: the next owner redoes it.
   */
  #fail(cause: unknown): void {
    if (this.#failure !== undefined) return;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    this.#failure = error;
    const recordCount = this.#records.length;
    this.#clearBuffer();
    if (this.#timer) clearInterval(this.#timer);
    this.#context.config.logger.error(
      'Archiving a shard failed; its lease is released without a checkpoint so that it is redone',
      { shardId: this.shardId, error },
    );
    this.#context.emit({ type: 'SHARD_FAILED', shardId: this.shardId, recordCount, error });
    failSession(this.#session, error);
    this.#resolveDone();
  }

  #onTick(): void {
    if (this.#isAbandoned || this.#redo || this.#records.length === 0) return;
    const ageMs = this.#context.config.nowMs() - this.#openedAtMs;
    if (ageMs >= this.#context.config.bufferIntervalMs) {
      void this.#enqueue(async () => {
        // Checked again in the queue: a size seal may have emptied the buffer meanwhile.
        if (
          this.#records.length > 0 &&
          !this.#redo &&
          this.#context.config.nowMs() - this.#openedAtMs >= this.#context.config.bufferIntervalMs
        ) {
          await this.#seal(SealReason.Interval);
        }
      });
    }
  }

  async #onBatch(batch: RecordBatch): Promise<void> {
    if (this.#isAbandoned) return;
    this.#lastBatch = batch;
    const { config } = this.#context;
    for (const record of batch.records) {
      if (this.#isAbandoned) return;
      const redo = this.#redo;
      if (redo) {
        if (redo.range && compareExtendedSequenceNumbers(record, redo.range.first) < 0) {
          // Before the pending range: in objects already (a range is prepared only once every
          // earlier range is durable), only their checkpoint write was lost.
          this.#skipped += 1;
          continue;
        }
        if (this.#skipped > 0) {
          this.#context.emit({
            type: 'RECORDS_ALREADY_ARCHIVED',
            shardId: this.shardId,
            recordCount: this.#skipped,
          });
          this.#skipped = 0;
        }
        if (compareExtendedSequenceNumbers(record, redo.pending) > 0) {
          // The pending record itself was not read (trimmed by retention?): close what was read.
          this.#context.emit({
            type: 'PENDING_RANGE_MISMATCH',
            shardId: this.shardId,
            message: `record ${record.sequenceNumber} is past the pending checkpoint ${redo.pending.sequenceNumber}, which was never read`,
          });
          if (this.#records.length > 0) await this.#seal(SealReason.Redo);
          this.#redo = undefined;
        } else {
          let redoRoute = this.#route(record);
          if (redoRoute instanceof Promise) redoRoute = await redoRoute;
          this.#add(record, redoRoute);
          if (compareExtendedSequenceNumbers(record, redo.pending) === 0) await this.#seal(SealReason.Redo);
          continue;
        }
      }
      let route = this.#route(record);
      if (route instanceof Promise) route = await route;
      if (
        route.kind !== 'dropped' &&
        this.#records.length > 0 &&
        !this.#partitions.has(route.partitionId) &&
        this.#partitions.size >= config.maxActivePartitions
      ) {
        await this.#seal(SealReason.PartitionLimit);
      }
      this.#add(record, route);
      if (this.#inputBytes >= config.bufferSizeBytes) await this.#seal(SealReason.Size);
      else if (config.bufferRecords > 0 && this.#records.length >= config.bufferRecords) {
        await this.#seal(SealReason.RecordCount);
      }
    }
    if (config.bufferIntervalMs === 0 && !this.#redo && this.#records.length > 0) {
      await this.#seal(SealReason.Interval);
    }
  }

  /**
   * The record's route. Callers `await` only a promise (a transform that returned one): a synchronous
   * route costs no microtask per record.
   */
  #route(record: KinesisRecord): RecordRoute | Promise<RecordRoute> {
    return this.#context.route(record, this.shardId);
  }

  #add(record: KinesisRecord, route: RecordRoute): void {
    if (this.#records.length === 0) this.#openedAtMs = this.#context.config.nowMs();
    this.#records.push(record);
    this.#routes.push(route);
    this.#inputBytes += record.data.byteLength;
    if (route.kind === 'dropped') {
      this.#droppedRecords += 1;
      this.#droppedBytes += record.data.byteLength;
    } else this.#partitions.add(route.partitionId);
  }

  async #finish(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#isAbandoned || this.#records.length === 0) return;
    if (this.#redo) {
      // Never cut a redo short: the pending range stays in the lease table and the next owner redoes
      // it whole, so its objects are the same as the previous owner's.
      this.#abandon(
        'the pending range of a previous owner was not read completely; the next owner redoes it',
      );
      return;
    }
    await this.#seal(this.#context.isStopping() ? SealReason.Stop : SealReason.SessionEnd);
  }

  #abandon(reason: string): void {
    this.#context.emit({
      type: 'RANGE_ABANDONED',
      shardId: this.shardId,
      recordCount: this.#records.length,
      reason,
    });
    this.#isAbandoned = true;
    this.#clearBuffer();
    if (this.#timer) clearInterval(this.#timer);
  }

  #clearBuffer(): void {
    this.#records = [];
    this.#routes = [];
    this.#inputBytes = 0;
    this.#writtenRecords = 0;
    this.#writtenBytes = 0;
    this.#droppedRecords = 0;
    this.#droppedBytes = 0;
    this.#partitions.clear();
  }

  /** Closes the buffer into a range and writes it: prepare, objects, checkpoint. */
  async #seal(reason: SealReason): Promise<void> {
    const entries = this.#records;
    const routes = this.#routes;
    const batch = this.#lastBatch;
    if (entries.length === 0 || !batch) return;
    const { config, emit } = this.#context;
    const redo = reason === SealReason.Redo ? this.#redo : undefined;
    const range: SealedRange = {
      shardId: this.shardId,
      first: position(entries[0]!),
      last: position(entries[entries.length - 1]!),
      records: entries,
      routes,
      inputBytes: this.#inputBytes,
    };
    const bufferAgeMs = Math.max(0, config.nowMs() - this.#openedAtMs);
    const plans = planObjects(range, this.#context.layout);
    let pending: PendingRange = {
      first: range.first,
      last: range.last,
      recordCount: entries.length,
      objectCount: plans.length,
      keysSha256: keysDigest(plans),
      multipartUploads: [],
      settingsFingerprint: this.#context.settingsFingerprint,
    };
    const info: S3SinkHookInfo = {
      shardId: this.shardId,
      first: range.first,
      last: range.last,
      recordCount: entries.length,
      keys: plans.map((p) => p.key),
    };
    emit({
      type: 'RANGE_SEALED',
      shardId: this.shardId,
      reason,
      first: range.first,
      last: range.last,
      recordCount: entries.length,
      inputBytes: range.inputBytes,
      bufferAgeMs,
    });
    await config.hooks.rangeSealed?.(info);
    if (redo?.range && redo.range.keysSha256 !== pending.keysSha256) {
      emit({
        type: 'PENDING_RANGE_MISMATCH',
        shardId: this.shardId,
        message: `the redone range gives ${plans.length} object(s) with other keys than the previous owner's ${redo.range.objectCount} (was the key layout changed?)`,
      });
    }
    const prepared = redo?.range?.settingsFingerprint;
    const current = this.#context.settingsFingerprint;
    if (prepared !== undefined && current !== undefined && prepared !== current) {
      // Reported once: the redo goes on with today's settings and records their fingerprint, so a
      // crash during it is redone without a mismatch (never a loop).
      emit({
        type: 'REDO_SETTINGS_CHANGED',
        shardId: this.shardId,
        first: range.first,
        last: range.last,
        preparedFingerprint: prepared,
        currentFingerprint: current,
        message: `the range was prepared with other settings (fingerprint ${prepared}, now ${current}: the transform version, the record format options or the time-zone database changed); it is redone with today's, so its objects may differ from those the previous owner wrote`,
      });
    }

    let state = encodePendingRange(pending);
    if (!(await this.#prepare(batch, range.last, state))) {
      this.#abandon('the lease was lost before the range was recorded; nothing was written');
      return;
    }
    emit({ type: 'RANGE_PREPARED', shardId: this.shardId, last: range.last, objectCount: plans.length });
    await config.hooks.pendingWritten?.(info);

    const control = {
      signal: this.#context.hardStopSignal,
      // Fenced: re-writing the pending checkpoint fails once another worker took the lease.
      mayRetry: () => this.#prepare(batch, range.last, state),
      onMultipartUploadCreated: (key: string, uploadId: string) => {
        pending = { ...pending, multipartUploads: [...pending.multipartUploads, { key, uploadId }] };
        state = encodePendingRange(pending);
        return this.#prepare(batch, range.last, state);
      },
    };
    for (const plan of plans) {
      const written = await this.#context.writer.write(plan, control);
      if (!written) {
        this.#abandon(
          'the lease was lost, or the sink stopped, while writing; the next owner redoes the range',
        );
        return;
      }
      // In the same synchronous step: written, and no longer buffered (metrics never count both).
      this.#writtenRecords += plan.recordCount;
      this.#writtenBytes += plan.inputBytes;
      this.#context.onObjectWritten(plan, written.manifest.bytes);
      emit({
        type: 'OBJECT_WRITTEN',
        shardId: this.shardId,
        key: plan.key,
        kind: plan.kind,
        recordCount: plan.recordCount,
        bytes: written.manifest.bytes,
        uncompressedBytes: written.manifest.uncompressedBytes,
        isMultipart: written.isMultipart,
        uploadLatencyMs: written.uploadLatencyMs,
        errorOutputType: plan.errorOutputType,
      });
    }
    if (this.#droppedRecords > 0) {
      // Durable with the range (no object holds them): no longer buffered, counted once as dropped.
      const dropped = this.#droppedRecords;
      this.#writtenRecords += dropped;
      this.#writtenBytes += this.#droppedBytes;
      this.#droppedRecords = 0;
      this.#droppedBytes = 0;
      this.#context.onRecordsDropped?.(dropped);
      emit({ type: 'RECORDS_DROPPED', shardId: this.shardId, last: range.last, recordCount: dropped });
    }
    await config.hooks.objectsWritten?.(info);

    // The range is durable: only now does the checkpoint move past it.
    try {
      await batch.checkpoint(range.last);
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      // The next owner finds the pending range and rewrites the same objects (same keys).
      this.#abandon('the lease was lost before the checkpoint was written; the next owner redoes the range');
      return;
    }
    if (redo) this.#redo = undefined;
    this.#clearBuffer();
    emit({
      type: 'RANGE_CHECKPOINTED',
      shardId: this.shardId,
      checkpoint: range.last,
      recordCount: entries.length,
    });
    await config.hooks.checkpointed?.(info);
  }

  /**
   * Writes the pending checkpoint, retrying table failures; `false` when the lease is gone.
   * @throws the table's error when it is not retriable (the shard then fails: see `#fail`).
   */
  async #prepare(batch: RecordBatch, last: ExtendedSequenceNumber, state: Uint8Array): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (this.#context.hardStopSignal.aborted) return false;
      try {
        await batch.prepareCheckpoint(last, state);
        return true;
      } catch (error) {
        if (error instanceof LeaseLostError) return false;
        if ((error as { retriable?: unknown }).retriable !== true) throw error;
        this.#context.emit({ type: 'ERROR', shardId: this.shardId, error: error as Error });
        const delayMs = backoffDelayMs(attempt, { initialDelayMs: 200, maxDelayMs: 10_000 });
        if (!(await sleepUnlessAborted(delayMs, this.#context.hardStopSignal))) return false;
      }
    }
  }
}

/**
 * A sequence number rather than a sentinel. (consumer-core's `isSequenceNumber` accepts at most 39 digits,
 * while Kinesis sequence numbers have 56 or more.)
 */
function isDecimal(value: string): boolean {
  return /^\d+$/.test(value);
}

function position(record: KinesisRecord): ExtendedSequenceNumber {
  return { sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber };
}
