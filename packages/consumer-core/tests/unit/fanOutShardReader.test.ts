import { describe, expect, it } from 'vitest';
import {
  type DependencyError,
  FanOutShardReader,
  type FanOutShardReaderOptions,
  type ReadResult,
  type StartingPosition,
} from '../../src/index.js';
import { fakeFanOutClient, type SubscriptionScript } from '../helpers/fakeFanOut.js';
import { aggregatedZeroOneTwo, awsError, rawRecord } from '../helpers/fakeKinesis.js';
import { readShard } from '../helpers/readShard.js';

const SHARD = 'shardId-000000000000';

function reader(
  client: FanOutShardReaderOptions['client'],
  options: Partial<FanOutShardReaderOptions> = {},
): FanOutShardReader {
  return new FanOutShardReader({
    client,
    streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
    consumerName: 'app',
    consumerArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/app:1',
    maxBackoffMs: 50,
    random: () => 0,
    ...options,
  });
}

/** Reads until the reader ends or `stopWhen` says so, then aborts (as a lease loss would). */
async function readAll(
  scripts: readonly SubscriptionScript[],
  options: {
    start?: StartingPosition;
    reader?: Partial<FanOutShardReaderOptions>;
    other?: Parameters<typeof fakeFanOutClient>[1];
    stopWhen?: (results: readonly ReadResult[], fake: ReturnType<typeof fakeFanOutClient>) => boolean;
  } = {},
) {
  const fake = fakeFanOutClient(scripts, options.other);
  const read = await readShard(
    reader(fake.client, options.reader),
    (results) => options.stopWhen?.(results, fake) ?? false,
    options.start,
  );
  return { fake, ...read };
}

const positions = (fake: ReturnType<typeof fakeFanOutClient>) =>
  fake.subscriptions.map((s) => [s.input.StartingPosition?.Type, s.input.StartingPosition?.SequenceNumber]);

describe('FanOutShardReader', () => {
  it('renews an ended subscription after its last ContinuationSequenceNumber, and ends the shard at ChildShards', async () => {
    const { fake, events, results, records } = await readAll([
      [{ records: [rawRecord(1), rawRecord(2)] }, { records: [], continuation: '5' }, 'end'],
      [
        { records: [rawRecord(6)] },
        {
          records: [rawRecord(7)],
          continuation: null,
          childShards: [{ ShardId: 'shardId-000000000002', ParentShards: [SHARD] }],
        },
      ],
    ]);
    expect(records.map((r) => r.sequenceNumber)).toEqual(['1', '2', '6', '7']);
    expect(positions(fake)).toEqual([
      ['TRIM_HORIZON', undefined],
      ['AFTER_SEQUENCE_NUMBER', '5'],
    ]);
    expect(results.at(-1)).toEqual({
      kind: 'end',
      childShards: [{ shardId: 'shardId-000000000002', parentShardIds: [SHARD], hashKeyRange: undefined }],
    });
    expect(events.filter((e) => e.type === 'SUBSCRIBED')).toEqual([
      { type: 'SUBSCRIBED', shardId: SHARD, isRenewal: false },
      { type: 'SUBSCRIBED', shardId: SHARD, isRenewal: true },
    ]);
    // The ended shard's subscription is cancelled, not left open.
    expect(fake.subscriptions[1]?.signal?.aborted).toBe(true);
  });

  it('renews a subscription before the 5-minute limit (maxSubscriptionMs) from its continuation', async () => {
    let nowMs = 0;
    const { fake } = await readAll(
      [
        [{ records: [rawRecord(1)] }, { records: [rawRecord(2)] }, 'hang'],
        [{ records: [rawRecord(3)], continuation: null }],
      ],
      {
        reader: {
          maxSubscriptionMs: 290_000,
          clock: {
            nowMs: () => {
              nowMs += 100_000; // every look at the clock is 100 s later
              return nowMs;
            },
          },
        },
      },
    );
    expect(positions(fake)).toEqual([
      ['TRIM_HORIZON', undefined],
      ['AFTER_SEQUENCE_NUMBER', '2'],
    ]);
    expect(fake.subscriptions[0]?.signal?.aborted).toBe(true);
  });

  it('backs off on ResourceInUseException (at subscribe and in the stream) and LimitExceededException, then resumes', async () => {
    const { fake, events, records } = await readAll(
      [
        awsError('ResourceInUseException'),
        awsError('LimitExceededException'),
        [{ records: [rawRecord(1)] }, { error: awsError('ResourceInUseException') }],
        [
          {
            member: {
              InternalFailureException: { name: 'InternalFailureException', message: 'boom' },
            } as never,
          },
        ],
        [{ records: [rawRecord(2)], continuation: null }],
      ],
      { reader: { maxBackoffMs: 5_000 } },
    );
    expect(records.map((r) => r.sequenceNumber)).toEqual(['1', '2']);
    const retries = events.filter((e) => e.type === 'RETRY');
    expect(retries.map((e) => (e.error as DependencyError).errorName)).toEqual([
      'ResourceInUseException',
      'LimitExceededException',
      'ResourceInUseException',
      'InternalFailure',
    ]);
    expect(
      retries.every((e) => e.error.name === 'DependencyError' || e.error.name === 'ThroughputExceededError'),
    ).toBe(true);
    expect(positions(fake).slice(2)).toEqual([
      ['TRIM_HORIZON', undefined],
      ['AFTER_SEQUENCE_NUMBER', '1'],
      ['AFTER_SEQUENCE_NUMBER', '1'],
    ]);
    // A ResourceInUseException is never reported as fatal (30 s wait): the takeover happens within 5 s.
    expect(events.some((e) => e.type === 'ERROR')).toBe(false);
    // Each refused call's signal was aborted: over HTTP/1.1 (kinesis-local) the SDK keeps the socket of
    // a refused SubscribeToShard checked out of the agent's pool until the call is aborted (measured: one
    // socket per refusal; at the agent's 50 the client can no longer connect).
    expect(fake.subscriptions[0]?.signal?.aborted).toBe(true);
    expect(fake.subscriptions[1]?.signal?.aborted).toBe(true);
  });

  it('does not read ahead: the next event is pulled only when the consumer asks for the next batch', async () => {
    const fake = fakeFanOutClient([
      [{ records: [rawRecord(1)] }, { records: [rawRecord(2)] }, { records: [rawRecord(3)] }, 'hang'],
    ]);
    const controller = new AbortController();
    const iterator = reader(fake.client)
      .read({
        shardId: SHARD,
        start: { kind: 'TRIM_HORIZON' },
        hashKeyRange: undefined,
        signal: controller.signal,
        onEvent: () => undefined,
      })
      [Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ kind: 'records' });
    // A slow processor: time passes and nothing more is read from the event stream.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.subscriptions[0]?.nextCalls).toBe(1);
    await iterator.next();
    expect(fake.subscriptions[0]?.nextCalls).toBe(2);
    controller.abort();
    await iterator.return?.(undefined);
  });

  it('cancels the subscription at once when its signal aborts (lease released, handed off or lost)', async () => {
    const fake = fakeFanOutClient([[{ records: [rawRecord(1)] }, 'hang']]);
    const controller = new AbortController();
    const results: ReadResult[] = [];
    const done = (async () => {
      for await (const result of reader(fake.client).read({
        shardId: SHARD,
        start: { kind: 'TRIM_HORIZON' },
        hashKeyRange: undefined,
        signal: controller.signal,
        onEvent: () => undefined,
      })) {
        results.push(result);
      }
    })();
    while (fake.subscriptions[0]?.nextCalls !== 2) await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
    await done;
    expect(results).toHaveLength(1);
    expect(fake.subscriptions[0]?.signal?.aborted).toBe(true);
    expect(fake.subscriptions[0]?.returned).toBe(true);
    expect(fake.subscriptions).toHaveLength(1);
  });

  it('gives up a silent subscription at its idle deadline and subscribes again from the last position', async () => {
    const { fake, events } = await readAll(
      [[{ records: [rawRecord(4)] }, 'hang'], [{ records: [rawRecord(5)], continuation: null }]],
      { reader: { subscriptionIdleTimeoutMs: 50 } },
    );
    expect(positions(fake)).toEqual([
      ['TRIM_HORIZON', undefined],
      ['AFTER_SEQUENCE_NUMBER', '4'],
    ]);
    expect(fake.subscriptions[0]?.signal?.aborted).toBe(true);
    const retry = events.find((e) => e.type === 'RETRY') as { error: DependencyError } | undefined;
    expect(retry?.error.errorName).toBe('DeadlineExceededError');
  });

  it('starts at a checkpoint inside an aggregated record and drops the sub-records already done', async () => {
    const aggregated = aggregatedZeroOneTwo();
    const { fake, records } = await readAll(
      [[{ records: [rawRecord(20, aggregated), rawRecord(21)], continuation: null }]],
      { start: { kind: 'AFTER', position: { sequenceNumber: '20', subSequenceNumber: 1 } } },
    );
    expect(positions(fake)).toEqual([['AT_SEQUENCE_NUMBER', '20']]);
    expect(records.map((r) => [r.sequenceNumber, r.subSequenceNumber, r.isAggregated])).toEqual([
      ['20', 2, true],
      ['21', 0, false],
    ]);
  });

  it('starts AT_TIMESTAMP and LATEST as asked', async () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const { fake } = await readAll([[{ continuation: null }]], {
      start: { kind: 'AT_TIMESTAMP', timestamp: at },
    });
    expect(fake.subscriptions[0]?.input.StartingPosition).toEqual({ Type: 'AT_TIMESTAMP', Timestamp: at });
    const latest = await readAll([[{ continuation: null }]], { start: { kind: 'LATEST' } });
    expect(latest.fake.subscriptions[0]?.input.StartingPosition).toEqual({ Type: 'LATEST' });
  });

  it('reports a trimmed checkpoint and reads from TRIM_HORIZON', async () => {
    const { fake, events, records } = await readAll(
      [awsError('InvalidArgumentException'), [{ records: [rawRecord(90)], continuation: null }]],
      { start: { kind: 'AFTER', position: { sequenceNumber: '10', subSequenceNumber: 0 } } },
    );
    expect(positions(fake)).toEqual([
      ['AT_SEQUENCE_NUMBER', '10'],
      ['TRIM_HORIZON', undefined],
    ]);
    expect(events.find((e) => e.type === 'RECORDS_TRIMMED')).toMatchObject({ resumedAt: 'TRIM_HORIZON' });
    expect(records.map((r) => r.sequenceNumber)).toEqual(['90']);
  });

  it('ends a shard the endpoint never ends in the stream: closed in ListShards, caught up, confirmed by one GetRecords', async () => {
    const getRecords: unknown[] = [];
    const { fake, results, records } = await readAll(
      [[{ records: [rawRecord(1)] }, { records: [], continuation: '1', millisBehindLatest: 0 }, 'hang']],
      {
        reader: { shardEndCheckIntervalMs: 0 },
        other: async (command) => {
          switch (command.constructor.name) {
            case 'ListShardsCommand':
              return {
                Shards: [
                  {
                    ShardId: SHARD,
                    SequenceNumberRange: { StartingSequenceNumber: '0', EndingSequenceNumber: '3' },
                  },
                ],
              };
            case 'GetShardIteratorCommand':
              expect(command.input).toMatchObject({
                ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
                StartingSequenceNumber: '1',
              });
              return { ShardIterator: 'it' };
            case 'GetRecordsCommand':
              getRecords.push(command.input);
              return {
                Records: [rawRecord(2)],
                NextShardIterator: undefined,
                ChildShards: [{ ShardId: 'shardId-000000000003', ParentShards: [SHARD] }],
              };
            default:
              throw new Error(command.constructor.name);
          }
        },
      },
    );
    // The record the subscription had not pushed yet is delivered before the end.
    expect(records.map((r) => r.sequenceNumber)).toEqual(['1', '2']);
    expect(results.at(-1)).toMatchObject({ kind: 'end', childShards: [{ shardId: 'shardId-000000000003' }] });
    expect(getRecords).toHaveLength(1);
    expect(fake.subscriptions[0]?.signal?.aborted).toBe(true);
  });

  it('makes no GetRecords while the shard is open: an open shard in ListShards keeps the subscription', async () => {
    const { fake } = await readAll(
      [
        [
          { records: [rawRecord(1)] },
          { records: [], continuation: '1' },
          { records: [], continuation: '1' },
          'hang',
        ],
      ],
      {
        reader: { shardEndCheckIntervalMs: 0 },
        other: async (command) => {
          if (command.constructor.name === 'ListShardsCommand') {
            return { Shards: [{ ShardId: SHARD, SequenceNumberRange: { StartingSequenceNumber: '0' } }] };
          }
          throw new Error(command.constructor.name);
        },
        stopWhen: (_, f) => (f.subscriptions[0]?.nextCalls ?? 0) >= 4,
      },
    );
    expect(fake.commands.filter((c) => c === 'GetRecordsCommand')).toHaveLength(0);
    expect(fake.commands.filter((c) => c === 'ListShardsCommand').length).toBeGreaterThan(0);
    expect(fake.subscriptions).toHaveLength(1);
  });
  it('cuts a SubscribeToShard that never answers at its deadline and subscribes again', async () => {
    const { fake, events, records } = await readAll(
      ['no-answer', [{ records: [rawRecord(1)], continuation: null }]],
      { reader: { callTimeoutMs: 100 } },
    );
    expect(records.map((r) => r.sequenceNumber)).toEqual(['1']);
    expect(fake.subscriptions[0]?.signal?.aborted).toBe(true);
    const retry = events.find((e) => e.type === 'RETRY') as { error: DependencyError } | undefined;
    expect(retry?.error.errorName).toBe('DeadlineExceededError');
  });

  it('reports a refusal that retrying cannot cure (consumer deregistered) as an error and retries slowly', async () => {
    const { events, records } = await readAll(
      [awsError('ResourceNotFoundException'), [{ records: [rawRecord(1)], continuation: null }]],
      { reader: { fatalErrorRetryMs: 30 } },
    );
    expect(records).toHaveLength(1);
    expect(events.find((e) => e.type === 'ERROR')).toMatchObject({ shardId: SHARD });
    expect(events.some((e) => e.type === 'RETRY')).toBe(false);
  });
});
