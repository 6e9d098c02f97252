import { AggregateBuilder } from './AggregateBuilder.js';
import { AggregationError } from './AggregationError.js';
import type { UserRecord } from './UserRecord.js';
import { validateUserRecord } from './UserRecord.js';

/**
 * Encodes user records as one KPL aggregated record: magic bytes `F3 89 9A C2`, the protobuf
 * `AggregatedRecord` (partition keys and explicit hash keys stored once in tables, records in the given
 * order), then the MD5 digest of the protobuf bytes. Readable by {@link deaggregate}, the Java KCL and
 * the aws-kinesis-agg libraries.
 *
 * The records must all belong to the same shard (consumers such as the Java KCL drop sub-records whose
 * hash key lies outside the receiving shard). This function does not enforce the Kinesis record size
 * limit and always aggregates, even one record: use {@link RecordAggregator} to fill records up to the
 * limit and to get the outer partition key.
 *
 * @throws {@link AggregationError} when `records` is empty or a record is invalid (partition key not 1–256
 * characters, explicit hash key not a decimal integer in [0, 2^128), data not a `Uint8Array`).
 *
 * @example
 * ```ts
 * const data = aggregate([
 *   { partitionKey: 'user-1', data: new TextEncoder().encode('{"a":1}') },
 *   { partitionKey: 'user-1', data: new TextEncoder().encode('{"a":2}') },
 * ]);
 * deaggregate(data); // [{ partitionKey: 'user-1', data, subSequenceNumber: 0 }, { ..., subSequenceNumber: 1 }]
 * ```
 */
export function aggregate(records: readonly UserRecord[]): Uint8Array {
  if (records.length === 0) throw new AggregationError('records', 'cannot aggregate zero records');
  const builder = new AggregateBuilder();
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    validateUserRecord(record, i);
    builder.add(record);
  }
  return builder.encode();
}
