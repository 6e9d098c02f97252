/**
 * The four bytes that open every KPL aggregated record: `F3 89 9A C2`.
 *
 * Frozen number array (a typed array cannot be frozen); compare with {@link isAggregated}.
 */
export const KPL_MAGIC: readonly number[] = Object.freeze([0xf3, 0x89, 0x9a, 0xc2]);

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

/** Length of {@link KPL_MAGIC}. */
export const MAGIC_BYTES = 4;

/** Length of the MD5 digest that closes an aggregated record. */
export const DIGEST_BYTES = 16;

/** Bytes an aggregated record adds around its protobuf message: magic plus digest. */
export const FRAME_BYTES = MAGIC_BYTES + DIGEST_BYTES;
