/**
 * `@shardline/kpl`: the record format of the Kinesis Producer Library (KPL aggregation), written by
 * `@shardline/producer` and read by `@shardline/consumer-core`. Pure functions over bytes; no AWS client,
 * no dependency.
 *
 * @example
 * ```ts
 * import { aggregate, deaggregate } from '@shardline/kpl';
 *
 * const data = aggregate([{ partitionKey: 'user-1', data: new TextEncoder().encode('{"a":1}') }]);
 * deaggregate(data); // [{ partitionKey: 'user-1', explicitHashKey: undefined, data, subSequenceNumber: 0 }]
 * ```
 *
 * @packageDocumentation
 */

// Errors
export type { AggregationErrorField } from './AggregationError.js';
export { AggregationError } from './AggregationError.js';
// Aggregation and de-aggregation
export { aggregate } from './aggregate.js';
export { KPL_MAGIC } from './constants.js';
export { deaggregate, isAggregated } from './deaggregate.js';
export type { ConfigurationProblem } from './errors.js';
export { ConfigurationError, ShardlineError } from './errors.js';
// Kinesis limits and hash keys
export { effectiveHashKey } from './hashKey.js';
export {
  isValidExplicitHashKey,
  MAX_HASH_KEY,
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORD_BYTES,
  partitionKeyHash,
} from './kinesisLimits.js';
export type { OuterRecord, RecordAggregatorOptions } from './RecordAggregator.js';
export { RecordAggregator } from './RecordAggregator.js';
export type { DeaggregatedRecord, UserRecord } from './UserRecord.js';
