import {
  MAX_PARTITION_KEY_LENGTH,
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_RECORDS,
  MAX_RECORD_BYTES,
} from '@shardline/common';

const MiB = 1024 * 1024;

/**
 * The limits of the ingest API contract. Every gateway (the handler, the local gateway, API Gateway's
 * `direct` mode) enforces these numbers.
 */
export const INGEST_LIMITS = Object.freeze({
  /** Request body, after gzip decompression (API Gateway's payload limit is 10 MB). */
  maxBodyBytes: 10 * MiB,
  /** Records in one `POST /v1/events` request (one `PutRecords` call: 500 records). */
  maxRecordsPerRequest: MAX_PUT_RECORDS_RECORDS,
  /** Records in one `POST /v1/events` request, at least. */
  minRecordsPerRequest: 1,
  /**
   * A record's stored form: the envelope's UTF-8 bytes plus the partition key's UTF-8 bytes (Kinesis
   * counts both toward its 1 MiB record limit).
   */
  maxRecordBytes: MAX_RECORD_BYTES,
  /** Partition key length in UTF-16 code units (Kinesis: 1–256 characters). */
  maxPartitionKeyLength: MAX_PARTITION_KEY_LENGTH,
  /** Event id length. */
  maxEventIdLength: 128,
  /**
   * Nesting of a record's `data` value: arrays and objects inside one another. `[]` and `{}` are
   * level 1; 64 levels are accepted, 65 rejected.
   */
  maxDataDepth: 64,
  /** One `PutRecords` call: at most 500 records. */
  maxPutRecordsRecords: MAX_PUT_RECORDS_RECORDS,
  /**
   * One `PutRecords` call: data plus partition keys. AWS accepted 5 MiB historically (10 MiB since late
   * 2025); kinesalite refuses HTTP bodies over 7 MiB, which base64-encoded 5 MiB still fits.
   */
  maxPutRecordsBytes: MAX_PUT_RECORDS_BYTES,
});

/** Characters allowed in an `eventId`. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The API's routes. */
export const IngestRoute = {
  /** `POST /v1/events`: `{ "records": [ ... ] }`, 1–500 records. */
  Events: '/v1/events',
  /** `POST /v1/event`: one record object as the body. */
  Event: '/v1/event',
} as const;
/** See {@link IngestRoute}. */
export type IngestRoute = (typeof IngestRoute)[keyof typeof IngestRoute];

/** The header carrying the API key. */
export const API_KEY_HEADER = 'x-api-key';

/**
 * The `error` codes of error answers, with their status.
 *
 * Checks run in this order and the first failing one answers: route (404, API Gateway: 403), method
 * (405, API Gateway: 403), API key (403), media type and content encoding (415), body size (413), JSON
 * syntax (400 `InvalidBody`), schema (400 `ValidationFailed`), record size (413), then the write.
 */
export const IngestErrorCode = {
  /** 404: no such route. */
  NotFound: 'NotFound',
  /** 405: the route exists, the method does not (`Allow` lists the methods). */
  MethodNotAllowed: 'MethodNotAllowed',
  /** 403: missing or unknown `x-api-key`. */
  Forbidden: 'Forbidden',
  /** 415: `Content-Type` is not `application/json`, or `Content-Encoding` is neither `gzip` nor `identity`. */
  UnsupportedMediaType: 'UnsupportedMediaType',
  /** 413: the body (after decompression) or one of its records is too large. */
  PayloadTooLarge: 'PayloadTooLarge',
  /** 400: the body is not valid JSON (syntax, UTF-8, lone surrogate, bad gzip data). */
  InvalidBody: 'InvalidBody',
  /** 400: valid JSON that breaks the schema. `problems` lists every problem. */
  ValidationFailed: 'ValidationFailed',
  /** 429: every record was throttled by Kinesis (`Retry-After` says when to retry). */
  Throttled: 'Throttled',
  /** 502: Kinesis refused the write for good (missing stream, access denied...). */
  UpstreamRejected: 'UpstreamRejected',
  /** 503: Kinesis could not be reached or failed; retry later (`Retry-After`). */
  UpstreamUnavailable: 'UpstreamUnavailable',
  /** 500: a fault of the gateway itself. */
  InternalError: 'InternalError',
} as const;
/** See {@link IngestErrorCode}. */
export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];

/** The HTTP status of each error code. */
export const INGEST_ERROR_STATUS: Readonly<Record<IngestErrorCode, number>> = Object.freeze({
  NotFound: 404,
  MethodNotAllowed: 405,
  Forbidden: 403,
  UnsupportedMediaType: 415,
  PayloadTooLarge: 413,
  InvalidBody: 400,
  ValidationFailed: 400,
  Throttled: 429,
  UpstreamRejected: 502,
  UpstreamUnavailable: 503,
  InternalError: 500,
});

/** Per-record `errorCode` that Kinesis gives a throttled entry. */
export const THROTTLED_RECORD_ERROR_CODE = 'ProvisionedThroughputExceededException';
