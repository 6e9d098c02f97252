import { uniqueName } from '@shardline/local';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import { createConsumer, silentLogger } from '../../src/index.js';
import { makeRecords, newStream, putRecords, runCollectingBodies, useTwins } from '../helpers/localTwin.js';
import {
  expectLineageKept,
  quickReshardConsumer,
  runRecordingTimes,
  splitThenMerge,
} from '../helpers/resharding.js';

const { faithful, kinesis, dynamodb } = useTwins('faithful');

it('split then merge while consuming: every record, per-key order kept, no child before its parents ended', async () => {
  const { streamName, applicationName, stream } = await newStream(faithful, 'reshard', 2);
  const consumer = quickReshardConsumer({ kinesis, dynamodb }, streamName, applicationName);
  const recorded = await runRecordingTimes(consumer);
  const { seen, events } = recorded;
  try {
    const reshard = await splitThenMerge(faithful, kinesis, stream, 200);
    const { written, children, merged } = reshard;
    expect(merged).toHaveLength(1);

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

    // Per partition key in written order; no child read before every parent had ended (SHARD_END).
    const leases = await expectLineageKept(dynamodb, applicationName, reshard, recorded);
    const mergedLease = leases.find((l) => l.leaseKey === merged[0])!;
    expect([...mergedLease.parentShardIds].sort()).toEqual([...children].sort());
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
