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

  it('translates a thrown SDK error and passes the abort signal', async () => {
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
    const signal = new AbortController().signal;
    await expect(
      writer.putRecords([{ partitionKey: 'a', data: Buffer.from('1') }], signal),
    ).rejects.toMatchObject({
      kind: 'throttled',
    });
    expect(options).toEqual({ abortSignal: signal });
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
