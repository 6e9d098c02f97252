import { describe, expect, it } from 'vitest';
import {
  EVENT_RESPONSE_TEMPLATE,
  EVENTS_RESPONSE_TEMPLATE,
  KINESIS_ERROR_RESPONSE_TEMPLATE,
} from '../../src/direct/templates.js';
import { renderMappingTemplate } from '../helpers/apiGatewayVtl.js';

// Kinesis's ErrorMessage and error `message` can name the account, the stream's ARN, a KMS key ARN or
// an IAM role: the direct mode's response templates never pass them on, like the Lambda handler.
const ACCOUNT = '123456789012';
const SECRET = `User: arn:aws:sts::${ACCOUNT}:assumed-role/r/s is not authorized to use arn:aws:kms:eu-west-1:${ACCOUNT}:key/k`;
const context = { requestId: 'req-1', requestTimeEpoch: Date.UTC(2026, 0, 1) };

function render(template: string, body: unknown) {
  const out = renderMappingTemplate(template, JSON.stringify(body), context);
  expect(out.output).not.toContain(ACCOUNT);
  expect(out.output).not.toContain('arn:');
  return { status: out.statusOverride ?? 200, body: JSON.parse(out.output) as Record<string, unknown> };
}

const failed = (code: string) => ({ ErrorCode: code, ErrorMessage: SECRET });
const written = { ShardId: 'shardId-000000000000', SequenceNumber: '1' };

describe('direct mode: upstream details never reach the client', () => {
  it.each([
    ['KMSAccessDeniedException', 207, "The stream's encryption key refused the record"],
    ['InternalFailure', 207, 'Kinesis failed to write the record: retry it with the same eventId'],
    [
      'ProvisionedThroughputExceededException',
      207,
      'Kinesis throttled the record: retry it with the same eventId',
    ],
    ['SomethingNew', 207, 'Kinesis did not write the record'],
  ])('/v1/events, a record failed with %s', (code, status, message) => {
    const out = render(EVENTS_RESPONSE_TEMPLATE, { FailedRecordCount: 1, Records: [written, failed(code)] });
    expect(out.status).toBe(status);
    expect(out.body.records).toEqual([
      { shardId: 'shardId-000000000000', sequenceNumber: '1' },
      { errorCode: code, errorMessage: message },
    ]);
  });

  it('/v1/events, every record throttled: 429', () => {
    const code = 'ProvisionedThroughputExceededException';
    const out = render(EVENTS_RESPONSE_TEMPLATE, {
      FailedRecordCount: 2,
      Records: [failed(code), failed(code)],
    });
    expect(out.status).toBe(429);
  });

  it.each([
    ['KMSAccessDeniedException', 503],
    ['InternalFailure', 503],
    ['ProvisionedThroughputExceededException', 429],
  ])('/v1/event, the record failed with %s', (code, status) => {
    const out = render(EVENT_RESPONSE_TEMPLATE, { FailedRecordCount: 1, Records: [failed(code)] });
    expect(out.status).toBe(status);
    expect(out.body).toMatchObject({ errorCode: code });
  });

  it.each([
    ['AccessDeniedException', 502],
    ['ResourceNotFoundException', 502],
    ['KMSDisabledException', 502],
    ['LimitExceededException', 429],
    ['InternalFailure', 503],
  ])('a whole call failed with %s', (type, status) => {
    const out = render(KINESIS_ERROR_RESPONSE_TEMPLATE, { __type: type, message: SECRET });
    expect(out.status).toBe(status);
    expect(out.body).toMatchObject({ errorCode: type });
  });
});
