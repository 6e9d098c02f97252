/**
 * The bare loop's Parquet encoder for `pnpm bench s3-sink`: the same library (`hyparquet-writer`), the
 * same columns, types and file metadata as the sink's Parquet format, so both contenders write the same
 * bytes for the same records, with nothing of the sink: each envelope `JSON.parse`d (the sample events
 * hold no integer beyond 2^53), its fields copied into column arrays, one `parquetWriteBuffer` per
 * object.
 */
import { createHash } from 'node:crypto';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { BENCH_PARQUET_COLUMNS, BENCH_PARQUET_SCHEMA_VERSION } from './shared.js';

const PARQUET_TYPES = { string: 'STRING', number: 'DOUBLE', timestamp: 'TIMESTAMP' } as const;
const canonical = JSON.stringify(BENCH_PARQUET_COLUMNS.map((c) => [c.name, c.type, c.nullable]));
const kvMetadata = [
  { key: 'shardline.schema', value: canonical },
  { key: 'shardline.schemaVersion', value: BENCH_PARQUET_SCHEMA_VERSION },
];
// Checked once so that a change on either side shows: the sink's hash of the same columns.
export const BENCH_PARQUET_SCHEMA_HASH = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
const decoder = new TextDecoder();

/** One Parquet file of `records` (event envelopes), as the sink writes it. */
export function encodeParquet(records: readonly Uint8Array[]): Uint8Array {
  const count = records.length;
  const eventIds: string[] = new Array(count);
  const receivedAt: bigint[] = new Array(count);
  const columns: unknown[][] = BENCH_PARQUET_COLUMNS.map(() => new Array(count));
  for (let k = 0; k < count; k++) {
    const envelope = JSON.parse(decoder.decode(records[k]!)) as {
      eventId: string;
      receivedAt: string;
      data: Record<string, unknown>;
    };
    eventIds[k] = envelope.eventId;
    receivedAt[k] = BigInt(Date.parse(envelope.receivedAt));
    BENCH_PARQUET_COLUMNS.forEach((column, c) => {
      const value = envelope.data[column.name] ?? null;
      columns[c]![k] =
        value !== null && column.type === 'timestamp' ? BigInt(Date.parse(value as string)) : value;
    });
  }
  const columnData: ColumnSource[] = [
    { name: 'eventId', data: eventIds, type: 'STRING', nullable: false },
    { name: 'receivedAt', data: receivedAt, type: 'TIMESTAMP', nullable: false },
    ...BENCH_PARQUET_COLUMNS.map(
      (column, c): ColumnSource => ({
        name: column.name,
        data: columns[c]!,
        type: PARQUET_TYPES[column.type],
        nullable: column.nullable,
      }),
    ),
  ];
  return new Uint8Array(
    parquetWriteBuffer({
      columnData,
      codec: 'SNAPPY',
      rowGroupSize: count,
      kvMetadata,
      createdBy: 'shardline s3-sink (hyparquet-writer)',
    }),
  );
}
