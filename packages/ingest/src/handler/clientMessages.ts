import { THROTTLED_RECORD_ERROR_CODE } from '../contract/limits.js';
import { UpstreamFailureKind } from '../errors.js';

// What a client is told about an upstream failure. Kinesis's messages and the SDK's (`ErrorMessage`,
// `error.message`) can name the account, the stream's ARN, a KMS key ARN or an IAM role ARN: they go to
// the server log (`onError`) only. A client gets a stable code and one of these texts.

/** Codes that are safe to pass on: AWS error codes are identifiers, never free text. */
const SAFE_CODE = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;

/** The upstream's error code if it looks like one, else `UnknownError`. */
export function clientErrorCode(code: string | undefined): string {
  return code !== undefined && SAFE_CODE.test(code) ? code : 'UnknownError';
}

/** The message of one record Kinesis did not write, from its per-record error code only. */
export function recordFailureMessage(errorCode: string): string {
  if (errorCode === THROTTLED_RECORD_ERROR_CODE || errorCode === 'KMSThrottlingException')
    return 'Kinesis throttled the record: retry it with the same eventId';
  if (errorCode === 'InternalFailure')
    return 'Kinesis failed to write the record: retry it with the same eventId';
  if (errorCode.startsWith('KMS')) return "The stream's encryption key refused the record";
  return 'Kinesis did not write the record';
}

/** The message of a `PutRecords` call that failed as a whole, from the kind of failure only. */
export function callFailureMessage(kind: UpstreamFailureKind): string {
  switch (kind) {
    case UpstreamFailureKind.Throttled:
      return 'Kinesis throttled the write: retry with the same eventIds';
    case UpstreamFailureKind.Rejected:
      return 'Kinesis refused the write (the server log has the details)';
    default:
      return 'Kinesis could not be reached or failed: retry with the same eventIds';
  }
}
