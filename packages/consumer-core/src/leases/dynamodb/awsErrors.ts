import { type AwsErrorCodes, hasAwsErrorName, isTransientAwsError } from '@shardline/common';
import { DependencyError, ThroughputExceededError } from '../../errors.js';

/** DynamoDB's throttling and transient error names (the mechanism that reads them is common's). */
const DYNAMODB_ERRORS: AwsErrorCodes = {
  throttling: new Set([
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'RequestLimitExceeded',
    'LimitExceededException',
  ]),
  transient: new Set([
    'InternalServerError',
    'InternalFailure',
    'ServiceUnavailable',
    'TransactionConflictException',
    'TimeoutError',
    'RequestTimeout',
    'RequestTimeoutException',
  ]),
};

/** Whether a DynamoDB error is worth retrying: throttling, 5xx, timeouts and network failures. */
export function isTransientDynamoDBError(error: unknown): boolean {
  return isTransientAwsError(error, DYNAMODB_ERRORS);
}

/** Translates an AWS SDK error into a {@link DependencyError} (throttling into `ThroughputExceededError`). */
export function translateDynamoDBError(operation: string, error: unknown): DependencyError {
  if (error instanceof DependencyError) return error;
  if (hasAwsErrorName(error, DYNAMODB_ERRORS.throttling)) {
    return new ThroughputExceededError('dynamodb', operation, error);
  }
  return new DependencyError('dynamodb', operation, error, isTransientDynamoDBError(error));
}
