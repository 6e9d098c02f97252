import { AggregationError } from './AggregationError.js';
import { MAX_HASH_KEY, MAX_PARTITION_KEY_LENGTH } from './constants.js';

/** One record as a producer wrote it: what is aggregated, and what de-aggregation gives back. */
export interface UserRecord {
  /** Partition key: 1–256 characters. Its MD5 picks the shard unless `explicitHashKey` is set. */
  readonly partitionKey: string;
  /** Hash key that overrides the partition key's hash: a decimal integer in [0, 2^128). */
  readonly explicitHashKey?: string;
  /** The payload. */
  readonly data: Uint8Array;
}

/** A user record taken out of an aggregated Kinesis record. */
export interface DeaggregatedRecord extends UserRecord {
  /**
   * Position of the record inside its aggregated Kinesis record, from 0. Together with the Kinesis
   * record's sequence number it addresses the user record (KCL checkpoints carry both).
   */
  readonly subSequenceNumber: number;
}

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
 * Checks a user record before it is aggregated.
 *
 * @throws {@link AggregationError} naming the field and, when given, the record's index.
 */
export function validateUserRecord(record: UserRecord, recordIndex?: number): void {
  const keyProblem = partitionKeyProblem(record.partitionKey);
  if (keyProblem !== undefined) throw new AggregationError('partitionKey', keyProblem, recordIndex);
  const hashKey = record.explicitHashKey;
  if (hashKey !== undefined && (typeof hashKey !== 'string' || !isValidExplicitHashKey(hashKey))) {
    throw new AggregationError(
      'explicitHashKey',
      `explicitHashKey must be a decimal integer in [0, 2^128) without leading zeros, got ${JSON.stringify(hashKey)}`,
      recordIndex,
    );
  }
  if (!(record.data instanceof Uint8Array)) {
    throw new AggregationError('data', 'data must be a Uint8Array', recordIndex);
  }
}
