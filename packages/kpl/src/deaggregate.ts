import { hash } from 'node:crypto';
import { DIGEST_BYTES, FRAME_BYTES, KPL_MAGIC, MAGIC_BYTES } from './constants.js';
import { isValidExplicitHashKey } from './kinesisLimits.js';
import { AggregatedRecordTag, RecordTag, TagTag } from './messages.js';
import type { DeaggregatedRecord } from './UserRecord.js';
import { WireFormatError, WireReader } from './wire.js';

// ignoreBOM keeps a leading U+FEFF: it is part of the key, not a byte order mark.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const [MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3] = KPL_MAGIC as readonly [number, number, number, number];

/**
 * Whether `data` starts with the KPL magic bytes `F3 89 9A C2` and is long enough to hold a digest.
 * Cheap; does not check the digest ({@link deaggregate} does).
 */
export function isAggregated(data: Uint8Array): boolean {
  return (
    data.length >= FRAME_BYTES &&
    data[0] === MAGIC_0 &&
    data[1] === MAGIC_1 &&
    data[2] === MAGIC_2 &&
    data[3] === MAGIC_3
  );
}

/**
 * Takes the user records out of a KPL aggregated Kinesis record.
 *
 * Returns `undefined` when `data` is not a valid aggregated record — no magic bytes, an MD5 digest that
 * does not match, a protobuf message that does not parse, a required field missing, a key index outside
 * its table, or an explicit hash key that is not a decimal in [0, 2^128). The caller then delivers `data`
 * as one plain record: it is never dropped. Never throws.
 *
 * Sub-records come in their stored order with `subSequenceNumber` 0, 1, 2…; a valid aggregate that holds
 * no records gives an empty array. Each `data` is a view into `data` (no copy): it stays valid as long as
 * the input is not modified, and keeps the whole input in memory while referenced. `explicitHashKey` is
 * always present as a property (`undefined` when unset) so that every record has the same shape.
 *
 * @example
 * ```ts
 * const userRecords = deaggregate(kinesisRecord.Data) ?? [{ partitionKey, data, subSequenceNumber: 0 }];
 * ```
 */
export function deaggregate(data: Uint8Array): DeaggregatedRecord[] | undefined {
  if (!isAggregated(data)) return undefined;
  const protobufEnd = data.length - DIGEST_BYTES;
  const digest = hash('md5', data.subarray(MAGIC_BYTES, protobufEnd), 'buffer');
  for (let i = 0; i < DIGEST_BYTES; i++) {
    if (digest[i] !== data[protobufEnd + i]) return undefined;
  }
  try {
    return parseAggregatedRecord(data, MAGIC_BYTES, protobufEnd);
  } catch (error) {
    if (error instanceof WireFormatError) return undefined;
    throw error;
  }
}

/**
 * Parses `AggregatedRecord` in two passes: the first collects the key tables and the bounds of each
 * `Record`; the second decodes the records, once the tables are complete (protobuf allows fields in any
 * order, so a record may come before the key it refers to).
 */
function parseAggregatedRecord(bytes: Uint8Array, start: number, end: number): DeaggregatedRecord[] {
  const partitionKeys: string[] = [];
  const explicitHashKeys: string[] = [];
  const recordBounds: number[] = []; // start, end, start, end, ...
  const reader = new WireReader(bytes, start, end);
  while (!reader.isAtEnd) {
    const tag = reader.readVarint();
    if (tag === AggregatedRecordTag.PARTITION_KEY_TABLE) {
      partitionKeys.push(readString(reader, bytes));
    } else if (tag === AggregatedRecordTag.EXPLICIT_HASH_KEY_TABLE) {
      const position = reader.pos;
      const key = readString(reader, bytes);
      // Checked here so that effectiveHashKey() can never throw on a de-aggregated record.
      if (!isValidExplicitHashKey(key)) throw new WireFormatError('invalid explicit hash key', position);
      explicitHashKeys.push(key);
    } else if (tag === AggregatedRecordTag.RECORDS) {
      const length = reader.readLength();
      recordBounds.push(reader.pos, reader.pos + length);
      reader.skipBytes(length);
    } else {
      reader.skipField(tag);
    }
  }

  const records: DeaggregatedRecord[] = new Array(recordBounds.length / 2);
  for (let r = 0; r < records.length; r++) {
    const recordStart = recordBounds[2 * r]!;
    reader.reset(recordStart, recordBounds[2 * r + 1]!);
    let partitionKeyIndex = -1;
    let explicitHashKeyIndex = -1;
    let dataStart = -1;
    let dataEnd = -1;
    while (!reader.isAtEnd) {
      const tag = reader.readVarint();
      if (tag === RecordTag.PARTITION_KEY_INDEX) {
        partitionKeyIndex = reader.readVarint();
      } else if (tag === RecordTag.EXPLICIT_HASH_KEY_INDEX) {
        explicitHashKeyIndex = reader.readVarint();
      } else if (tag === RecordTag.DATA) {
        const length = reader.readLength();
        dataStart = reader.pos;
        dataEnd = dataStart + length;
        reader.skipBytes(length);
      } else if (tag === RecordTag.TAGS) {
        const length = reader.readLength();
        checkTag(bytes, reader.pos, reader.pos + length);
        reader.skipBytes(length);
      } else {
        reader.skipField(tag);
      }
    }
    // Required fields (proto2) must be present; indexes must point into their tables.
    if (partitionKeyIndex < 0 || dataStart < 0)
      throw new WireFormatError('record misses a required field', recordStart);
    if (partitionKeyIndex >= partitionKeys.length)
      throw new WireFormatError('partition key index out of range', recordStart);
    if (explicitHashKeyIndex >= explicitHashKeys.length) {
      throw new WireFormatError('explicit hash key index out of range', recordStart);
    }
    records[r] = {
      partitionKey: partitionKeys[partitionKeyIndex]!,
      explicitHashKey: explicitHashKeyIndex < 0 ? undefined : explicitHashKeys[explicitHashKeyIndex],
      data: bytes.subarray(dataStart, dataEnd),
      subSequenceNumber: r,
    };
  }
  return records;
}

function readString(reader: WireReader, bytes: Uint8Array): string {
  const length = reader.readLength();
  const start = reader.pos;
  reader.skipBytes(length);
  return decoder.decode(bytes.subarray(start, start + length));
}

/** Tags are not delivered, but a malformed or keyless `Tag` makes the message invalid, as in protobuf. */
function checkTag(bytes: Uint8Array, start: number, end: number): void {
  const reader = new WireReader(bytes, start, end);
  let hasKey = false;
  while (!reader.isAtEnd) {
    const tag = reader.readVarint();
    if (tag === TagTag.KEY || tag === TagTag.VALUE) {
      reader.skipBytes(reader.readLength());
      if (tag === TagTag.KEY) hasKey = true;
    } else {
      reader.skipField(tag);
    }
  }
  if (!hasKey) throw new WireFormatError('tag misses its key', start);
}
