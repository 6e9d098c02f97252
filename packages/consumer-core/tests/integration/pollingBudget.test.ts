import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import { createConsumer, silentLogger } from '../../src/index.js';
import { instrumentDynamoDBClient, instrumentKinesisClient } from '../../src/testing/index.js';
import { makeRecords, putRecords } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;

it('a caught-up reader stays within the 5 GetRecords calls/s per shard budget while records trickle in', async () => {
  const streamName = uniqueName('budget');
  await local.createStream(streamName, { shardCount: 2 });
  const instrumented = instrumentKinesisClient(kinesis);
  const table = instrumentDynamoDBClient(dynamodb);
  const consumer = createConsumer({
    streamName,
    applicationName: uniqueName('budget-app'),
    kinesisClient: instrumented.client,
    dynamoDBClient: table.client,
    initialPosition: 'TRIM_HORIZON',
    idleTimeBetweenReadsMs: 200,
    checkpointIntervalMs: 1_000,
    logger: silentLogger,
  });
  let seen = 0;
  await consumer.run({
    processBatch: async (batch) => {
      seen += batch.records.length;
    },
  });
  let written = 0;
  try {
    // About 50 records/s for 3 s, a few at a time.
    for (let tick = 0; tick < 30; tick++) {
      written += (await putRecords(kinesis, streamName, makeRecords(5, 't', 8, tick * 5))).length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await until(() => seen >= written, 10_000, 'the trickle');
  } finally {
    await consumer.stop();
  }
  const perShard = instrumented.getRecordsCallTimesMs();
  expect([...perShard.keys()].sort()).toEqual(['shardId-000000000000', 'shardId-000000000001']);
  expect(instrumented.maxGetRecordsPerShard(1_000)).toBeLessThanOrEqual(5);
  for (const times of perShard.values()) expect(times.length).toBeGreaterThan(5); // it did poll
  // Checkpoints are coalesced: far fewer writes than batches.
  expect(table.counts().get('checkpoint') ?? 0).toBeLessThanOrEqual(2 * 5 + 4);
});
