import { type AwsErrorCodes, hasAwsErrorName, isTransientAwsError } from '@shardline/common';
import { DependencyError, ThroughputExceededError } from '../../errors.js';

/** Kinesis's throttling and transient error names, KMS's included (the mechanism is common's). */
const KINESIS_ERRORS: AwsErrorCodes = {
  throttling: new Set([
    'ProvisionedThroughputExceededException',
    'LimitExceededException',
    'ThrottlingException',
    'KMSThrottlingException',
  ]),
  transient: new Set([
    'InternalFailure',
    // The same failure thrown mid-stream by a SubscribeToShard event stream: the SDK raises the modeled
    // exception class, with no HTTP status to classify it by.
    'InternalFailureException',
    'InternalServerError',
    'ServiceUnavailable',
    'TimeoutError',
    'RequestTimeout',
    'KMSInternalException',
  ]),
};

/** Whether a Kinesis error is throttling (back off longer). */
export function isThrottling(error: unknown): boolean {
  return hasAwsErrorName(error, KINESIS_ERRORS.throttling);
}

/** Whether a Kinesis error is worth retrying: throttling, 5xx, timeouts, network failures. */
export function isTransientKinesisError(error: unknown): boolean {
  return isTransientAwsError(error, KINESIS_ERRORS);
}

/** Translates an AWS SDK error from Kinesis into a {@link DependencyError}. */
export function translateKinesisError(operation: string, error: unknown): DependencyError {
  if (error instanceof DependencyError) return error;
  if (isThrottling(error)) return new ThroughputExceededError('kinesis', operation, error);
  return new DependencyError('kinesis', operation, error, isTransientKinesisError(error));
}
