import { describe, expect, it } from 'vitest';
import {
  awsErrorCode,
  awsErrorName,
  hasAwsErrorName,
  httpStatusCode,
  isClientFault,
  isSdkThrottling,
  isTransientAwsError,
} from '../../src/index.js';

function awsError(name: string, extra: object = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name }, extra);
}

const codes = {
  throttling: new Set(['ThrottlingException']),
  transient: new Set(['InternalFailure']),
};

describe('AWS error classification', () => {
  it('reads names, codes and statuses', () => {
    expect(awsErrorName(awsError('X'))).toBe('X');
    expect(awsErrorName({ name: 'X' })).toBeUndefined();
    expect(awsErrorCode({ code: 'ECONNRESET' })).toBe('ECONNRESET');
    expect(awsErrorCode(undefined)).toBeUndefined();
    expect(httpStatusCode(awsError('X', { $metadata: { httpStatusCode: 429 } }))).toBe(429);
    expect(hasAwsErrorName(awsError('ThrottlingException'), codes.throttling)).toBe(true);
    expect(hasAwsErrorName({ name: 'ThrottlingException' }, codes.throttling)).toBe(false);
    expect(isSdkThrottling(awsError('X', { $retryable: { throttling: true } }))).toBe(true);
  });

  it('tells transient errors from permanent ones', () => {
    const answered = { $fault: 'client', $metadata: { httpStatusCode: 400 } };
    expect(isTransientAwsError(awsError('ThrottlingException', answered), codes)).toBe(true);
    expect(isTransientAwsError(awsError('InternalFailure', answered), codes)).toBe(true);
    expect(isTransientAwsError(awsError('Error', { code: 'ECONNRESET', ...answered }), codes)).toBe(true);
    expect(
      isTransientAwsError(awsError('X', { $fault: 'server', $metadata: { httpStatusCode: 503 } }), codes),
    ).toBe(true);
    expect(isTransientAwsError(awsError('socket hang up'), codes)).toBe(true);
    expect(isTransientAwsError(awsError('ValidationException', answered), codes)).toBe(false);
    expect(isTransientAwsError('not an error', codes)).toBe(false);
    expect(isClientFault(awsError('ValidationException', answered))).toBe(true);
    expect(isClientFault(awsError('X', { $fault: 'server', $metadata: { httpStatusCode: 500 } }))).toBe(
      false,
    );
  });
});
