import { AggregationError } from './AggregationError.js';
import { isValidExplicitHashKey, partitionKeyProblem } from './kinesisLimits.js';

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
