/**
 * The four bytes that open every KPL aggregated record: `F3 89 9A C2`.
 *
 * Frozen number array (a typed array cannot be frozen); compare with {@link isAggregated}.
 */
export const KPL_MAGIC: readonly number[] = Object.freeze([0xf3, 0x89, 0x9a, 0xc2]);

/** Length of {@link KPL_MAGIC}. */
export const MAGIC_BYTES = 4;

/** Length of the MD5 digest that closes an aggregated record. */
export const DIGEST_BYTES = 16;

/** Bytes an aggregated record adds around its protobuf message: magic plus digest. */
export const FRAME_BYTES = MAGIC_BYTES + DIGEST_BYTES;
