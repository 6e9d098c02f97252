import { deaggregate, effectiveHashKey } from '@shardline/kpl';
import {
  compareExtendedSequenceNumbers,
  type ExtendedSequenceNumber,
} from '../checkpoint/ExtendedSequenceNumber.js';
import type { ConsumerEventListener } from '../events.js';
import type { HashKeyRange } from '../leases/Lease.js';
import type { KinesisRecord, ReadResult } from './ShardReader.js';

/** A record as the Kinesis API returns it (fields of the SDK's `_Record` that matter here). */
export interface RawKinesisRecord {
  readonly Data?: Uint8Array;
  readonly PartitionKey?: string;
  readonly SequenceNumber?: string;
  readonly ApproximateArrivalTimestamp?: Date;
}

/** Result of {@link toKinesisRecords}. */
export interface ConvertedRecords {
  readonly records: KinesisRecord[];
  readonly byteCount: number;
  /** Sub-records whose hash key is outside the shard's range (delivered anyway, reported). */
  readonly outsideRange: KinesisRecord[];
}

/**
 * Turns raw Kinesis records into user records: KPL aggregated records are split into their sub-records
 * (a record with the magic but a bad digest stays one plain record); records at or before `skipThrough`
 * (a sub-sequence checkpoint inside an aggregated record) are dropped.
 */
export function toKinesisRecords(
  raw: readonly RawKinesisRecord[],
  hashKeyRange: HashKeyRange | undefined,
  skipThrough: ExtendedSequenceNumber | undefined,
): ConvertedRecords {
  const records: KinesisRecord[] = [];
  const outsideRange: KinesisRecord[] = [];
  let byteCount = 0;
  let range: [bigint, bigint] | undefined;
  for (const r of raw) {
    const data = r.Data ?? new Uint8Array(0);
    const sequenceNumber = r.SequenceNumber ?? '';
    const approximateArrivalTimestamp = r.ApproximateArrivalTimestamp ?? new Date(0);
    const subRecords = deaggregate(data);
    if (subRecords === undefined) {
      const record: KinesisRecord = {
        data,
        partitionKey: r.PartitionKey ?? '',
        explicitHashKey: undefined,
        sequenceNumber,
        subSequenceNumber: 0,
        approximateArrivalTimestamp,
        isAggregated: false,
      };
      if (skipThrough && compareExtendedSequenceNumbers(record, skipThrough) <= 0) continue;
      records.push(record);
      byteCount += data.byteLength + record.partitionKey.length;
      continue;
    }
    for (const sub of subRecords) {
      const record: KinesisRecord = {
        data: sub.data,
        partitionKey: sub.partitionKey,
        explicitHashKey: sub.explicitHashKey,
        sequenceNumber,
        subSequenceNumber: sub.subSequenceNumber,
        approximateArrivalTimestamp,
        isAggregated: true,
      };
      if (skipThrough && compareExtendedSequenceNumbers(record, skipThrough) <= 0) continue;
      if (hashKeyRange) {
        range ??= [BigInt(hashKeyRange.startingHashKey), BigInt(hashKeyRange.endingHashKey)];
        const hash = effectiveHashKey(sub);
        if (hash < range[0] || hash > range[1]) outsideRange.push(record);
      }
      records.push(record);
      byteCount += sub.data.byteLength + sub.partitionKey.length;
    }
  }
  return { records, byteCount, outsideRange };
}

/**
 * The batch a reader yields for `converted` (`undefined` when every record was skipped), after reporting
 * each sub-record outside the shard's range as `RECORD_OUTSIDE_SHARD_RANGE`: the one shape of a batch for
 * every retrieval mode.
 */
export function toRecordsResult(
  converted: ConvertedRecords,
  millisBehindLatest: number | undefined,
  shardId: string,
  onEvent: ConsumerEventListener,
): Extract<ReadResult, { kind: 'records' }> | undefined {
  for (const record of converted.outsideRange) {
    onEvent({
      type: 'RECORD_OUTSIDE_SHARD_RANGE',
      shardId,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: record.subSequenceNumber,
      partitionKey: record.partitionKey,
    });
  }
  if (converted.records.length === 0) return undefined;
  return { kind: 'records', records: converted.records, millisBehindLatest, byteCount: converted.byteCount };
}
