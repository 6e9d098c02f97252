import { awsErrorCode, DeadlineExceededError, httpStatusCode, isSdkThrottling } from '@shardline/common';

const NETWORK_CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
};

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']);

/**
 * Says in a few words why an S3 request failed, for log lines and events: `connection refused`,
 * `throttled (SlowDown)`, `server error 503 (ServiceUnavailable)`, `no such bucket`, `access denied`,
 * `no answer within 60000 ms`... Looks through `cause` chains (the sink wraps S3 errors).
 */
export function describeS3Failure(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const direct = describeOne(current);
    if (direct !== undefined) return direct;
    if (current.cause === undefined) break;
    current = current.cause;
  }
  const root = current instanceof Error ? current : error;
  const name = awsErrorCode(root) ?? 'Error';
  const status = httpStatusCode(root);
  const message = root instanceof Error ? root.message : String(root);
  return `${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
}

function describeOne(error: Error): string | undefined {
  if (error instanceof DeadlineExceededError) return `no answer within ${error.timeoutMs} ms`;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CAUSES[code]) return NETWORK_CAUSES[code];
  const name = awsErrorCode(error);
  const status = httpStatusCode(error);
  if (name === 'NoSuchBucket') return 'no such bucket';
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'ExpiredToken') {
    return `bad credentials (${name})`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'Forbidden' || status === 403) {
    return `access denied (${name})`;
  }
  if ((name !== undefined && THROTTLING.has(name)) || isSdkThrottling(error) || status === 429) {
    return `throttled (${name})`;
  }
  if (status !== undefined && status >= 500) return `server error ${status} (${name})`;
  if (name === 'TimeoutError' || name === 'RequestTimeout') return `timed out (${name})`;
  return undefined;
}
