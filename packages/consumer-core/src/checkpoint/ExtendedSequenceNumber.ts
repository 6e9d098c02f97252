/**
 * The special checkpoint values of the lease table (KCL `SentinelCheckpoint`), stored verbatim in the
 * `checkpoint` attribute.
 */
export const SentinelCheckpoint = {
  /** Start at the oldest record still in the shard. */
  TrimHorizon: 'TRIM_HORIZON',
  /** Start after the newest record at the time reading starts. */
  Latest: 'LATEST',
  /** Start at the consumer's `initialPosition.atTimestamp`. */
  AtTimestamp: 'AT_TIMESTAMP',
  /** The shard is closed and every record of it was processed: its children may start. */
  ShardEnd: 'SHARD_END',
} as const;
/** One of the {@link SentinelCheckpoint} values. */
export type SentinelCheckpoint = (typeof SentinelCheckpoint)[keyof typeof SentinelCheckpoint];

/**
 * A position in a shard: a Kinesis sequence number (a decimal string; real ones have 56 digits, more than 128 bits) or a sentinel, plus
 * the index of a user record inside a KPL aggregated record (0 for plain records).
 */
export interface ExtendedSequenceNumber {
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
}

const SENTINELS = new Set<string>(Object.values(SentinelCheckpoint));
// The API's pattern is 0|([1-9]\d{0,128}); real sequence numbers have 56 digits (far beyond 2^128).
const DECIMAL = /^(0|[1-9][0-9]{0,128})$/;

/** Whether `value` is one of the sentinel checkpoint strings. */
export function isSentinel(value: string): value is SentinelCheckpoint {
  return SENTINELS.has(value);
}

/** Whether `value` is a decimal sequence number (what Kinesis returns), not a sentinel. */
export function isSequenceNumber(value: string): boolean {
  return DECIMAL.test(value);
}

/** `{ sequenceNumber: sentinel, subSequenceNumber: 0 }`. */
export function sentinelPosition(sentinel: SentinelCheckpoint): ExtendedSequenceNumber {
  return { sequenceNumber: sentinel, subSequenceNumber: 0 };
}

function rank(sequenceNumber: string): number {
  // TRIM_HORIZON, LATEST, AT_TIMESTAMP sort before every real position, SHARD_END after all.
  if (sequenceNumber === SentinelCheckpoint.ShardEnd) return 2;
  return isSentinel(sequenceNumber) ? 0 : 1;
}

/**
 * Orders two positions: sequence numbers compared as BigInt (never as strings or JS numbers),
 * then sub-sequence numbers. Start sentinels come before every sequence number and `SHARD_END` after.
 *
 * @returns a negative number, 0, or a positive number.
 */
export function compareExtendedSequenceNumbers(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  const rankA = rank(a.sequenceNumber);
  const rankB = rank(b.sequenceNumber);
  if (rankA !== rankB || rankA !== 1) return rankA - rankB;
  if (a.sequenceNumber !== b.sequenceNumber) {
    // Equal-length decimal strings without leading zeros order like their values; avoids BigInt parsing.
    if (a.sequenceNumber.length !== b.sequenceNumber.length) {
      return a.sequenceNumber.length - b.sequenceNumber.length;
    }
    return a.sequenceNumber < b.sequenceNumber ? -1 : 1;
  }
  return a.subSequenceNumber - b.subSequenceNumber;
}

/** `a.sequenceNumber:a.subSequenceNumber`, for logs. */
export function formatPosition(position: ExtendedSequenceNumber): string {
  return position.subSequenceNumber === 0
    ? position.sequenceNumber
    : `${position.sequenceNumber}:${position.subSequenceNumber}`;
}
