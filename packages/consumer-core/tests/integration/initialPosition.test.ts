import { uniqueName } from '@shardline/local';
import { useFaithfulKinesis, useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import { createConsumer, DynamoDBLeaseStore, type KinesisClientLike, silentLogger } from '../../src/index.js';
import { instrumentKinesisClient } from '../../src/testing/index.js';
import { makeRecords, putRecords, runCollectingBodies } from '../helpers/localTwin.js';

const local = useLocalTwin();
const faithful = useFaithfulKinesis();
const fast = local.kinesis;
const faithfulKinesis = faithful.kinesis;
const { dynamodb } = local;

async function latestRun(
  kinesis: KinesisClientLike,
  streamName: string,
  applicationName: string,
  shardCount: number,
) {
  const before = await putRecords(kinesis, streamName, makeRecords(20, 'before'));
  const instrumented = instrumentKinesisClient(kinesis);
  const consumer = createConsumer({
    streamName,
    applicationName,
    kinesisClient: instrumented.client,
    dynamoDBClient: dynamodb,
    initialPosition: 'LATEST',
    idleTimeBetweenReadsMs: 100,
    logger: silentLogger,
  });
  const seen = await runCollectingBodies(consumer);
  try {
    // LATEST starts at the newest record when each shard's iterator is made: wait for every reader.
    await until(() => instrumented.getRecordsCallTimesMs().size >= shardCount, 15_000, 'every shard polled');
    const after = await putRecords(kinesis, streamName, makeRecords(20, 'after'));
    await until(() => seen.length >= after.length, 15_000, 'records written after the start');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...seen].sort()).toEqual(after.map((r) => r.body).sort());
    expect(seen.some((body) => before.some((r) => r.body === body))).toBe(false);
  } finally {
    await consumer.stop();
  }
}

it('LATEST on kinesalite: only records written after the start are delivered', async () => {
  const stream = await local.createStream(uniqueName('latest'), { shardCount: 2 });
  await latestRun(fast, stream.streamName, uniqueName('latest-app'), 2);
});

it('LATEST on a resharded stream (kinesis-local): no lease for the closed parent, its open children start at LATEST', async () => {
  const streamName = uniqueName('latest-reshard');
  const stream = await faithful.createStream(streamName, { shardCount: 1 });
  const parent = stream.shardIds[0]!;
  await faithful.splitShard(streamName, parent);
  const applicationName = uniqueName('latest-reshard-app');
  await latestRun(faithfulKinesis, streamName, applicationName, 2);
  const leases = await new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName }).listLeases();
  expect(leases.map((l) => l.leaseKey)).not.toContain(parent);
  expect(leases).toHaveLength(2);
  for (const lease of leases) expect(lease.parentShardIds).toEqual([parent]);
});
