/**
 * What the contenders of `pnpm bench s3-sink` share: their input, the object-size rule, and the metrics
 * every contender computes the same way.
 */
import type { LocalTwinInfo } from '@shardline/local';

/** Compression of a drain: the sink's `compression` option and the bare loop's codec. */
export type DrainCompression = 'none' | 'gzip';

/** Input of the drain contenders (the sink and the bare loop). */
export interface DrainInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly shardIds: readonly string[];
  /** Records pre-loaded in the stream: the contender stops once every one of them is durable in S3. */
  readonly records: number;
  /** Sum of the records' data bytes (for MiB/s). */
  readonly recordBytes: number;
  /** A fresh, empty bucket for this contender and round. */
  readonly bucket: string;
  /** A fresh lease table name (the sink's `applicationName`; unused by the bare loop). */
  readonly tableName: string;
  readonly compression: DrainCompression;
  /** Data objects as JSON lines (default) or Parquet with {@link BENCH_PARQUET_COLUMNS}. */
  readonly format?: 'json' | 'parquet';
  /**
   * An object is closed once the record bytes buffered for it reach this (the sink's `bufferSizeBytes`
   * rule: the record that reaches it is the object's last), and at the end of the stream.
   */
  readonly bufferSizeBytes: number;
}

/** The metrics every drain contender returns (plus its own extras). */
export function drainMetrics(
  input: DrainInput,
  span: { readonly wallMs: number; readonly cpuUs: number },
  written: { readonly objects: number; readonly storedBytes: number },
): Record<string, number> {
  const seconds = span.wallMs / 1000;
  return {
    records_per_s: input.records / seconds,
    mib_per_s: input.recordBytes / 2 ** 20 / seconds,
    objects_per_min: written.objects / (seconds / 60),
    cpu_us_per_record: span.cpuUs / input.records,
    objects: written.objects,
    mean_object_mib: written.storedBytes / 2 ** 20 / written.objects,
    drain_s: seconds,
  };
}

/**
 * The Parquet columns of the sample events' `data` (after the envelope's `eventId` and `receivedAt`),
 * given to the sink as its schema and written the same way by the bare loop.
 */
export const BENCH_PARQUET_COLUMNS = [
  { name: 'event_time', type: 'timestamp', nullable: true },
  { name: 'event_type', type: 'string', nullable: true },
  { name: 'product_id', type: 'string', nullable: true },
  { name: 'category_id', type: 'string', nullable: true },
  { name: 'category_code', type: 'string', nullable: true },
  { name: 'brand', type: 'string', nullable: true },
  { name: 'price', type: 'number', nullable: true },
  { name: 'user_id', type: 'string', nullable: true },
  { name: 'user_session', type: 'string', nullable: true },
] as const;
/** The schema version both Parquet contenders name their objects with. */
export const BENCH_PARQUET_SCHEMA_VERSION = 'bench1';
