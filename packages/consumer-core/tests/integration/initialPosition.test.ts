import { uniqueName } from '@shardline/local';
import { until } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerEvent,
  createConsumer,
  DynamoDBLeaseStore,
  type InitialPosition,
  type KinesisClientLike,
  silentLogger,
} from '../../src/index.js';
import { instrumentKinesisClient } from '../../src/testing/index.js';
import {
  makeRecords,
  putRecords,
  runCollectingBodies,
  useTwins,
  type WrittenRecord,
} from '../helpers/localTwin.js';
import { kinesisFor, RETRIEVAL_MODES, type RetrievalMode, retrievalFor } from '../helpers/retrievalModes.js';

// Start positions in both retrieval modes: polling (GetShardIterator) on kinesalite unless the test
// needs resharding, enhanced fan-out (SubscribeToShard's StartingPosition) on kinesis-local.
const { local, faithful, dynamodb } = useTwins();

/**
 * Starts a consumer at `initialPosition`, waits until every shard's reader has started (its first
 * `GetRecords`, or its first subscription), and returns what it delivered, with a stop.
 */
async function startAt(
  mode: RetrievalMode,
  kinesis: KinesisClientLike,
  streamName: string,
  applicationName: string,
  shardCount: number,
  initialPosition: InitialPosition,
) {
  const instrumented = instrumentKinesisClient(kinesis);
  const subscribed = new Set<string>();
  const consumer = createConsumer({
    streamName,
    applicationName,
    kinesisClient: instrumented.client,
    dynamoDBClient: dynamodb,
    initialPosition,
    retrieval: retrievalFor(mode, { idleTimeBetweenReadsMs: 100 }),
    leaseTakeIntervalMs: 500,
    logger: silentLogger,
  });
  consumer.events$.subscribe((e: ConsumerEvent) => e.type === 'SUBSCRIBED' && subscribed.add(e.shardId));
  const seen = await runCollectingBodies(consumer);
  try {
    // LATEST starts at the newest record when each shard's iterator or subscription is made: wait for
    // every reader.
    await until(
      () => (mode === 'fanOut' ? subscribed.size : instrumented.getRecordsCallTimesMs().size) >= shardCount,
      30_000,
      'every shard read',
    );
  } catch (error) {
    await consumer.stop();
    throw error;
  }
  return { seen, stop: () => consumer.stop() };
}

/**
 * Waits until `seen` holds as many records as `expected` (`what`), then a while more for anything
 * extra; asserts it holds exactly the `expected` records, and none of `excluded`.
 */
async function expectOnly(
  mode: RetrievalMode,
  seen: readonly string[],
  expected: readonly WrittenRecord[],
  excluded: readonly WrittenRecord[],
  what: string,
): Promise<void> {
  await until(() => seen.length >= expected.length, 30_000, what);
  // Fan-out pushes once a second on kinesis-local: wait past one more push for anything extra.
  await new Promise((resolve) => setTimeout(resolve, mode === 'fanOut' ? 1_500 : 300));
  expect([...seen].sort()).toEqual(expected.map((r) => r.body).sort());
  expect(seen.some((body) => excluded.some((r) => r.body === body))).toBe(false);
}

async function latestRun(
  mode: RetrievalMode,
  kinesis: KinesisClientLike,
  streamName: string,
  applicationName: string,
  shardCount: number,
) {
  const before = await putRecords(kinesis, streamName, makeRecords(20, 'before'));
  const { seen, stop } = await startAt(mode, kinesis, streamName, applicationName, shardCount, 'LATEST');
  try {
    const after = await putRecords(kinesis, streamName, makeRecords(20, 'after'));
    await expectOnly(mode, seen, after, before, 'records written after the start');
  } finally {
    await stop();
  }
}

describe.each(RETRIEVAL_MODES)('initial position, reading by %s', (mode) => {
  const twin = kinesisFor(mode, local, faithful);

  it(`LATEST on ${mode === 'fanOut' ? 'kinesis-local' : 'kinesalite'}: only records written after the start are delivered`, async () => {
    const stream = await twin.createStream(uniqueName('latest'), { shardCount: 2 });
    await latestRun(mode, twin.kinesis, stream.streamName, uniqueName('latest-app'), 2);
  });

  it('LATEST on a resharded stream (kinesis-local): no lease for the closed parent, its open children start at LATEST', async () => {
    const streamName = uniqueName('latest-reshard');
    const stream = await faithful.createStream(streamName, { shardCount: 1 });
    const parent = stream.shardIds[0]!;
    await faithful.splitShard(streamName, parent);
    const applicationName = uniqueName('latest-reshard-app');
    await latestRun(mode, faithful.kinesis, streamName, applicationName, 2);
    const leases = await new DynamoDBLeaseStore({
      client: dynamodb,
      tableName: applicationName,
    }).listLeases();
    expect(leases.map((l) => l.leaseKey)).not.toContain(parent);
    expect(leases).toHaveLength(2);
    for (const lease of leases) expect(lease.parentShardIds).toEqual([parent]);
  });

  it(`AT_TIMESTAMP on ${mode === 'fanOut' ? 'kinesis-local' : 'kinesalite'}: exactly the records that arrived after the timestamp, none before`, async () => {
    const stream = await twin.createStream(uniqueName('at-timestamp'), { shardCount: 2 });
    const before = await putRecords(twin.kinesis, stream.streamName, makeRecords(20, 'before'));
    // A second on either side: arrival timestamps are compared with the emulator's clock, which is
    // this host's, at whatever precision it keeps.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const atTimestamp = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await putRecords(twin.kinesis, stream.streamName, makeRecords(30, 'after'));
    const { seen, stop } = await startAt(mode, twin.kinesis, stream.streamName, uniqueName('at-ts-app'), 2, {
      atTimestamp,
    });
    try {
      await expectOnly(mode, seen, after, before, 'records written after the timestamp');
    } finally {
      await stop();
    }
  });
});
