import { fieldTag, WireType } from './wire.js';

/**
 * Field tags of the KPL's `messages.proto` (proto2), as documented in the KPL's aggregation-format.md:
 *
 * ```proto
 * message AggregatedRecord {
 *   repeated string partition_key_table     = 1;
 *   repeated string explicit_hash_key_table = 2;
 *   repeated Record records                 = 3;
 * }
 * message Record {
 *   required uint64 partition_key_index     = 1;
 *   optional uint64 explicit_hash_key_index = 2;
 *   required bytes  data                    = 3;
 *   repeated Tag    tags                    = 4;
 * }
 * message Tag {
 *   required string key   = 1;
 *   optional string value = 2;
 * }
 * ```
 *
 * Every tag fits in one byte.
 */
export const AggregatedRecordTag = {
  PARTITION_KEY_TABLE: fieldTag(1, WireType.LENGTH_DELIMITED),
  EXPLICIT_HASH_KEY_TABLE: fieldTag(2, WireType.LENGTH_DELIMITED),
  RECORDS: fieldTag(3, WireType.LENGTH_DELIMITED),
} as const;

/** Field tags of `Record`. */
export const RecordTag = {
  PARTITION_KEY_INDEX: fieldTag(1, WireType.VARINT),
  EXPLICIT_HASH_KEY_INDEX: fieldTag(2, WireType.VARINT),
  DATA: fieldTag(3, WireType.LENGTH_DELIMITED),
  TAGS: fieldTag(4, WireType.LENGTH_DELIMITED),
} as const;

/** Field tags of `Tag`. */
export const TagTag = {
  KEY: fieldTag(1, WireType.LENGTH_DELIMITED),
  VALUE: fieldTag(2, WireType.LENGTH_DELIMITED),
} as const;
