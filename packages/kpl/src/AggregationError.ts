import { ShardlineError } from './errors.js';

/** The input that an {@link AggregationError} is about. */
export type AggregationErrorField = 'partitionKey' | 'explicitHashKey' | 'data' | 'records';

/**
 * A user record cannot be aggregated (or hashed) as given: a bad partition key, explicit hash key or
 * data, or a record too large for the record size limit. Never retriable: the same input fails again.
 */
export class AggregationError extends ShardlineError {
  /** Which input is wrong. */
  readonly field: AggregationErrorField;
  /** Position of the offending record in the input, when the call took several records. */
  readonly recordIndex: number | undefined;

  constructor(field: AggregationErrorField, message: string, recordIndex?: number) {
    super(recordIndex === undefined ? message : `records[${recordIndex}]: ${message}`);
    this.field = field;
    this.recordIndex = recordIndex;
  }
}
