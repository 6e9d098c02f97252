import { DependencyError, ThroughputExceededError } from '../../errors.js';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);
const TRANSIENT = new Set([
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'TransactionConflictException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** The AWS error name of `error` (`ConditionalCheckFailedException`, ...), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Whether an AWS SDK error is worth retrying: throttling, 5xx, timeouts and network failures. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (THROTTLING.has(error.name) || TRANSIENT.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  // Errors thrown before any response (socket hang up, connection refused) carry no HTTP status.
  return status === undefined && (error as { $fault?: unknown }).$fault === undefined;
}

/** Translates an AWS SDK error into a {@link DependencyError} (throttling into `ThroughputExceededError`). */
export function translateDynamoDBError(operation: string, error: unknown): DependencyError {
  if (error instanceof DependencyError) return error;
  if (error instanceof Error && THROTTLING.has(error.name)) {
    return new ThroughputExceededError('dynamodb', operation, error);
  }
  return new DependencyError('dynamodb', operation, error, isTransientAwsError(error));
}
