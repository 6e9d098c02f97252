import { KinesisClient, ResourceInUseException, SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsumerEvent, createConsumer, DependencyError, silentLogger } from '../../src/index.js';
import {
  type FanOutFakeOptions,
  type FanOutPushFake,
  instrumentKinesisClient,
  startFanOutFake,
} from '../../src/testing/index.js';
import { clientOfFake } from '../helpers/fakeFanOut.js';

// The consumer in fan-out mode over the AWS path: HTTP/2 (NodeHttp2Handler, h2c), the real event-stream
// framing, ChildShards in the event stream — what kinesis-local (HTTP/1.1, no ChildShards) cannot show.
// The lease table is dynalite; the independent ledger is what the fake holds.
const { dynamodb } = useLocalTwin();
const STREAM = 'orders';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(
  options: FanOutFakeOptions,
  shardCount: number,
  tuning: {
    readonly maxBufferedBatches?: number;
    readonly batchDelayMs?: number;
    readonly subscriptionIdleTimeoutMs?: number;
  } = {},
) {
  const fake = await startFanOutFake({ consumerActivationMs: 300, heartbeatIntervalMs: 200, ...options });
  cleanups.push(() => fake.stop());
  fake.createStream(STREAM, { shardCount });
  // The README's AWS setup, pointed at the fake (NodeHttp2Handler has no connectionTimeout option).
  const kinesis = new KinesisClient({
    endpoint: fake.endpoint,
    requestHandler: new NodeHttp2Handler(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  cleanups.push(() => kinesis.destroy());
  const instrumented = instrumentKinesisClient(kinesis);
  const applicationName = uniqueName('fanout-h2');
  const consumer = createConsumer({
    streamName: STREAM,
    applicationName,
    kinesisClient: instrumented.client,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    retrieval: { fanOut: { subscriptionIdleTimeoutMs: tuning.subscriptionIdleTimeoutMs ?? 10_000 } },
    leaseTakeIntervalMs: 300,
    shardSyncIntervalMs: 1_000,
    checkpointIntervalMs: 100,
    ...(tuning.maxBufferedBatches !== undefined ? { maxBufferedBatches: tuning.maxBufferedBatches } : {}),
    logger: silentLogger,
  });
  const events: ConsumerEvent[] = [];
  consumer.events$.subscribe((event) => events.push(event));
  const seen: { body: string; partitionKey: string; shardId: string }[] = [];
  const decoder = new TextDecoder();
  await consumer.run({
    processBatch: async (batch) => {
      if (tuning.batchDelayMs) await new Promise((resolve) => setTimeout(resolve, tuning.batchDelayMs));
      for (const record of batch.records) {
        seen.push({
          body: decoder.decode(record.data),
          partitionKey: record.partitionKey,
          shardId: batch.shardId,
        });
      }
    },
  });
  cleanups.push(() => consumer.stop());
  return { fake, instrumented, consumer, events, seen, applicationName };
}

const errorName = (error: Error) => (error instanceof DependencyError ? error.errorName : error.name);

function write(fake: FanOutPushFake, count: number, prefix: string): void {
  for (let i = 0; i < count; i++) fake.putRecord(STREAM, `key-${i % 16}`, `${prefix}-${i}`);
}

/** Every record body the fake holds, over every shard: the ledger. */
function ledger(fake: FanOutPushFake): string[] {
  return fake
    .shardIds(STREAM)
    .flatMap((shardId) => fake.recordsOf(STREAM, shardId).map((r) => new TextDecoder().decode(r.data)));
}

describe('a fan-out consumer on the HTTP/2 push fake', () => {
  it('delivers every record exactly once across compressed subscription expiries, with zero GetRecords', async () => {
    const { fake, instrumented, seen, events } = await setUp({ subscriptionLifetimeMs: 1_500 }, 2);
    write(fake, 200, 'before');
    await until(() => seen.length >= 200, 60_000, 'the records written before the start');
    // Keep writing across at least two expiries of every subscription.
    for (let round = 0; round < 5; round++) {
      write(fake, 40, `round${round}`);
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
    const expected = ledger(fake);
    expect(expected).toHaveLength(400);
    await until(() => seen.length >= expected.length, 60_000, 'every record written while subscribed');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const bodies = seen.map((r) => r.body);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect([...bodies].sort()).toEqual([...expected].sort());

    const subscriptions = fake.subscriptions();
    for (const shardId of fake.shardIds(STREAM)) {
      expect(
        subscriptions.filter((s) => s.shardId === shardId && s.endedBy === 'expired').length,
      ).toBeGreaterThanOrEqual(2);
    }
    // Renewals resume after the last continuation: never from the start again.
    const renewals = subscriptions.filter((s) => s.startingPosition.Type !== 'TRIM_HORIZON');
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(renewals.every((s) => s.startingPosition.Type === 'AFTER_SEQUENCE_NUMBER')).toBe(true);
    expect(events.some((e) => e.type === 'SUBSCRIBED' && e.isRenewal)).toBe(true);

    // Steady state: nothing polls (counted by the fake and by the instrumented client).
    expect(fake.callCount('GetRecords')).toBe(0);
    expect(instrumented.callCounts().get('GetRecordsCommand') ?? 0).toBe(0);
    expect(fake.callCount('RegisterStreamConsumer')).toBe(1);
  }, 180_000);

  it('ends a split shard, then the merged pair, on ChildShards; children start; order per key kept', async () => {
    const { fake, seen, consumer } = await setUp({}, 1);
    write(fake, 60, 'parent');
    await until(() => seen.length >= 60, 60_000, 'the parent records');
    const [a, b] = fake.split(STREAM, 'shardId-000000000000');
    write(fake, 60, 'child');
    await until(() => seen.length >= 120, 60_000, 'the children records');
    const merged = fake.merge(STREAM, a, b);
    write(fake, 60, 'grandchild');
    await until(() => seen.length >= 180, 60_000, 'the merged shard records');

    const endedAtShardEnd = fake
      .subscriptions()
      .filter((s) => s.endedBy === 'shard-end')
      .map((s) => s.shardId);
    expect(new Set(endedAtShardEnd)).toEqual(new Set(['shardId-000000000000', a, b]));
    expect(fake.subscriptions().some((s) => s.shardId === merged)).toBe(true);
    // The event stream said where each shard ended: no GetRecords was needed to confirm it.
    expect(fake.callCount('GetRecords')).toBe(0);
    // Per key: every parent record, then every child record, then every grandchild record.
    const generation = ['parent', 'child', 'grandchild'];
    for (let key = 0; key < 16; key++) {
      const ranks = seen
        .filter((r) => r.partitionKey === `key-${key}`)
        .map((r) => generation.indexOf(r.body.split('-')[0]!));
      expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
    }
    const bodies = seen.map((r) => r.body);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect([...bodies].sort()).toEqual([...ledger(fake)].sort());
    await consumer.stop();
  }, 180_000);

  it('recovers from a reset stream, a throttled subscribe and a takeover, losing and repeating nothing', async () => {
    const { fake, seen, events } = await setUp({ maxRecordsPerEvent: 5, takeoverAfterMs: 500 }, 1);
    const reset = fake.injectSubscriptionFault({ afterEvents: 2, fault: 'reset' });
    const limit = fake.injectCallFault({
      operation: 'SubscribeToShard',
      error: 'LimitExceededException',
      times: 4,
    });
    write(fake, 50, 'a');
    await until(() => seen.length >= 50, 60_000, 'the first records through the faults');
    expect([reset.fired, limit.fired]).toEqual([1, 4]);

    // Another subscriber of the same consumer takes the shard over (a zombie, or a second worker's
    // client): the consumer's stream fails with ResourceInUseException, and it takes the shard back.
    const intruder = clientOfFake(fake, new NodeHttp2Handler());
    cleanups.push(() => intruder.destroy());
    const consumerArn = fake.subscriptions()[0]!.consumerArn;
    await new Promise((resolve) => setTimeout(resolve, 600));
    const intruding = await intruder.send(
      new SubscribeToShardCommand({
        ConsumerARN: consumerArn,
        ShardId: 'shardId-000000000000',
        StartingPosition: { Type: 'LATEST' },
      }),
    );
    const intruderEnd = (async () => {
      try {
        for await (const _ of intruding.EventStream!) {
          // drain
        }
        return 'ended';
      } catch (error) {
        return error;
      }
    })();
    write(fake, 50, 'b');
    expect(await intruderEnd).toBeInstanceOf(ResourceInUseException);
    await until(() => seen.length >= 100, 60_000, 'the records written during the takeover');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const bodies = seen.map((r) => r.body);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect([...bodies].sort()).toEqual([...ledger(fake)].sort());
    expect(fake.subscriptions().map((s) => s.endedBy)).toContain('taken-over');
    const retried = events.flatMap((e) => (e.type === 'RETRY' ? [errorName(e.error)] : []));
    expect(retried).toContain('ResourceInUseException');
    expect(events.filter((e) => e.type === 'ERROR')).toEqual([]);
  }, 180_000);

  it('a slow processor holds the push back through HTTP/2 flow control: the fake cannot run ahead', async () => {
    const { fake, seen } = await setUp({ maxRecordsPerEvent: 10 }, 1, {
      maxBufferedBatches: 2,
      batchDelayMs: 20,
    });
    const payload = 'x'.repeat(1_000);
    for (let i = 0; i < 2_000; i++) fake.putRecord(STREAM, `key-${i % 16}`, `r-${i}-${payload}`);
    // 2 MB are waiting; unchecked, the fake would push them all in a fraction of a second.
    let maxAhead = 0;
    const startedAt = performance.now();
    while (seen.length < 2_000 && performance.now() - startedAt < 90_000) {
      const sent = fake.subscriptions().reduce((sum, s) => sum + s.recordCount, 0);
      maxAhead = Math.max(maxAhead, sent - seen.length);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toHaveLength(2_000);
    // Ahead of the processor: the consumer's 2 buffered batches, the event the reader holds, and what
    // the HTTP/2 windows and socket buffers carry (~64 KiB each way) — about 150 records of 1 KB.
    console.log(`fan-out backpressure: at most ${maxAhead} records pushed ahead of the processor`);
    expect(maxAhead).toBeLessThan(400);
    const bodies = seen.map((r) => r.body);
    expect(new Set(bodies).size).toBe(2_000);
  }, 180_000);

  it('gives up a stalled subscription at its idle deadline and resumes from the last position', async () => {
    const { fake, seen, events } = await setUp({ maxRecordsPerEvent: 5, heartbeatIntervalMs: 200 }, 1, {
      subscriptionIdleTimeoutMs: 2_000,
    });
    const stall = fake.injectSubscriptionFault({ afterEvents: 2, fault: 'stall' });
    write(fake, 30, 'r');
    await until(() => stall.fired === 1, 30_000, 'the stall');
    const stalledAt = performance.now();
    await until(() => seen.length >= 30, 60_000, 'the records behind the stall');
    // The stream stayed open and silent: only the reader's own deadline could notice.
    expect(performance.now() - stalledAt).toBeGreaterThanOrEqual(1_500);
    expect(fake.subscriptions()[0]!.endedBy).toBe('client-closed');
    expect(fake.subscriptions()[1]!.startingPosition.Type).toBe('AFTER_SEQUENCE_NUMBER');
    const bodies = seen.map((r) => r.body);
    expect(new Set(bodies).size).toBe(30);
    expect(events.some((e) => e.type === 'RETRY' && e.operation === 'SubscribeToShard')).toBe(true);
  }, 120_000);

  // The SDK throws a mid-stream exception message as its modeled class, `InternalFailureException`,
  // with no HTTP status: it must be classified as transient by name and retried with backoff (it once
  // got the 30 s wait of a non-retriable error).
  it('retries a mid-stream InternalFailureException with backoff', async () => {
    const { fake, events } = await setUp({}, 1);
    const internal = fake.injectSubscriptionFault({
      afterEvents: 1,
      fault: { error: 'InternalFailureException' },
    });
    write(fake, 10, 'r');
    await until(() => internal.fired === 1, 30_000, 'the injected failure');
    await until(
      () => events.some((e) => e.type === 'RETRY' && errorName(e.error) === 'InternalFailureException'),
      5_000,
      'a RETRY of the InternalFailureException',
    );
  }, 60_000);
});
