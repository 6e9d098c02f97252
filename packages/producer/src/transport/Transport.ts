/**
 * A record as the producer hands it to a transport: the event already encoded as the ingest envelope
 * `{"eventId","receivedAt","data"}` (UTF-8 JSON, what lands in Kinesis whichever path it takes).
 */
export interface TransportRecord {
  /** The event's id (1–128 of `[A-Za-z0-9._:-]`), the same on every attempt. */
  readonly eventId: string;
  /** 1–256 characters. */
  readonly partitionKey: string;
  /** Overrides the partition key's hash (direct Kinesis transport only). */
  readonly explicitHashKey: string | undefined;
  /**
   * The envelope's UTF-8 bytes. Valid until the record is finished (written or dead-lettered): the
   * producer then releases them (`envelope` becomes empty), so a transport that keeps records after
   * `send` settles must copy what it needs.
   */
  readonly envelope: Uint8Array;
  /** Where `data`'s JSON starts in `envelope` (it ends one byte before the end: the closing brace). */
  readonly dataOffset: number;
}

/** What happened to one record of a request. */
export type RecordOutcome =
  | {
      readonly ok: true;
      readonly shardId: string;
      /** Decimal, up to 128 bits: compare as `BigInt`. */
      readonly sequenceNumber: string;
      /** Position inside a KPL aggregated record, when the record was aggregated. */
      readonly subSequenceNumber?: number;
    }
  | {
      readonly ok: false;
      /** e.g. `ProvisionedThroughputExceededException`, `InternalFailure`. */
      readonly errorCode: string;
      readonly errorMessage: string;
      /** Whether sending it again may succeed. */
      readonly retriable: boolean;
      /** Whether it was throttled. */
      readonly isThrottle: boolean;
    };

/** The answer to one {@link Transport.send}: one outcome per record, in request order. */
export interface SendResult {
  readonly outcomes: readonly RecordOutcome[];
  /** The server's `Retry-After`, when it gave one: failed records are not retried sooner. */
  readonly retryAfterMs?: number;
}

/** Request limits of a transport, used by the producer to cut batches. */
export interface TransportLimits {
  /** Records in one {@link Transport.send}. */
  readonly maxRecordsPerRequest: number;
  /** Bytes in one {@link Transport.send}, as counted by {@link Transport.requestBytes}. */
  readonly maxRequestBytes: number;
}

/**
 * Where the producer sends batches: Kinesis `PutRecords` ({@link kinesisTransport}), the ingest API
 * ({@link httpTransport}), or a fake in tests. Implementations translate their errors: a failure of
 * the whole request throws a {@link TransportError}; per-record failures come back as outcomes.
 */
export interface Transport {
  /** A name for logs and metrics, e.g. `kinesis` or `http`. */
  readonly name: string;
  /** The request limits. */
  readonly limits: TransportLimits;
  /** Bytes one record adds to a request, counted the way the request limit counts them. */
  requestBytes(record: TransportRecord): number;
  /**
   * Sends the records in one request (or, when the transport must, several).
   *
   * @throws {@link TransportError} when the request as a whole failed.
   */
  send(records: readonly TransportRecord[], signal: AbortSignal): Promise<SendResult>;
  /**
   * Checks, before anything is sent, that the destination exists and accepts this caller; writes
   * nothing.
   *
   * @throws `DestinationError` saying what is wrong (missing, forbidden, unreachable).
   */
  check?(signal: AbortSignal): Promise<void>;
  /** Releases what the transport created (never a client it was given). */
  close?(): Promise<void>;
}
