import type { ExtendedSequenceNumber } from '@shardline/consumer-core';

/** Why a buffer was closed into a range. */
export const SealReason = {
  /** `bufferSizeBytes` reached. */
  Size: 'size',
  /** `bufferIntervalMs` passed since its oldest record was added. */
  Interval: 'interval',
  /** `bufferRecords` records taken (Kafka Connect's `flush.size`). */
  RecordCount: 'record-count',
  /** One more partition than `maxActivePartitions`. */
  PartitionLimit: 'partition-limit',
  /**
   * The shard's session ended while the sink runs: the shard was read to its end (its objects are closed
   * before `SHARD_END` is written), or its lease is being handed to another worker.
   */
  SessionEnd: 'session-end',
  /** The sink is stopping. */
  Stop: 'stop',
  /** The range a previous owner prepared was read again: it is redone exactly. */
  Redo: 'redo',
} as const;
/** See {@link SealReason}. */
export type SealReason = (typeof SealReason)[keyof typeof SealReason];

/** Event types of {@link S3SinkEvent}. */
export const S3SinkEventType = {
  RangeSealed: 'RANGE_SEALED',
  RangePrepared: 'RANGE_PREPARED',
  ObjectWritten: 'OBJECT_WRITTEN',
  RangeCheckpointed: 'RANGE_CHECKPOINTED',
  RangeAbandoned: 'RANGE_ABANDONED',
  RecordsAlreadyArchived: 'RECORDS_ALREADY_ARCHIVED',
  PendingRangeMismatch: 'PENDING_RANGE_MISMATCH',
  RedoSettingsChanged: 'REDO_SETTINGS_CHANGED',
  RecordsDropped: 'RECORDS_DROPPED',
  MultipartUploadAborted: 'MULTIPART_UPLOAD_ABORTED',
  Retry: 'RETRY',
  ShardFailed: 'SHARD_FAILED',
  Error: 'ERROR',
} as const;
/** See {@link S3SinkEventType}. */
export type S3SinkEventType = (typeof S3SinkEventType)[keyof typeof S3SinkEventType];

/** What the sink reports (the consumer's own events are on `sink.consumer.events$`). */
export type S3SinkEvent =
  | {
      readonly type: 'RANGE_SEALED';
      readonly shardId: string;
      readonly reason: SealReason;
      readonly first: ExtendedSequenceNumber;
      readonly last: ExtendedSequenceNumber;
      readonly recordCount: number;
      readonly inputBytes: number;
      /** How long its oldest record waited in the buffer. */
      readonly bufferAgeMs: number;
    }
  | {
      /** The intended range is in the lease table (`pendingCheckpoint`): uploads may start. */
      readonly type: 'RANGE_PREPARED';
      readonly shardId: string;
      readonly last: ExtendedSequenceNumber;
      readonly objectCount: number;
    }
  | {
      readonly type: 'OBJECT_WRITTEN';
      readonly shardId: string;
      readonly key: string;
      readonly kind: 'data' | 'error';
      readonly recordCount: number;
      /** Bytes stored (after compression). */
      readonly bytes: number;
      readonly uncompressedBytes: number;
      readonly isMultipart: boolean;
      /** From the first attempt to the durable object, retries included. */
      readonly uploadLatencyMs: number;
      /** The error output's type (`processing-failed`...) of an `error` object; `undefined` for `data`. */
      readonly errorOutputType: string | undefined;
    }
  | {
      readonly type: 'RANGE_CHECKPOINTED';
      readonly shardId: string;
      readonly checkpoint: ExtendedSequenceNumber;
      readonly recordCount: number;
    }
  | {
      /** A range was left unwritten (lease lost): the next owner redoes it. */
      readonly type: 'RANGE_ABANDONED';
      readonly shardId: string;
      readonly recordCount: number;
      readonly reason: string;
    }
  | {
      /**
       * Records between the checkpoint and a previous owner's pending range: already in S3 (a range is
       * prepared only once every earlier one is durable), so they are not written again.
       */
      readonly type: 'RECORDS_ALREADY_ARCHIVED';
      readonly shardId: string;
      readonly recordCount: number;
    }
  | {
      /** A redone range gave other keys than the previous owner's (the configuration changed?). */
      readonly type: 'PENDING_RANGE_MISMATCH';
      readonly shardId: string;
      readonly message: string;
    }
  | {
      /**
       * A previous owner's pending range is redone, and it was prepared with other settings than today's
       * (another transform `version`, other format options, another time-zone database): the transform
       * or the settings changed between the crash and the redo, so the redo's objects may differ from
       * those already written. Reported once; the redo proceeds with today's settings.
       */
      readonly type: 'REDO_SETTINGS_CHANGED';
      readonly shardId: string;
      readonly first: ExtendedSequenceNumber;
      readonly last: ExtendedSequenceNumber;
      readonly preparedFingerprint: string;
      readonly currentFingerprint: string;
      readonly message: string;
    }
  | {
      /**
       * Records the transform dropped (`Dropped`), counted once the range holding them is durable (its
       * objects written; the checkpoint passes them).
       */
      readonly type: 'RECORDS_DROPPED';
      readonly shardId: string;
      /** The last record of their range. */
      readonly last: ExtendedSequenceNumber;
      readonly recordCount: number;
    }
  | {
      readonly type: 'MULTIPART_UPLOAD_ABORTED';
      readonly shardId: string;
      readonly key: string;
      readonly uploadId: string;
      /** `failure` (this upload failed) or `takeover` (left by a previous owner of the shard). */
      readonly reason: 'failure' | 'takeover';
    }
  | {
      readonly type: 'RETRY';
      readonly shardId: string;
      readonly key: string;
      readonly attempt: number;
      readonly delayMs: number;
      /** Why, in a few words: `connection refused`, `throttled (SlowDown)`, `no such bucket`... */
      readonly reason: string;
      readonly error: Error;
    }
  | {
      /**
       * Archiving the shard failed for a reason that is not one record's (a hook threw, the lease table
       * refused the pending checkpoint, a step threw): nothing more is written or checkpointed for it
       * and its lease is released, so the next owner (or this worker, later) redoes it from its last
       * checkpoint. Records of a range already prepared are redone exactly.
       */
      readonly type: 'SHARD_FAILED';
      readonly shardId: string;
      /** Records buffered and dropped (read again by the next owner). */
      readonly recordCount: number;
      readonly error: Error;
    }
  | { readonly type: 'ERROR'; readonly shardId: string | undefined; readonly error: Error };

/** Information given to a hook. */
export interface S3SinkHookInfo {
  readonly shardId: string;
  readonly first: ExtendedSequenceNumber;
  readonly last: ExtendedSequenceNumber;
  readonly recordCount: number;
  /** The objects' keys. */
  readonly keys: readonly string[];
}

/**
 * Named points of the write path, for fault-injection tests: each hook is awaited (a hook that never
 * resolves holds the sink at that point, e.g. for a SIGKILL). A hook that throws or rejects fails the
 * shard (`SHARD_FAILED`: no checkpoint, lease released, the range redone by the next owner). Not for
 * production logic.
 */
export interface S3SinkHooks {
  /** A buffer was closed into a range; nothing is written yet. */
  readonly rangeSealed?: (info: S3SinkHookInfo) => Promise<void> | void;
  /** The pending checkpoint is written; no object upload has started. */
  readonly pendingWritten?: (info: S3SinkHookInfo) => Promise<void> | void;
  /** Every object (and manifest) of the range is durable; the checkpoint is not written yet. */
  readonly objectsWritten?: (info: S3SinkHookInfo) => Promise<void> | void;
  /** The checkpoint after the range is written. */
  readonly checkpointed?: (info: S3SinkHookInfo) => Promise<void> | void;
}

/**
 * Counters and gauges of one sink worker (see `S3Sink.metrics()`).
 *
 * The record counts never overlap: a record the sink took from a shard's batches is buffered
 * (`bufferedRecords`) until the object holding it is durable, then counted once, as written
 * (`recordsWritten`, or `errorRecords` for the error output, or `recordsDropped` for a record the
 * transform dropped, once its range's objects are durable), in the same step that removes it from
 * `bufferedRecords`. So `bufferedRecords + recordsWritten + errorRecords + recordsDropped` is the number
 * of records taken so far, minus those dropped for the next owner to redo (`RANGE_ABANDONED`, `SHARD_FAILED`), and it
 * never counts a record twice. Records that the consumer has fetched but the sink has not taken yet (its
 * read-ahead, bounded by the consumer's buffer) are in none of these counts.
 */
export interface S3SinkMetrics {
  /** Data objects made durable (each with its manifest). */
  readonly objectsWritten: number;
  /** Error-output objects made durable. */
  readonly errorObjectsWritten: number;
  /** Bytes stored (after compression). */
  readonly bytesWritten: number;
  /** Records in durable data objects (counted when the object and its manifest are written). */
  readonly recordsWritten: number;
  /** Records in durable error-output objects. */
  readonly errorRecords: number;
  /** S3 request failures (each retried). */
  readonly uploadErrors: number;
  /** Records the transform dropped, counted once their range's objects are durable. */
  readonly recordsDropped: number;
  /** Redone ranges prepared with other settings (`REDO_SETTINGS_CHANGED`). */
  readonly redoSettingsChanges: number;
  /**
   * Records held and not yet in a durable object now: the open buffers, and the records of sealed
   * ranges whose objects are still being written. Never counted in `recordsWritten`/`errorRecords` at
   * the same time.
   */
  readonly bufferedRecords: number;
  /** Kinesis payload bytes of the {@link S3SinkMetrics.bufferedRecords}. */
  readonly bufferedBytes: number;
  /**
   * Age of the oldest buffer (open or being written) that holds {@link S3SinkMetrics.bufferedRecords},
   * since its first record was taken (0 when there are none).
   */
  readonly oldestBufferAgeMs: number;
  /** Shards this worker archives now. */
  readonly activeShards: number;
}
