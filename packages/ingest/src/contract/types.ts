/** One record of a request: `POST /v1/event`'s body, or an element of `POST /v1/events`'s `records`. */
export interface IngestRecordInput {
  /** Any JSON value. Stored unchanged in value (big integers keep every digit). */
  readonly data: unknown;
  /** 1–256 UTF-16 code units. When absent the gateway uses the event id. */
  readonly partitionKey?: string;
  /** 1–128 characters of `[A-Za-z0-9._:-]`. When absent the gateway generates a UUIDv7. */
  readonly eventId?: string;
}

/** `POST /v1/events` body. */
export interface IngestEventsRequest {
  /** 1–500 records. */
  readonly records: readonly IngestRecordInput[];
}

/** A record Kinesis accepted. */
export interface IngestRecordWritten {
  readonly eventId: string;
  readonly shardId: string;
  /** Decimal, up to 128 bits: compare as `BigInt`, never as a number. */
  readonly sequenceNumber: string;
}

/** A record Kinesis did not accept: retry it, with the same `eventId`. */
export interface IngestRecordFailed {
  readonly eventId: string;
  /** Kinesis's per-record code, e.g. `ProvisionedThroughputExceededException`, `InternalFailure`. */
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** The result of one record, in request order. */
export type IngestRecordResult = IngestRecordWritten | IngestRecordFailed;

/**
 * `POST /v1/events` answer: 200 (every record written, `failedRecordCount` 0), 207 (some failed) or
 * 429 (every record throttled).
 */
export interface IngestEventsResponse {
  readonly failedRecordCount: number;
  /** One entry per request record, in request order. */
  readonly records: readonly IngestRecordResult[];
}

/** `POST /v1/event` answer with status 200. */
export type IngestEventResponse = IngestRecordWritten;

/** One problem of an error answer. */
export interface IngestProblem {
  /** JSON Pointer (RFC 6901) into the request body, e.g. `/records/3/partitionKey`; `""` is the whole body. */
  readonly path: string;
  readonly message: string;
}

/** Every error answer (4xx, 5xx; also `POST /v1/event`'s 429). */
export interface IngestErrorResponse {
  /** One of {@link IngestErrorCode}. */
  readonly error: string;
  readonly message: string;
  /** Present on 400 (every problem) and on 413 for oversize records. */
  readonly problems?: readonly IngestProblem[];
  /** On `POST /v1/event` write failures: the record's event id, to retry with. */
  readonly eventId?: string;
  /** On `POST /v1/event` write failures: Kinesis's per-record code. */
  readonly errorCode?: string;
}

/** Whether a record result is a failure. */
export function isFailedRecord(result: IngestRecordResult): result is IngestRecordFailed {
  return (result as IngestRecordFailed).errorCode !== undefined;
}
