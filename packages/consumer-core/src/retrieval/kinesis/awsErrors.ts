import { DependencyError, ThroughputExceededError } from '../../errors.js';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'KMSThrottlingException',
]);
const TRANSIENT = new Set([
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'KMSInternalException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** The AWS error name of `error`, or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Whether a Kinesis error is throttling (back off longer). */
export function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING.has(error.name);
}

/** Whether a Kinesis error is worth retrying: throttling, 5xx, timeouts, network failures. */
export function isTransientKinesisError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (THROTTLING.has(error.name) || TRANSIENT.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  return status === undefined && (error as { $fault?: unknown }).$fault === undefined;
}

/** Translates an AWS SDK error from Kinesis into a {@link DependencyError}. */
export function translateKinesisError(operation: string, error: unknown): DependencyError {
  if (error instanceof DependencyError) return error;
  if (isThrottling(error)) return new ThroughputExceededError('kinesis', operation, error);
  return new DependencyError('kinesis', operation, error, isTransientKinesisError(error));
}
