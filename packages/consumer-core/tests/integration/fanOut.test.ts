import {
  ListStreamConsumersCommand,
  PutRecordCommand,
  SubscribeToShardCommand,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import { aggregate } from '@shardline/kpl';
import { uniqueName } from '@shardline/local';
import { until } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerEvent,
  type ConsumerOptions,
  createConsumer,
  DynamoDBLeaseStore,
  type KinesisClientLike,
  registerStreamConsumer,
  retrievalOf,
  silentLogger,
} from '../../src/index.js';
import { instrumentKinesisClient } from '../../src/testing/index.js';
import {
  makeRecords,
  putRecords,
  runCollectingBodies,
  runSlowProcessor,
  useTwins,
} from '../helpers/localTwin.js';
import { expectLineageKept, runRecordingTimes, splitThenMerge } from '../helpers/resharding.js';

// kinesis-local 0.6.x implements SubscribeToShard over HTTP/1.1 (the faithful client's handler): it
// pushes on a one-second poll, never fills ChildShards, and refuses a second open subscription.
const { faithful, kinesis, dynamodb } = useTwins('faithful');

function fanOutConsumer(
  streamName: string,
  applicationName: string,
  kinesisClient: KinesisClientLike = kinesis,
  extra: Partial<ConsumerOptions> = {},
) {
  return createConsumer({
    streamName,
    applicationName,
    kinesisClient,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    retrieval: { fanOut: { subscriptionIdleTimeoutMs: 15_000 } },
    leaseTakeIntervalMs: 300,
    shardSyncIntervalMs: 1_000,
    checkpointIntervalMs: 100,
    logger: silentLogger,
    ...extra,
  });
}

describe('enhanced fan-out on kinesis-local', () => {
  it('reads every record from TRIM_HORIZON exactly once, with no GetRecords in steady state', async () => {
    const streamName = uniqueName('fanout');
    const applicationName = uniqueName('fanout-app');
    await faithful.createStream(streamName, { shardCount: 2 });
    const written = await putRecords(kinesis, streamName, makeRecords(300, 'r', 8));
    const instrumented = instrumentKinesisClient(kinesis);
    const consumer = fanOutConsumer(streamName, applicationName, instrumented.client);
    const events: ConsumerEvent[] = [];
    consumer.events$.subscribe((event) => events.push(event));
    const seen = await runCollectingBodies(consumer);
    try {
      await until(() => seen.length >= written.length, 60_000, 'every record written before the start');
      written.push(...(await putRecords(kinesis, streamName, makeRecords(200, 'r', 8, 300))));
      await until(() => seen.length >= written.length, 60_000, 'every record written while subscribed');
      // Steady state: the subscriptions keep pushing for a while; nothing polls.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect([...seen].sort()).toEqual(written.map((r) => r.body).sort());
      expect(new Set(seen).size).toBe(seen.length);
      expect(instrumented.callCounts().get('GetRecordsCommand') ?? 0).toBe(0);
      expect(instrumented.callCounts().get('SubscribeToShardCommand')).toBeGreaterThanOrEqual(2);
      expect(events.filter((e) => e.type === 'SUBSCRIBED').length).toBeGreaterThanOrEqual(2);

      // Each lease item says how its holder reads.
      const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
      const leases = await store.listLeases();
      expect(leases.map(retrievalOf)).toEqual(leases.map(() => `fanOut:${applicationName}`));
    } finally {
      await consumer.stop();
    }
  }, 180_000);

  it('resumes after the checkpoint: a second consumer delivers only the records after it', async () => {
    const streamName = uniqueName('fanout-resume');
    const applicationName = uniqueName('fanout-resume-app');
    await faithful.createStream(streamName, { shardCount: 1 });
    const first = await putRecords(kinesis, streamName, makeRecords(150, 'a', 4));
    const consumer1 = fanOutConsumer(streamName, applicationName);
    const seen1 = await runCollectingBodies(consumer1);
    await until(() => seen1.length >= first.length, 60_000, 'the first consumer to read everything');
    await consumer1.stop(); // final checkpoint and release; the subscription is cancelled first

    const second = await putRecords(kinesis, streamName, makeRecords(120, 'b', 4));
    const consumer2 = fanOutConsumer(streamName, applicationName);
    const seen2 = await runCollectingBodies(consumer2);
    try {
      await until(() => seen2.length >= second.length, 60_000, 'the second consumer to read the rest');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect([...seen1].sort()).toEqual(first.map((r) => r.body).sort());
      expect([...seen2].sort()).toEqual(second.map((r) => r.body).sort());
    } finally {
      await consumer2.stop();
    }
  }, 180_000);

  it('registers one consumer however many workers race to register it', async () => {
    const streamName = uniqueName('fanout-register');
    const stream = await faithful.createStream(streamName, { shardCount: 1 });
    const consumerName = uniqueName('racer');
    const results = await Promise.all(
      [0, 1, 2].map(() =>
        registerStreamConsumer({
          client: kinesis,
          streamArn: stream.streamArn,
          consumerName,
          pollIntervalMs: 200,
        }),
      ),
    );
    expect(new Set(results.map((r) => r.consumerArn)).size).toBe(1);
    expect(results.filter((r) => r.isNew).length).toBeLessThanOrEqual(1);
    const listed = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: stream.streamArn }));
    expect(listed.Consumers?.filter((c) => c.ConsumerName === consumerName)).toHaveLength(1);
    // A later start finds it ACTIVE and reuses it.
    await expect(
      registerStreamConsumer({ client: kinesis, streamArn: stream.streamArn, consumerName }),
    ).resolves.toEqual({ consumerArn: results[0]?.consumerArn, isNew: false });
  }, 120_000);
  it('split then merge while subscribed: every record once, per-key order kept, each parent ended (SHARD_END) before its children', async () => {
    const streamName = uniqueName('fanout-reshard');
    const applicationName = uniqueName('fanout-reshard-app');
    const stream = await faithful.createStream(streamName, { shardCount: 2 });
    const instrumented = instrumentKinesisClient(kinesis);
    const consumer = fanOutConsumer(streamName, applicationName, instrumented.client);
    const recorded = await runRecordingTimes(consumer);
    const { seen } = recorded;
    try {
      const reshard = await splitThenMerge(faithful, kinesis, stream, 150);
      const { written } = reshard;

      await until(() => seen.length >= written.length, 120_000, 'every record across the reshards');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(seen.map((s) => s.body).sort()).toEqual(written.map((r) => r.body).sort());

      await expectLineageKept(dynamodb, applicationName, reshard, recorded);
      // kinesis-local never reports the end in the stream: each of the three ended shards was confirmed
      // by GetRecords at its end (a few calls each), never polled in between.
      const getRecords = instrumented.callCounts().get('GetRecordsCommand') ?? 0;
      expect(getRecords).toBeGreaterThanOrEqual(3);
      expect(getRecords).toBeLessThanOrEqual(12);
    } finally {
      await consumer.stop();
    }
  }, 240_000);
  it('a processor far slower than the push keeps the reader within the buffer: an event is pulled only when a batch is handled', async () => {
    const streamName = uniqueName('fanout-backpressure');
    await faithful.createStream(streamName, { shardCount: 1 });
    // Counts the events with records the reader takes from each subscription's event stream.
    let eventsPulled = 0;
    const counting: KinesisClientLike = {
      send: (async (command: unknown, options?: unknown) => {
        const output = await kinesis.send(command as never, options as never);
        if (!(command instanceof SubscribeToShardCommand)) return output;
        const events = (output as { EventStream: AsyncIterable<SubscribeToShardEventStream> }).EventStream;
        return {
          ...output,
          EventStream: {
            [Symbol.asyncIterator]: () => {
              const inner = events[Symbol.asyncIterator]();
              return {
                next: async () => {
                  const result = await inner.next();
                  if (!result.done && (result.value.SubscribeToShardEvent?.Records?.length ?? 0) > 0)
                    eventsPulled += 1;
                  return result;
                },
                return: (value?: unknown) => inner.return?.(value) ?? Promise.resolve({ done: true, value }),
              };
            },
          },
        };
      }) as KinesisClientLike['send'],
    };
    const maxBufferedBatches = 2;
    const consumer = createConsumer({
      streamName,
      applicationName: uniqueName('fanout-backpressure-app'),
      kinesisClient: counting,
      dynamoDBClient: dynamodb,
      initialPosition: 'TRIM_HORIZON',
      retrieval: 'fanOut',
      maxBufferedBatches,
      leaseTakeIntervalMs: 300,
      logger: silentLogger,
    });
    // kinesis-local pushes about one event a second; this processor takes 3 s per batch.
    const slow = await runSlowProcessor(consumer, 3_000, () => eventsPulled);
    let waves = 0;
    try {
      // A new wave of records every 400 ms, so the stream keeps having something to push.
      const deadline = performance.now() + 20_000;
      while (performance.now() < deadline) {
        await putRecords(kinesis, streamName, makeRecords(20, `w${waves}`, 4));
        waves += 1;
        slow.observe();
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    } finally {
      await consumer.stop();
    }
    const { handledBatches, maxAhead: maxEventsAhead } = slow;
    console.info(
      `[fan-out backpressure] ${waves} waves written, ${eventsPulled} events with records pulled, ${handledBatches} batches handled, max ahead ${maxEventsAhead}`,
    );
    expect(handledBatches).toBeGreaterThanOrEqual(4);
    // The stream had far more to push than was pulled: the reader waited for the processor.
    expect(eventsPulled).toBeLessThan(waves / 2);
    // At most the buffered batches are ahead of the processor (the one in processing counts as buffered).
    expect(maxEventsAhead).toBeLessThanOrEqual(maxBufferedBatches + 1);
  }, 180_000);
  it('de-aggregates KPL records pushed by the subscription, and resumes inside an aggregated record after its sub-sequence checkpoint', async () => {
    const streamName = uniqueName('fanout-kpl');
    const applicationName = uniqueName('fanout-kpl-app');
    await faithful.createStream(streamName, { shardCount: 1 });
    const encoder = new TextEncoder();
    const bodies: string[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      const subRecords = Array.from({ length: 10 }, (_, i) => {
        const body = `kpl-${batch}-${i}`;
        bodies.push(body);
        return { partitionKey: 'one-key', data: encoder.encode(body) };
      });
      await kinesis.send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: 'one-key',
          Data: aggregate(subRecords),
        }),
      );
    }
    // The first consumer checkpoints in the middle of the fifth aggregated record and stops.
    // The batch in hand never finishes, so stop() writes only the explicit checkpoint, at kpl-4-4.
    const consumer1 = fanOutConsumer(streamName, applicationName, kinesis, { shutdownTimeoutMs: 500 });
    const seen1: string[] = [];
    await consumer1.run({
      processBatch: async (batch) => {
        for (const record of batch.records) {
          if (seen1.length === 45) await new Promise(() => undefined);
          seen1.push(new TextDecoder().decode(record.data));
          await batch.checkpoint(record);
        }
      },
    });
    await until(() => seen1.length >= 45, 60_000, 'the first 45 sub-records');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await consumer1.stop();
    expect(seen1).toEqual(bodies.slice(0, 45));

    const consumer2 = fanOutConsumer(streamName, applicationName);
    const seen2 = await runCollectingBodies(consumer2);
    try {
      await until(() => seen2.length >= 55, 60_000, 'the remaining sub-records');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(seen2).toEqual(bodies.slice(45));
    } finally {
      await consumer2.stop();
    }
  }, 180_000);
});
