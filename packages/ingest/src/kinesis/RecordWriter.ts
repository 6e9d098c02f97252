/** One record to write: the partition key and the stored bytes (the envelope). */
export interface RecordWriterEntry {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** A record the stream accepted. */
export interface RecordWriteSuccess {
  readonly shardId: string;
  /** Decimal, up to 128 bits. */
  readonly sequenceNumber: string;
}

/** A record the stream refused (per-record failure of `PutRecords`). */
export interface RecordWriteFailure {
  /** E.g. `ProvisionedThroughputExceededException`, `InternalFailure`, a KMS error code. */
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** The result of one entry, at the entry's index. */
export type RecordWriteResult = RecordWriteSuccess | RecordWriteFailure;

/**
 * The port the ingest handler writes through: one `PutRecords` call. Implementations return one result
 * per entry in entry order, and throw {@link UpstreamError} when the call failed as a whole.
 * {@link KinesisRecordWriter} is the AWS SDK adapter; `InMemoryRecordWriter` (from
 * `@shardline/ingest/testing`) the fake.
 */
export interface RecordWriter {
  /**
   * Writes at most 500 entries whose data and keys add up to at most the handler's
   * `maxPutRecordsBytes`.
   * @throws UpstreamError when no per-record result could be obtained.
   */
  putRecords(
    entries: readonly RecordWriterEntry[],
    signal?: AbortSignal,
  ): Promise<readonly RecordWriteResult[]>;
}

/** Whether a result is a failure. */
export function isRecordWriteFailure(result: RecordWriteResult): result is RecordWriteFailure {
  return (result as RecordWriteFailure).errorCode !== undefined;
}
