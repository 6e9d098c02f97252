// KPL aggregation: the record format of the Kinesis Producer Library, read by the consumer and written by
// the producer. One owner (this folder); @shardline/producer reuses it through the package entry.

export type { AggregationErrorField } from './AggregationError.js';
export { AggregationError } from './AggregationError.js';
export { aggregate } from './aggregate.js';
export { KPL_MAGIC, MAX_HASH_KEY, MAX_PARTITION_KEY_LENGTH, MAX_RECORD_BYTES } from './constants.js';
export { deaggregate, isAggregated } from './deaggregate.js';
export { effectiveHashKey, partitionKeyHash } from './hashKey.js';
export type { OuterRecord, RecordAggregatorOptions } from './RecordAggregator.js';
export { RecordAggregator } from './RecordAggregator.js';
export type { DeaggregatedRecord, UserRecord } from './UserRecord.js';
export { isValidExplicitHashKey } from './UserRecord.js';
