import { describe, expect, it } from 'vitest';
import {
  createIngestHandler,
  type IngestRequest,
  KinesisRecordWriter,
  type RecordWriter,
  UpstreamError,
} from '../../src/index.js';
import { InMemoryRecordWriter, withKinesisFault } from '../../src/testing/index.js';

// Kinesis's messages and the SDK's can name the account, the stream's ARN, a KMS key ARN or an IAM
// role ARN. The client gets a stable code and a text of ours; the details reach onError only.
const ACCOUNT = '123456789012';
const ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/ingest-role/session`;
const SECRET_TEXT = `User: ${ROLE} is not authorized on ${ARN}`;

const KEY = 'unit-key';
const one = (id: string) => ({ eventId: id, data: { n: id } });

function post(path: '/v1/events' | '/v1/event', ids: string[]): IngestRequest {
  const body = path === '/v1/events' ? { records: ids.map(one) } : one(ids[0]!);
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: Buffer.from(JSON.stringify(body)),
  };
}

function handlerWith(writer: RecordWriter) {
  const logged: unknown[] = [];
  const handle = createIngestHandler({
    recordWriter: writer,
    apiKeys: [KEY],
    throttleRetry: { maxAttempts: 1 },
    onError: (e) => logged.push(e),
  });
  return { handle, logged };
}

function expectNoDetails(body: string): void {
  expect(body).not.toContain(ACCOUNT);
  expect(body).not.toContain('arn:');
  expect(body).not.toContain('not authorized');
}

function loggedText(logged: unknown[]): string {
  return logged.map((e) => (e instanceof Error ? e.message : String(e))).join('\n');
}

const failRecords = (ids: string[], errorCode: string) =>
  ({ kind: 'failRecords', eventIds: ids, errorCode, errorMessage: SECRET_TEXT }) as const;
const failCalls = (failure: 'throttled' | 'unavailable' | 'rejected', code: string) =>
  ({ kind: 'failCalls', failure, code, message: SECRET_TEXT }) as const;

describe('upstream details never reach the client', () => {
  const cases = [
    {
      name: 'partial failure (207): KMS refusal of one record',
      path: '/v1/events',
      ids: ['a', 'b'],
      fault: failRecords(['b'], 'KMSAccessDeniedException'),
      status: 207,
    },
    {
      name: 'partial failure (207): InternalFailure of one record',
      path: '/v1/events',
      ids: ['a', 'b'],
      fault: failRecords(['a'], 'InternalFailure'),
      status: 207,
    },
    {
      name: 'every record throttled (429)',
      path: '/v1/events',
      ids: ['a', 'b'],
      fault: failRecords(['a', 'b'], 'ProvisionedThroughputExceededException'),
      status: 429,
    },
    {
      name: 'one event throttled (429)',
      path: '/v1/event',
      ids: ['a'],
      fault: failRecords(['a'], 'ProvisionedThroughputExceededException'),
      status: 429,
    },
    {
      name: 'one event refused by KMS (502)',
      path: '/v1/event',
      ids: ['a'],
      fault: failRecords(['a'], 'KMSAccessDeniedException'),
      status: 502,
    },
    {
      name: 'whole call refused (502)',
      path: '/v1/events',
      ids: ['a'],
      fault: failCalls('rejected', 'AccessDeniedException'),
      status: 502,
    },
    {
      name: 'whole call unavailable (503)',
      path: '/v1/events',
      ids: ['a'],
      fault: failCalls('unavailable', 'ServiceUnavailable'),
      status: 503,
    },
    {
      name: 'whole call throttled (429)',
      path: '/v1/events',
      ids: ['a', 'b'],
      fault: failCalls('throttled', 'LimitExceededException'),
      status: 429,
    },
    {
      name: 'whole call of one event unavailable (503)',
      path: '/v1/event',
      ids: ['a'],
      fault: failCalls('unavailable', 'InternalFailure'),
      status: 503,
    },
  ] as const;

  it.each(cases)('$name', async ({ path, ids, fault, status }) => {
    const writer = withKinesisFault(new InMemoryRecordWriter(), fault);
    const { handle, logged } = handlerWith(writer);
    const response = await handle(post(path, [...ids]));
    expect(writer.faultHits).toBeGreaterThan(0);
    expect(response.status).toBe(status);
    expectNoDetails(response.body);
    // The contract's fields stay, with our text.
    const body = JSON.parse(response.body) as {
      records?: { errorCode?: string; errorMessage?: string }[];
      message?: string;
      errorCode?: string;
    };
    if (body.records) {
      const failed = body.records.filter((r) => r.errorCode !== undefined);
      expect(failed.length).toBeGreaterThan(0);
      for (const r of failed) expect(r.errorMessage).toMatch(/^Kinesis |^The stream's/);
    } else {
      expect(body.message).toMatch(/^Kinesis |^The stream's/);
      expect(body.errorCode).toMatch(/^[A-Za-z]+$/);
    }
    // The details are in the server log.
    expect(loggedText(logged)).toContain(ARN);
  });

  it('an SDK error through KinesisRecordWriter: the message stays in the log', async () => {
    const sdkError = Object.assign(new Error(SECRET_TEXT), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    let calls = 0;
    const writer = new KinesisRecordWriter({
      client: {
        send: async () => {
          calls += 1;
          throw sdkError;
        },
      } as never,
      streamName: 'events',
    });
    const { handle, logged } = handlerWith(writer);
    const response = await handle(post('/v1/events', ['a']));
    expect(calls).toBe(1);
    expect(response.status).toBe(502);
    expectNoDetails(response.body);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'UpstreamRejected',
      errorCode: 'AccessDeniedException',
    });
    expect(logged.some((e) => e instanceof UpstreamError && e.message.includes(ARN))).toBe(true);
  });

  it('an error code that is not an identifier is not passed on', async () => {
    const writer = withKinesisFault(new InMemoryRecordWriter(), {
      kind: 'failRecords',
      eventIds: ['a'],
      errorCode: `Denied for ${ARN}`,
      errorMessage: 'x',
    });
    const { handle } = handlerWith(writer);
    const response = await handle(post('/v1/events', ['a']));
    expectNoDetails(response.body);
    expect(JSON.parse(response.body).records[0].errorCode).toBe('UnknownError');
  });
});
