import { DeadlineExceededError } from '@shardline/common';
import { describe, expect, it } from 'vitest';
import { S3WriteError } from '../../src/errors.js';
import { describeS3Failure } from '../../src/upload/describeS3Failure.js';

/** An error shaped like the AWS SDK's (name, $fault, $metadata). */
function sdkError(name: string, status: number | undefined, extra: object = {}): Error {
  return Object.assign(new Error(`${name} message`), {
    name,
    $fault: status !== undefined && status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    ...extra,
  });
}

describe('describeS3Failure: the cause of a retry in a few words', () => {
  it.each([
    [
      'connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    ],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['host not found', Object.assign(new Error('getaddrinfo ENOTFOUND s3.example'), { code: 'ENOTFOUND' })],
    ['no answer within 60000 ms', new DeadlineExceededError('PutObject', 60_000)],
    ['throttled (SlowDown)', sdkError('SlowDown', 503)],
    ['throttled (TooManyRequests)', sdkError('TooManyRequests', 429)],
    ['server error 500 (InternalError)', sdkError('InternalError', 500)],
    ['no such bucket', sdkError('NoSuchBucket', 404)],
    ['access denied (AccessDenied)', sdkError('AccessDenied', 403)],
    ['bad credentials (InvalidAccessKeyId)', sdkError('InvalidAccessKeyId', 403)],
  ])('%s', (expected, error) => {
    expect(describeS3Failure(error)).toBe(expected);
  });

  it('looks through the sink’s wrapping errors to the S3 error', () => {
    const wrapped = new S3WriteError('k', 'Upload', 3, {
      cause: sdkError('NoSuchBucket', 404),
      retriable: true,
    });
    expect(describeS3Failure(wrapped)).toBe('no such bucket');
  });

  it('names anything else by its name, status and message', () => {
    expect(describeS3Failure(sdkError('InvalidPart', 400))).toBe(
      'InvalidPart (HTTP 400): InvalidPart message',
    );
  });
});
