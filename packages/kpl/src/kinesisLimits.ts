// The Kinesis Data Streams limits and validators the codec relies on, in one file so that a shared
// foundation package can own them later without touching the codec.
import { hash } from 'node:crypto';

/**
 * Kinesis's default maximum size of one record: data plus partition key, 1 MiB.
 *
 * A stream can be configured for larger records (`DescribeStreamSummary` shows `MaxRecordSizeInKiB`);
 * pass that figure to {@link RecordAggregator} to use it.
 */
export const MAX_RECORD_BYTES = 1_048_576;

/** Kinesis's partition key limit: 256 characters (counted here in UTF-16 code units, the safe reading). */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** The largest hash key of a stream: 2^128 − 1. */
export const MAX_HASH_KEY: bigint = (1n << 128n) - 1n;

// Kinesis's HashKey pattern: no sign, no leading zeros, at most 39 digits (2^128 has 39).
const HASH_KEY_PATTERN = /^(?:0|[1-9][0-9]{0,38})$/;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `value` is a valid explicit hash key: a decimal integer in [0, 2^128) without leading zeros. */
export function isValidExplicitHashKey(value: string): boolean {
  return HASH_KEY_PATTERN.test(value) && BigInt(value) <= MAX_HASH_KEY;
}

/** What is wrong with a partition key, or `undefined` when it is valid. */
export function partitionKeyProblem(partitionKey: unknown): string | undefined {
  if (typeof partitionKey !== 'string') return `partitionKey must be a string, got ${typeof partitionKey}`;
  if (partitionKey.length === 0 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    return `partitionKey must have 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${partitionKey.length}`;
  }
  // A lone surrogate has no UTF-8 form: it would be sent, hashed and stored as U+FFFD, another key.
  if (LONE_SURROGATE.test(partitionKey)) return 'partitionKey contains a lone UTF-16 surrogate';
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
