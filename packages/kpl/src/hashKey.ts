import { AggregationError } from './AggregationError.js';
import { isValidExplicitHashKey, partitionKeyHash } from './kinesisLimits.js';
import type { UserRecord } from './UserRecord.js';

/**
 * The hash key that places a record on a shard: its `explicitHashKey` when set, else
 * {@link partitionKeyHash} of its partition key.
 *
 * @throws {@link AggregationError} when `explicitHashKey` is not a decimal integer in [0, 2^128).
 */
export function effectiveHashKey(record: UserRecord): bigint {
  const explicit = record.explicitHashKey;
  if (explicit === undefined) return partitionKeyHash(record.partitionKey);
  if (!isValidExplicitHashKey(explicit)) {
    throw new AggregationError(
      'explicitHashKey',
      `explicitHashKey must be a decimal integer in [0, 2^128) without leading zeros, got ${JSON.stringify(explicit)}`,
    );
  }
  return BigInt(explicit);
}
