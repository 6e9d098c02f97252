// The Kinesis Data Streams limits and validators the codec relies on: the limits are @shardline/common's;
// what is left here is the codec's own reading of them.
import { hash } from 'node:crypto';
import { hasLoneSurrogate, MAX_PARTITION_KEY_LENGTH } from '@shardline/common';

export {
  isValidExplicitHashKey,
  MAX_HASH_KEY,
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORD_BYTES,
} from '@shardline/common';

/** What is wrong with a partition key, or `undefined` when it is valid. */
export function partitionKeyProblem(partitionKey: unknown): string | undefined {
  if (typeof partitionKey !== 'string') return `partitionKey must be a string, got ${typeof partitionKey}`;
  if (partitionKey.length === 0 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    return `partitionKey must have 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${partitionKey.length}`;
  }
  // A lone surrogate has no UTF-8 form: it would be sent, hashed and stored as U+FFFD, another key.
  if (hasLoneSurrogate(partitionKey)) return 'partitionKey contains a lone UTF-16 surrogate';
  return undefined;
}

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
