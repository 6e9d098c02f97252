import * as zlib from 'node:zlib';
import type { KinesisRecord } from '@shardline/consumer-core';
import { BigIntegerMode, decodeEnvelope, INGEST_LIMITS, parseJson } from '@shardline/ingest';
import { ByteWriter, type ColumnSource, parquetWrite } from 'hyparquet-writer';
import { ErrorOutputType } from '../../keys/KeyTemplate.js';
import { jsonDepth } from '../../routing/jsonDepth.js';
import { errorRoute, type RecordRoute } from '../../routing/RecordRouter.js';
import { ParquetColumnType, type ParquetSchema } from './parquetSchema.js';
import { type ObjectBody, type ObjectRecords, type RecordFormat, RecordFormatName } from './RecordFormat.js';

/** Page compression of Parquet objects. */
export const ParquetCompression = {
  /** Snappy (pure JS, every Node version). */
  Snappy: 'snappy',
  /** Zstandard level 3, with Node's `zlib` (Node.js ≥ 22.15 only). */
  Zstd: 'zstd',
} as const;
/** See {@link ParquetCompression}. */
export type ParquetCompression = (typeof ParquetCompression)[keyof typeof ParquetCompression];

/** Settings of {@link createParquetFormat} (checked by `resolveS3SinkConfig`). */
export interface ParquetFormatSettings {
  readonly schema: ParquetSchema;
  readonly compression: ParquetCompression;
  /** Most rows per row group; `undefined`: one row group per object. */
  readonly rowGroupSize: number | undefined;
}

const ZSTD_LEVEL = 3;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const CREATED_BY = 'shardline s3-sink (hyparquet-writer)';
/**
 * The writer's version, pinned in package.json (a test keeps them equal): part of the format's
 * fingerprint, because another version may write other bytes for the same rows.
 */
export const PARQUET_WRITER_VERSION = '0.17.0';
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** Whether this Node.js has Zstandard in `zlib` (22.15 and later). */
export function isZstdAvailable(): boolean {
  return typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
}

/** A converted record: `[eventId, receivedAtMs, ...column values]` (`null` for missing). */
type Row = unknown[];

/**
 * The Parquet format: one row per record — the envelope's `eventId` (`STRING`, required) and
 * `receivedAt` (`TIMESTAMP(MILLIS, UTC)`, required), then the schema's columns from the top-level fields
 * of the envelope's `data`. Integers are read exactly (beyond 2^53 too). A record that does not fit
 * (not an envelope, `data` not an object, a required field missing, a value of the wrong type or out of
 * range) is routed to the error output as `format-conversion-failed` with the reason.
 *
 * Deterministic: no time, random or environment in the file; the same records give the same bytes
 * with the same library version.
 */
export function createParquetFormat(
  settings: ParquetFormatSettings,
): RecordFormat<readonly (Row | undefined)[]> {
  const { schema, compression, rowGroupSize } = settings;
  const codec = compression === ParquetCompression.Zstd ? 'ZSTD' : 'SNAPPY';
  const compressors =
    compression === ParquetCompression.Zstd
      ? {
          ZSTD: (input: Uint8Array) =>
            new Uint8Array(
              (
                zlib as unknown as {
                  zstdCompressSync(b: Uint8Array, o: object): Buffer;
                }
              ).zstdCompressSync(input, {
                params: { [(zlib.constants as Record<string, number>).ZSTD_c_compressionLevel!]: ZSTD_LEVEL },
              }),
            ),
        }
      : undefined;
  const kvMetadata = [
    { key: 'shardline.schema', value: schema.canonical },
    { key: 'shardline.schemaVersion', value: schema.version },
  ];
  return {
    name: RecordFormatName.Parquet,
    extension: `.${schema.version}.parquet`,
    contentType: 'application/vnd.apache.parquet',
    fingerprint: `parquet;writer=hyparquet-writer@${PARQUET_WRITER_VERSION};schema=${schema.version}:${schema.canonical};compression=${compression};rowGroupSize=${
      rowGroupSize ?? 'object'
    }`,
    prepare(records, routes) {
      const rows: (Row | undefined)[] = new Array(records.length);
      let converted: RecordRoute[] | undefined;
      for (let i = 0; i < records.length; i++) {
        const route = routes[i]!;
        if (route.kind !== 'data') continue;
        // The routed bytes: a transform's output when there is one, else the record as read.
        const row = convertRecordBytes(route.bytes ?? records[i]!.data, schema);
        if (typeof row === 'string') {
          converted ??= routes.slice();
          converted[i] = errorRoute(
            records[i]!,
            ErrorOutputType.FormatConversionFailed,
            'FormatConversionFailed',
            row,
          );
        } else rows[i] = row;
      }
      return { routes: converted ?? routes, prepared: rows };
    },
    // Made when the object is written, yielding to the event loop between row groups.
    encodesAtWrite: true,
    async encode(group: ObjectRecords, rows): Promise<ObjectBody> {
      const { indexes, count } = group;
      const width = schema.columns.length + 2;
      const values: unknown[][] = [];
      for (let c = 0; c < width; c++) values.push(new Array(count));
      for (let k = 0; k < count; k++) {
        const row = rows[indexes === undefined ? k : indexes[k]!]!;
        for (let c = 0; c < width; c++) values[c]![k] = row[c];
      }
      const columnData: ColumnSource[] = [
        { name: 'eventId', data: values[0]!, type: 'STRING', nullable: false },
        { name: 'receivedAt', data: values[1]!, type: 'TIMESTAMP', nullable: false },
        ...schema.columns.map(
          (column, c): ColumnSource => ({
            name: column.name,
            data: values[c + 2]!,
            type: PARQUET_TYPES[column.type],
            nullable: column.nullable,
          }),
        ),
      ];
      const writer = new ByteWriter() as ByteWriter & { flush?: () => Promise<void> };
      // Called after each row group: the next one is encoded after pending I/O and timers have run.
      writer.flush = () => new Promise((resolve) => setImmediate(resolve));
      await parquetWrite({
        writer,
        columnData,
        codec,
        compressors,
        rowGroupSize: rowGroupSize ?? count,
        kvMetadata,
        createdBy: CREATED_BY,
      });
      const body = new Uint8Array(writer.getBuffer());
      return { chunks: [body], uncompressedBytes: body.byteLength };
    },
  };
}

const PARQUET_TYPES = {
  string: 'STRING',
  integer: 'INT64',
  number: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'STRING',
} as const satisfies Record<ParquetColumnType, ColumnSource['type']>;

/**
 * One record as a row of `schema`, or why it does not fit. Pure.
 */
export function convertRecord(record: KinesisRecord, schema: ParquetSchema): Row | string {
  return convertRecordBytes(record.data, schema);
}

/**
 * {@link convertRecord} of a record's (routed) bytes. Never throws: whatever goes wrong is the reason
 * the record does not fit. Values nested deeper than the ingest contract's 64 levels are refused before
 * any recursive step, so the outcome never depends on the stack's size.
 */
function convertRecordBytes(bytes: Uint8Array, schema: ParquetSchema): Row | string {
  try {
    return convertEnvelope(bytes, schema);
  } catch (error) {
    return `cannot be converted: ${(error as Error).message}`;
  }
}

function convertEnvelope(bytes: Uint8Array, schema: ParquetSchema): Row | string {
  let envelope: ReturnType<typeof decodeEnvelope>;
  let data: unknown;
  try {
    // `JSON.parse` first (fast); read again exactly only when a value the columns take is a number
    // beyond 2^53, the only case where `JSON.parse` may have lost digits. (The exact reader is chosen by
    // the text alone, and long digit runs in strings — ids — are common.)
    envelope = decodeEnvelope(bytes, { integers: BigIntegerMode.Number });
    const depth = jsonDepth(envelope.dataBytes);
    if (depth > INGEST_LIMITS.maxDataDepth) {
      return `data is nested ${depth} levels deep, over the ${INGEST_LIMITS.maxDataDepth} of the event contract`;
    }
    data = envelope.data;
    if (typeof data === 'object' && data !== null && !Array.isArray(data) && hasUnsafeNumber(data, schema)) {
      data = parseJson(envelope.dataJson, BigIntegerMode.BigInt);
    }
  } catch (error) {
    return `not an event envelope with JSON data: ${(error as Error).message}`;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return `data is ${data === null ? 'null' : Array.isArray(data) ? 'an array' : `a ${typeof data}`}, not a JSON object`;
  }
  const receivedAtMs = Date.parse(envelope.receivedAt);
  if (!Number.isFinite(receivedAtMs)) return `receivedAt "${envelope.receivedAt}" is not a time`;
  const row: Row = [envelope.eventId, BigInt(receivedAtMs)];
  const fields = data as Record<string, unknown>;
  for (const column of schema.columns) {
    const value = Object.hasOwn(fields, column.name) ? fields[column.name] : undefined;
    if (value === undefined || value === null) {
      if (!column.nullable) {
        return `column ${column.name}: ${value === null ? 'is null' : 'is missing'}, and it is not nullable`;
      }
      row.push(null);
      continue;
    }
    const converted = convertValue(value, column.type);
    if (typeof converted === 'string') return `column ${column.name}: ${converted}`;
    row.push(converted.value);
  }
  return row;
}

/** Whether a value of `data` that a column takes is, or holds, a number beyond ±2^53. */
function hasUnsafeNumber(data: object, schema: ParquetSchema): boolean {
  const fields = data as Record<string, unknown>;
  for (const column of schema.columns) {
    if (Object.hasOwn(fields, column.name) && isOrHoldsUnsafeNumber(fields[column.name])) return true;
  }
  return false;
}

function isOrHoldsUnsafeNumber(value: unknown): boolean {
  if (typeof value === 'number') return Math.abs(value) > Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'object' || value === null) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    if (isOrHoldsUnsafeNumber(v)) return true;
  }
  return false;
}

function convertValue(value: unknown, type: ParquetColumnType): { value: unknown } | string {
  switch (type) {
    case ParquetColumnType.String:
      return typeof value === 'string' ? { value } : expected('a string', value);
    case ParquetColumnType.Boolean:
      return typeof value === 'boolean' ? { value } : expected('a boolean', value);
    case ParquetColumnType.Integer:
      if (typeof value === 'bigint') {
        return value >= INT64_MIN && value <= INT64_MAX
          ? { value }
          : `${value} does not fit in INT64 (±2^63)`;
      }
      if (typeof value === 'number' && Number.isInteger(value)) {
        // Integers written as integer tokens arrive exact (bigint beyond 2^53); a number beyond 2^53
        // here came from a token like 1e20 or 12345678901234567.0 and may have lost digits.
        return Number.isSafeInteger(value)
          ? { value: BigInt(value) }
          : `${describe(value)} is beyond 2^53 and not written as an integer: it cannot be stored exactly`;
      }
      return expected('an integer', value);
    case ParquetColumnType.Number:
      // `JSON.parse` reads 1e400 as Infinity: not the number that was sent.
      if (typeof value === 'number')
        return Number.isFinite(value) ? { value } : `${describe(value)} is out of a DOUBLE's range`;
      if (typeof value === 'bigint') {
        const n = Number(value);
        return BigInt(n) === value ? { value: n } : `${value} cannot be stored exactly as a DOUBLE`;
      }
      return expected('a number', value);
    case ParquetColumnType.Timestamp:
      return timestampMs(value);
    case ParquetColumnType.Json:
      return holdsNonFinite(value)
        ? `${describe(value)} holds a number out of a DOUBLE's range (it would be written as null)`
        : { value: exactJson(value) };
  }
}

function timestampMs(value: unknown): { value: bigint } | string {
  if (typeof value === 'number' || typeof value === 'bigint') {
    const ms = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : undefined;
    if (ms === undefined || ms < INT64_MIN || ms > INT64_MAX) {
      return `${describe(value)} is not integer epoch milliseconds`;
    }
    return { value: ms };
  }
  if (typeof value !== 'string') return expected('an RFC 3339 date-time or epoch milliseconds', value);
  const m = RFC3339.exec(value);
  if (!m) return `${describe(value)} is not an RFC 3339 date-time with an offset (Z or ±hh:mm)`;
  const [, y, mo, d, h, mi, s, fraction = ''] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return `${describe(value)} is not a valid date-time`;
  }
  if (/[1-9]/.test(fraction.slice(3))) {
    return `${describe(value)} is finer than milliseconds (the column holds milliseconds)`;
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return `${describe(value)} is not a valid date-time`;
  return { value: BigInt(ms) };
}

function expected(what: string, value: unknown): string {
  return `expected ${what}, got ${describe(value)}`;
}

function describe(value: unknown): string {
  const text =
    typeof value === 'bigint' || (typeof value === 'number' && !Number.isFinite(value))
      ? String(value)
      : typeof value === 'object'
        ? exactJson(value)
        : JSON.stringify(value);
  const kind = Array.isArray(value) ? 'array' : typeof value === 'bigint' ? 'number' : typeof value;
  return `${text.length > 64 ? `${text.slice(0, 61)}...` : text} (${kind})`;
}

/** Whether a parsed value is or holds a number `JSON.parse` made infinite (1e400). Depth ≤ 64. */
function holdsNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (holdsNonFinite(v)) return true;
  return false;
}

/** JSON text of a parsed value, big integers (bigint) written as their exact digits. */
function exactJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(exactJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${exactJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
