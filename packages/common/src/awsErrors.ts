/**
 * The parts of an AWS SDK v3 error that classification reads. Every field is optional: errors thrown
 * before any response (socket hang up, timeouts) carry only `name`, `message` and perhaps a Node `code`.
 */
export interface AwsErrorShape {
  /** The AWS error code as the SDK names the class, e.g. `ProvisionedThroughputExceededException`. */
  readonly name?: string;
  /** A Node.js system error code (`ECONNRESET`), or an error code of older clients. */
  readonly code?: string;
  readonly message?: string;
  /** Who is at fault, when the service answered. */
  readonly $fault?: 'client' | 'server';
  /** The response's metadata, when there was a response. */
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
  /** The SDK's own retry hint. */
  readonly $retryable?: { readonly throttling?: boolean };
}

/** Node.js system error codes of a connection that failed before any answer: worth another try. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The code lists of one AWS service: which error names are throttling, which transient. */
export interface AwsErrorCodes {
  /** Error names that mean "too many requests": retried after a longer backoff. */
  readonly throttling: ReadonlySet<string>;
  /** Error names of transient server-side failures and timeouts. */
  readonly transient: ReadonlySet<string>;
}

function shape(error: unknown): AwsErrorShape {
  return (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
}

/** The AWS error name of an `Error` (`ConditionalCheckFailedException`, ...), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** The error's `name`, else its `code`, of any object (plain objects included), or undefined. */
export function awsErrorCode(error: unknown): string | undefined {
  const e = shape(error);
  return e.name ?? e.code;
}

/** The HTTP status of the service's answer, or undefined when there was no answer. */
export function httpStatusCode(error: unknown): number | undefined {
  return shape(error).$metadata?.httpStatusCode;
}

/** Whether an `Error`'s name is one of `codes` (e.g. a service's throttling list). */
export function hasAwsErrorName(error: unknown, codes: ReadonlySet<string>): boolean {
  return error instanceof Error && codes.has(error.name);
}

/**
 * Whether an AWS SDK error is worth retrying: throttling or transient (by the service's lists), a
 * network failure, a 5xx answer, or an error thrown before any answer (no status, no `$fault`).
 */
export function isTransientAwsError(error: unknown, codes: AwsErrorCodes): boolean {
  if (!(error instanceof Error)) return false;
  if (codes.throttling.has(error.name) || codes.transient.has(error.name)) return true;
  const e = error as AwsErrorShape;
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  // Errors thrown before any response (socket hang up, connection refused) carry no HTTP status.
  return status === undefined && e.$fault === undefined;
}

/** Whether the service answered and blamed the caller with a status below 500 (a 4xx refusal). */
export function isClientFault(error: unknown): boolean {
  const e = shape(error);
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'client' && status !== undefined && status < 500;
}

/** Whether the SDK itself marked the error as throttling (`$retryable.throttling`). */
export function isSdkThrottling(error: unknown): boolean {
  return shape(error).$retryable?.throttling === true;
}
