import { uniqueName } from '@shardline/local';
import { useFaithfulKinesis, useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import { type ConsumerEvent, createConsumer, DynamoDBLeaseStore, silentLogger } from '../../src/index.js';
import { makeRecords, putRecords, runCollectingBodies } from '../helpers/localTwin.js';

const local = useLocalTwin();
const faithful = useFaithfulKinesis();
const { kinesis } = faithful;
const { dynamodb } = local;

it('split then merge while consuming: every record, per-key order kept, no child before its parents ended', async () => {
  const streamName = uniqueName('reshard');
  const applicationName = uniqueName('reshard-app');
  const stream = await faithful.createStream(streamName, { shardCount: 2 });
  const consumer = createConsumer({
    streamName,
    applicationName,
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    idleTimeBetweenReadsMs: 100,
    leaseTakeIntervalMs: 300,
    shardSyncIntervalMs: 1_000,
    checkpointIntervalMs: 100,
    logger: silentLogger,
  });
  const events: { event: ConsumerEvent; atMs: number }[] = [];
  consumer.events$.subscribe((event) => events.push({ event, atMs: performance.now() }));
  const seen: { body: string; shardId: string; atMs: number }[] = [];
  await consumer.run({
    processBatch: async (batch) => {
      for (const r of batch.records)
        seen.push({
          body: new TextDecoder().decode(r.data),
          shardId: batch.shardId,
          atMs: performance.now(),
        });
    },
  });
  try {
    const written = await putRecords(kinesis, streamName, makeRecords(200, 'r', 12, 0));
    const parent = stream.shardIds[0]!;
    const afterSplit = await faithful.splitShard(streamName, parent);
    written.push(...(await putRecords(kinesis, streamName, makeRecords(200, 'r', 12, 200))));
    const children = afterSplit.shardIds.filter((id) => !stream.shardIds.includes(id));
    expect(children).toHaveLength(2);
    const afterMerge = await faithful.mergeShards(streamName, children[0]!, children[1]!);
    const merged = afterMerge.shardIds.filter((id) => !afterSplit.shardIds.includes(id));
    expect(merged).toHaveLength(1);
    written.push(...(await putRecords(kinesis, streamName, makeRecords(200, 'r', 12, 400))));

    await until(
      () => new Set(seen.map((s) => s.body)).size >= written.length,
      45_000,
      'every record across the reshards',
    );
    await until(
      () => events.some((e) => e.event.type === 'SHARD_STARTED' && e.event.shardId === merged[0]),
      10_000,
      'the merged shard to start',
    );
    expect(new Set(seen.map((s) => s.body))).toEqual(new Set(written.map((r) => r.body)));

    // Per partition key, records arrive in the order they were written, across parent and children.
    const position = new Map(written.map((r, i) => [r.body, i]));
    const byKey = new Map<string, number[]>();
    for (const s of seen) {
      const key = written[position.get(s.body)!]!.partitionKey;
      byKey.set(key, [...(byKey.get(key) ?? []), position.get(s.body)!]);
    }
    for (const order of byKey.values()) expect(order).toEqual([...order].sort((a, b) => a - b));

    // No child was read before every parent had ended (SHARD_END written).
    const endedAt = (shardId: string) =>
      events.find((e) => e.event.type === 'SHARD_ENDED' && e.event.shardId === shardId)?.atMs ??
      Number.POSITIVE_INFINITY;
    const firstReadAt = (shardId: string) =>
      seen.find((s) => s.shardId === shardId)?.atMs ?? Number.POSITIVE_INFINITY;
    for (const child of children) {
      expect(endedAt(parent)).toBeLessThan(firstReadAt(child));
      expect(endedAt(child)).toBeLessThan(firstReadAt(merged[0]!));
    }

    const leases = await new DynamoDBLeaseStore({
      client: dynamodb,
      tableName: applicationName,
    }).listLeases();
    const lease = (key: string) => leases.find((l) => l.leaseKey === key)!;
    expect(lease(parent).checkpoint.sequenceNumber).toBe('SHARD_END');
    expect([...lease(parent).childShardIds].sort()).toEqual([...children].sort());
    expect([...lease(merged[0]!).parentShardIds].sort()).toEqual([...children].sort());
  } finally {
    await consumer.stop();
  }
});

it('reads a stream named by ARN (ListShards, GetShardIterator with StreamARN)', async () => {
  const streamName = uniqueName('by-arn');
  const stream = await faithful.createStream(streamName, { shardCount: 2 });
  expect(stream.streamArn).toMatch(/^arn:aws:kinesis:/);
  const written = await putRecords(kinesis, streamName, makeRecords(40));
  const consumer = createConsumer({
    streamArn: stream.streamArn,
    applicationName: uniqueName('by-arn-app'),
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    idleTimeBetweenReadsMs: 100,
    logger: silentLogger,
  });
  const seen = await runCollectingBodies(consumer);
  try {
    await until(() => seen.length >= written.length, 20_000, 'records read by ARN');
  } finally {
    await consumer.stop();
  }
  expect([...seen].sort()).toEqual(written.map((r) => r.body).sort());
});
