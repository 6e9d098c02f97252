const MiB = 1_048_576;

/**
 * Kinesis's default maximum size of one record: data plus partition key, 1 MiB.
 *
 * A stream can be configured for larger records (`DescribeStreamSummary` shows `MaxRecordSizeInKiB`).
 */
export const MAX_RECORD_BYTES = MiB;

/** Kinesis's partition key limit: 1 to 256 characters (counted in UTF-16 code units, the safe reading). */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** The largest hash key of a stream: 2^128 − 1. */
export const MAX_HASH_KEY: bigint = (1n << 128n) - 1n;

/** `PutRecords`: at most 500 records per call. */
export const MAX_PUT_RECORDS_RECORDS = 500;

/**
 * `PutRecords`: data plus partition keys of one call. AWS accepted 5 MiB historically (10 MiB since
 * late 2025); kinesalite refuses HTTP bodies over 7 MiB, which a base64-encoded 5 MiB still fits.
 */
export const MAX_PUT_RECORDS_BYTES = 5 * MiB;

/** `PutRecords`: the largest request AWS accepts today (since late 2025), the upper bound of a setting. */
export const MAX_PUT_RECORDS_BYTES_LIMIT = 10 * MiB;

/** Kinesis's `HashKey` pattern: a decimal integer, no sign, no leading zeros, at most 39 digits. */
export const EXPLICIT_HASH_KEY_PATTERN = /^(?:0|[1-9][0-9]{0,38})$/;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `value` is a valid explicit hash key: a decimal integer in [0, 2^128) without leading zeros. */
export function isValidExplicitHashKey(value: string): boolean {
  return EXPLICIT_HASH_KEY_PATTERN.test(value) && BigInt(value) <= MAX_HASH_KEY;
}

/**
 * Whether `value` holds a lone UTF-16 surrogate. Such a string has no UTF-8 form: as a partition key it
 * would be sent, hashed and stored as U+FFFD, another key.
 */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}
