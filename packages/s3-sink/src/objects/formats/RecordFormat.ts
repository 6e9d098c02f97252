import type { KinesisRecord } from '@shardline/consumer-core';
import { type RecordRoute, routedBytes } from '../../routing/RecordRouter.js';

/** The record formats of data objects. */
export const RecordFormatName = {
  /** Newline-delimited records (JSON lines), as they are routed: Firehose's output. */
  Json: 'json',
  /** Apache Parquet, one row per record, columns from a schema. */
  Parquet: 'parquet',
} as const;
/** See {@link RecordFormatName}. */
export type RecordFormatName = (typeof RecordFormatName)[keyof typeof RecordFormatName];

/**
 * The records of one object: indexes into a sealed range's `records` and `routes` (`indexes`
 * `undefined`: all of them, in order — most ranges have one destination).
 */
export interface ObjectRecords {
  /** The whole range's records, in shard order. */
  readonly records: readonly KinesisRecord[];
  /** Each record's route, at the same index. */
  readonly routes: readonly RecordRoute[];
  /** The object's records as indexes into `records`; `undefined`: all of them. */
  readonly indexes: readonly number[] | undefined;
  /** How many records the object holds. */
  readonly count: number;
}

/** An object's body before compression, as chunks written in order. */
export interface ObjectBody {
  /** The body's bytes, in order (views of the records where possible). */
  readonly chunks: readonly Uint8Array[];
  /** The sum of the chunks' lengths. */
  readonly uncompressedBytes: number;
}

/**
 * The seam between routing and compression: how the records of one data object become its body.
 * Implementations must be pure and deterministic — the same records always give the same bytes, in
 * any process (a redone range rewrites its objects under the same keys).
 *
 * @typeParam Prepared - what {@link RecordFormat.prepare} computes once per range for `encode`.
 */
export interface RecordFormat<Prepared = unknown> {
  /** Which format: in manifests (`format`) and the fingerprint. */
  readonly name: RecordFormatName;
  /** Appended to data object keys, before the codec's extension (e.g. `.v1.parquet`; may be empty). */
  readonly extension: string;
  /** The data objects' `Content-Type`; `undefined`: the codec's. */
  readonly contentType: string | undefined;
  /**
   * Stable text of the format's settings (name, schema, page compression, row groups): two formats
   * with the same fingerprint write the same bytes for the same records.
   */
  readonly fingerprint: string;
  /**
   * Converts a range's data records, before objects are planned. Returns the routes to plan with:
   * `routes` itself when every record fits, or a copy where each record that does not is routed to the
   * error output (`format-conversion-failed`).
   */
  prepare(
    records: readonly KinesisRecord[],
    routes: readonly RecordRoute[],
  ): { readonly routes: readonly RecordRoute[]; readonly prepared: Prepared };
  /**
   * Whether the body is made when the object is written (`encode` may then return a promise and yield
   * to the event loop) rather than when the range is planned. Heavy formats (Parquet) set it: their
   * plans hold keys and counts only, and the work runs between other tasks (lease renewals).
   */
  readonly encodesAtWrite: boolean;
  /** The body of one data object (its records all have data routes). */
  encode(records: ObjectRecords, prepared: Prepared): ObjectBody | Promise<ObjectBody>;
}

const NEWLINE = new Uint8Array([0x0a]);

/**
 * Writes each record's routed bytes in order, with a newline after each when `newlineDelimiter`:
 * the bytes are views of the records (no copy, no allocation per record but the chunk list).
 */
export function encodeLines(records: ObjectRecords, newlineDelimiter: boolean): ObjectBody {
  const { indexes, count } = records;
  const chunks: Uint8Array[] = [];
  let uncompressedBytes = 0;
  for (let k = 0; k < count; k++) {
    const i = indexes === undefined ? k : indexes[k]!;
    const bytes = routedBytes(records.records[i]!, records.routes[i]!);
    chunks.push(bytes);
    uncompressedBytes += bytes.byteLength;
    if (newlineDelimiter) {
      chunks.push(NEWLINE);
      uncompressedBytes += 1;
    }
  }
  return { chunks, uncompressedBytes };
}

const NOTHING_PREPARED = undefined;

/**
 * The default format: each record's routed bytes (the envelope, or its `data`), one per line when
 * `newlineDelimiter`. The error output is always written this way, with newlines.
 */
export function jsonLinesFormat(newlineDelimiter: boolean): RecordFormat<undefined> {
  return {
    name: RecordFormatName.Json,
    extension: '',
    contentType: undefined,
    fingerprint: `json;newline=${newlineDelimiter}`,
    encodesAtWrite: false,
    prepare: (_records, routes) => ({ routes, prepared: NOTHING_PREPARED }),
    encode: (records) => encodeLines(records, newlineDelimiter),
  };
}

/**
 * Stable text of a format's settings (name, schema and its version, page compression, row-group
 * bound), e.g. to record with a pending range and detect a change between a range and its redo.
 * The object codec (`compression`) is not part of it.
 */
export function formatFingerprint(format: RecordFormat): string {
  return format.fingerprint;
}
