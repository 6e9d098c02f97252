import {
  InvalidArgumentException,
  KMSAccessDeniedException,
  KMSThrottlingException,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  KinesisRecordWriter,
  translateKinesisError,
  UpstreamError,
  UpstreamFailureKind,
} from '../../src/index.js';

const meta = { $metadata: {} };

describe('translateKinesisError', () => {
  it.each([
    [
      new ProvisionedThroughputExceededException({ message: 'Rate exceeded', ...meta }),
      UpstreamFailureKind.Throttled,
    ],
    [new KMSThrottlingException({ message: 'kms', ...meta }), UpstreamFailureKind.Throttled],
    [new ResourceNotFoundException({ message: 'no stream', ...meta }), UpstreamFailureKind.Rejected],
    [new InvalidArgumentException({ message: 'bad', ...meta }), UpstreamFailureKind.Rejected],
    [new KMSAccessDeniedException({ message: 'key', ...meta }), UpstreamFailureKind.Rejected],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), UpstreamFailureKind.Unavailable],
    [Object.assign(new Error('timeout'), { name: 'TimeoutError' }), UpstreamFailureKind.Unavailable],
    [
      Object.assign(new Error('x'), {
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
      }),
      UpstreamFailureKind.Unavailable,
    ],
    [
      Object.assign(new Error('x'), { name: 'Weird', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      UpstreamFailureKind.Rejected,
    ],
    [
      Object.assign(new Error('x'), { name: 'Weird', $metadata: { httpStatusCode: 429 } }),
      UpstreamFailureKind.Throttled,
    ],
    ['a string', UpstreamFailureKind.Unavailable],
  ])('%s → %s', (error, kind) => {
    const translated = translateKinesisError(error);
    expect(translated).toBeInstanceOf(UpstreamError);
    expect(translated.kind).toBe(kind);
    expect(translated.retriable).toBe(kind !== UpstreamFailureKind.Rejected);
    expect(translated.cause).toBe(error);
  });

  it('keeps the AWS error name as the code', () => {
    expect(translateKinesisError(new ResourceNotFoundException({ message: 'm', ...meta })).code).toBe(
      'ResourceNotFoundException',
    );
  });
});

describe('KinesisRecordWriter', () => {
  it('sends one PutRecords with the entries and maps per-record results', async () => {
    const sent: PutRecordsCommand[] = [];
    const client = {
      send: async (command: PutRecordsCommand) => {
        sent.push(command);
        return {
          FailedRecordCount: 1,
          Records: [
            { ShardId: 'shardId-000000000001', SequenceNumber: '4959' },
            { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' },
          ],
          $metadata: {},
        };
      },
    };
    const writer = new KinesisRecordWriter({ client: client as never, streamName: 's' });
    const results = await writer.putRecords([
      { partitionKey: 'a', data: Buffer.from('1') },
      { partitionKey: 'b', data: Buffer.from('2') },
    ]);
    expect(sent[0]).toBeInstanceOf(PutRecordsCommand);
    expect(sent[0]!.input.StreamName).toBe('s');
    expect(sent[0]!.input.Records?.map((r) => r.PartitionKey)).toEqual(['a', 'b']);
    expect(results).toEqual([
      { shardId: 'shardId-000000000001', sequenceNumber: '4959' },
      { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded' },
    ]);
  });

  it("translates a thrown SDK error and passes a per-call signal that follows the caller's", async () => {
    let options: unknown;
    const client = {
      send: async (_command: unknown, opts: unknown) => {
        options = opts;
        throw new ProvisionedThroughputExceededException({ message: 'Rate exceeded', ...meta });
      },
    };
    const writer = new KinesisRecordWriter({
      client: client as never,
      streamArn: 'arn:aws:kinesis:eu-west-1:1:stream/s',
    });
    const caller = new AbortController();
    await expect(
      writer.putRecords([{ partitionKey: 'a', data: Buffer.from('1') }], caller.signal),
    ).rejects.toMatchObject({
      kind: 'throttled',
    });
    const { abortSignal } = options as { abortSignal: AbortSignal };
    expect(abortSignal).toBeInstanceOf(AbortSignal);
    expect(abortSignal.aborted).toBe(false);
  });

  it('aborts a call that does not answer within requestTimeoutMs: unavailable, code Timeout', async () => {
    let seen: AbortSignal | undefined;
    const client = {
      send: (_command: unknown, opts: { abortSignal: AbortSignal }) => {
        seen = opts.abortSignal;
        return new Promise(() => {}); // a server that accepts and never answers
      },
    };
    const writer = new KinesisRecordWriter({
      client: client as never,
      streamName: 's',
      requestTimeoutMs: 50,
    });
    const started = Date.now();
    const failure = await writer.putRecords([{ partitionKey: 'a', data: Buffer.from('1') }]).catch((e) => e);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect(failure).toMatchObject({ kind: 'unavailable', code: 'Timeout', retriable: true });
    expect(seen?.aborted).toBe(true); // the SDK was told to drop the request
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a requestTimeoutMs that is not a positive integer', () => {
    expect(
      () =>
        new KinesisRecordWriter({
          client: { send: async () => ({}) } as never,
          streamName: 's',
          requestTimeoutMs: 0,
        }),
    ).toThrow(ConfigurationError);
  });

  it('refuses an answer with the wrong number of results', async () => {
    const client = { send: async () => ({ Records: [], $metadata: {} }) };
    const writer = new KinesisRecordWriter({ client: client as never, streamName: 's' });
    await expect(writer.putRecords([{ partitionKey: 'a', data: Buffer.from('1') }])).rejects.toBeInstanceOf(
      UpstreamError,
    );
  });

  it('needs exactly one of streamName and streamArn', () => {
    expect(() => new KinesisRecordWriter({ client: { send: async () => ({}) } as never })).toThrow(
      ConfigurationError,
    );
    expect(
      () =>
        new KinesisRecordWriter({
          client: { send: async () => ({}) } as never,
          streamName: 'a',
          streamArn: 'b',
        }),
    ).toThrow(ConfigurationError);
  });
});
