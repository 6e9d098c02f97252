import { hash } from 'node:crypto';
import { AggregationError } from './AggregationError.js';
import type { UserRecord } from './UserRecord.js';
import { isValidExplicitHashKey } from './UserRecord.js';

/**
 * The hash key Kinesis derives from a partition key: the MD5 digest of its UTF-8 bytes, read as an
 * unsigned 128-bit big-endian integer. A record goes to the shard whose hash key range holds it.
 *
 * @example
 * ```ts
 * partitionKeyHash('user-42'); // 0 <= h < 2n ** 128n
 * ```
 */
export function partitionKeyHash(partitionKey: string): bigint {
  const digest = hash('md5', partitionKey, 'buffer');
  return (digest.readBigUInt64BE(0) << 64n) | digest.readBigUInt64BE(8);
}

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
