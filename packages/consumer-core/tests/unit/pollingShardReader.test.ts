import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { DeadlineExceededError } from '@shardline/common';
import { aggregate } from '@shardline/kpl';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerEvent,
  type DependencyError,
  type KinesisClientLike,
  PollingShardReader,
  type StartingPosition,
} from '../../src/index.js';
import {
  aggregatedZeroOneTwo,
  awsError,
  fakeKinesis,
  type GetRecordsStep,
  rawRecord,
} from '../helpers/fakeKinesis.js';
import { readShard } from '../helpers/readShard.js';

async function readAll(
  script: GetRecordsStep[],
  options: {
    start?: StartingPosition;
    iteratorErrors?: Error[];
    idleMs?: number;
    limit?: number;
    stopAfterCalls?: number;
  } = {},
) {
  const fake = fakeKinesis(script, options.iteratorErrors);
  const reader = new PollingShardReader({
    client: fake.client,
    streamName: 's',
    idleTimeBetweenReadsMs: options.idleMs ?? 0,
    maxRecordsPerFetch: options.limit ?? 3,
    throttleBackoffInitialMs: 20,
    maxBackoffMs: 40,
    random: () => 0.5,
  });
  const stopAfter = options.stopAfterCalls ?? script.length + 1;
  const read = await readShard(reader, () => fake.calls() >= stopAfter, options.start);
  return { fake, ...read };
}

describe('PollingShardReader', () => {
  it('reads until the shard ends and reports the children', async () => {
    const { records, results } = await readAll([
      { Records: [rawRecord(1), rawRecord(2)] },
      {
        Records: [rawRecord(3)],
        NextShardIterator: undefined,
        ChildShards: [
          {
            ShardId: 'c',
            ParentShards: ['shardId-000000000000'],
            HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' },
          },
        ],
      },
    ]);
    expect(records.map((r) => r.sequenceNumber)).toEqual(['1', '2', '3']);
    expect(results.at(-1)).toEqual({
      kind: 'end',
      childShards: [
        {
          shardId: 'c',
          parentShardIds: ['shardId-000000000000'],
          hashKeyRange: { startingHashKey: '0', endingHashKey: '9' },
        },
      ],
    });
  });

  it('calls again at once while there is a backlog, and idles when caught up', async () => {
    const { fake } = await readAll(
      [
        { Records: [rawRecord(1), rawRecord(2), rawRecord(3)] }, // full batch: backlog
        { Records: [rawRecord(4)], MillisBehindLatest: 5_000 }, // behind: backlog
        { Records: [rawRecord(5)], MillisBehindLatest: 0 }, // caught up: idle
        { Records: [] },
      ],
      { idleMs: 500, stopAfterCalls: 4 },
    );
    const gaps = fake.getRecordsAtMs.slice(1).map((t, i) => t - fake.getRecordsAtMs[i]!);
    expect(gaps[0]).toBeLessThan(250);
    expect(gaps[1]).toBeLessThan(250);
    expect(gaps[2]).toBeGreaterThanOrEqual(495);
  });

  it('backs off on throttling instead of retrying hot, and reports the retries', async () => {
    const throttled = awsError('ProvisionedThroughputExceededException');
    const { fake, events, records } = await readAll([
      throttled,
      throttled,
      { Records: [rawRecord(1)], NextShardIterator: undefined },
    ]);
    expect(records).toHaveLength(1);
    const retries = events.filter((e) => e.type === 'RETRY');
    expect(retries.map((e) => e.type === 'RETRY' && e.operation)).toEqual(['GetRecords', 'GetRecords']);
    const gaps = fake.getRecordsAtMs.slice(1).map((t, i) => t - fake.getRecordsAtMs[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(14);
  });

  it('resumes after the last record read when the iterator expires', async () => {
    const { fake, records } = await readAll([
      { Records: [rawRecord(10), rawRecord(11)] },
      awsError('ExpiredIteratorException'),
      { Records: [rawRecord(12)], NextShardIterator: undefined },
    ]);
    expect(records.map((r) => r.sequenceNumber)).toEqual(['10', '11', '12']);
    expect(fake.iteratorRequests.map((r) => [r.ShardIteratorType, r.StartingSequenceNumber])).toEqual([
      ['TRIM_HORIZON', undefined],
      ['AFTER_SEQUENCE_NUMBER', '11'],
    ]);
  });

  it('starts at a checkpoint inside an aggregated record and skips the sub-records already done', async () => {
    const aggregated = aggregatedZeroOneTwo();
    const { fake, records } = await readAll(
      [{ Records: [rawRecord(20, aggregated), rawRecord(21)], NextShardIterator: undefined }],
      { start: { kind: 'AFTER', position: { sequenceNumber: '20', subSequenceNumber: 0 } } },
    );
    expect(fake.iteratorRequests[0]).toMatchObject({
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: '20',
    });
    expect(
      records.map((r) => [r.sequenceNumber, r.subSequenceNumber, r.partitionKey, r.isAggregated]),
    ).toEqual([
      ['20', 1, 'b', true],
      ['20', 2, 'c', true],
      ['21', 0, 'pk-21', false],
    ]);
  });

  it('delivers a record with the KPL magic but a bad digest as a plain record', async () => {
    const aggregated = aggregate([{ partitionKey: 'a', data: new TextEncoder().encode('x') }]);
    const corrupt = aggregated.slice();
    corrupt[corrupt.length - 1]! ^= 0xff;
    const { records } = await readAll([{ Records: [rawRecord(1, corrupt)], NextShardIterator: undefined }]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ isAggregated: false, subSequenceNumber: 0 });
    expect(records[0]!.data).toEqual(corrupt);
  });

  it('reports a trimmed checkpoint and resumes at TRIM_HORIZON', async () => {
    const { fake, events, records } = await readAll(
      [{ Records: [rawRecord(900)], NextShardIterator: undefined }],
      {
        start: { kind: 'AFTER', position: { sequenceNumber: '5', subSequenceNumber: 0 } },
        iteratorErrors: [
          awsError(
            'InvalidArgumentException',
            'StartingSequenceNumber 5 used in GetShardIterator on shard is no longer available',
          ),
        ],
      },
    );
    expect(events.filter((e) => e.type === 'RECORDS_TRIMMED')).toEqual([
      {
        type: 'RECORDS_TRIMMED',
        shardId: 'shardId-000000000000',
        checkpoint: { sequenceNumber: '5', subSequenceNumber: 0 },
        resumedAt: 'TRIM_HORIZON',
      },
    ]);
    expect(fake.iteratorRequests.map((r) => r.ShardIteratorType)).toEqual([
      'AT_SEQUENCE_NUMBER',
      'TRIM_HORIZON',
    ]);
    expect(records.map((r) => r.sequenceNumber)).toEqual(['900']);
  });

  it('flags a sub-record whose hash key is outside the shard range, and still delivers it', async () => {
    const aggregated = aggregate([
      { partitionKey: 'in', explicitHashKey: '5', data: new Uint8Array([1]) },
      { partitionKey: 'out', explicitHashKey: '500', data: new Uint8Array([2]) },
    ]);
    const fake = fakeKinesis([{ Records: [rawRecord(1, aggregated)], NextShardIterator: undefined }]);
    const reader = new PollingShardReader({
      client: fake.client,
      streamName: 's',
      idleTimeBetweenReadsMs: 0,
    });
    const events: ConsumerEvent[] = [];
    const delivered: string[] = [];
    for await (const result of reader.read({
      shardId: 's0',
      start: { kind: 'TRIM_HORIZON' },
      hashKeyRange: { startingHashKey: '0', endingHashKey: '100' },
      signal: new AbortController().signal,
      onEvent: (e) => events.push(e),
    })) {
      if (result.kind === 'records') delivered.push(...result.records.map((r) => r.partitionKey));
    }
    expect(delivered).toEqual(['in', 'out']);
    expect(events).toEqual([
      {
        type: 'RECORD_OUTSIDE_SHARD_RANGE',
        shardId: 's0',
        sequenceNumber: '1',
        subSequenceNumber: 1,
        partitionKey: 'out',
      },
    ]);
  });

  it('retries network errors with backoff and loses nothing', async () => {
    const network = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { records, events } = await readAll([
      { Records: [rawRecord(1)] },
      network,
      { Records: [rawRecord(2)], NextShardIterator: undefined },
    ]);
    expect(records.map((r) => r.sequenceNumber)).toEqual(['1', '2']);
    expect(events.some((e) => e.type === 'RETRY')).toBe(true);
  });

  it('cuts a GetRecords that never answers at its deadline and reads again on the same iterator', async () => {
    // The call ignores its abort signal (as a request whose body trickles in would): the reader is
    // freed by the deadline all the same.
    const iterators: string[] = [];
    const aborted: boolean[] = [];
    let getRecordsCalls = 0;
    const client = {
      send: (async (command: unknown, options?: { abortSignal?: AbortSignal }) => {
        if (command instanceof GetShardIteratorCommand) return { ShardIterator: 'it-1' };
        if (command instanceof GetRecordsCommand) {
          iterators.push(command.input.ShardIterator ?? '');
          getRecordsCalls += 1;
          if (getRecordsCalls === 2) {
            const signal = options?.abortSignal;
            return new Promise(() => {
              signal?.addEventListener('abort', () => aborted.push(true));
            });
          }
          return getRecordsCalls === 1
            ? { Records: [rawRecord(1)], NextShardIterator: 'it-2', MillisBehindLatest: 0 }
            : { Records: [rawRecord(2)], NextShardIterator: undefined };
        }
        throw new Error('unexpected command');
      }) as KinesisClientLike['send'],
    };
    const reader = new PollingShardReader({
      client,
      streamName: 's',
      idleTimeBetweenReadsMs: 0,
      callTimeoutMs: 50,
      maxBackoffMs: 40,
      random: () => 0.5,
    });
    const events: ConsumerEvent[] = [];
    const records: string[] = [];
    for await (const result of reader.read({
      shardId: 'shardId-000000000000',
      start: { kind: 'TRIM_HORIZON' },
      hashKeyRange: undefined,
      signal: new AbortController().signal,
      onEvent: (e) => events.push(e),
    })) {
      if (result.kind === 'records') records.push(...result.records.map((r) => r.sequenceNumber));
    }
    expect(records).toEqual(['1', '2']);
    expect(iterators).toEqual(['it-1', 'it-2', 'it-2']);
    expect(aborted).toEqual([true]);
    const retry = events.find((e) => e.type === 'RETRY');
    expect(retry).toMatchObject({ type: 'RETRY', operation: 'GetRecords', attempt: 1 });
    const cause = retry?.type === 'RETRY' ? (retry.error as DependencyError).cause : undefined;
    expect(cause).toBeInstanceOf(DeadlineExceededError);
    expect(cause).toMatchObject({ operation: 'GetRecords', timeoutMs: 50 });
  });
});
