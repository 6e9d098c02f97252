import { describe, expect, it } from 'vitest';
import { FanOutShardReader } from '../../src/index.js';
import { createTestConsumer, InMemoryLeaseStore } from '../../src/testing/index.js';
import { fakeFanOutClient } from '../helpers/fakeFanOut.js';
import { rawRecord } from '../helpers/fakeKinesis.js';

const SHARD = 'shardId-000000000000';

/** The fan-out reader over a scripted client, with a one-shard lister: a whole consumer, no emulator. */
function fanOutStream(fake: ReturnType<typeof fakeFanOutClient>) {
  const reader = new FanOutShardReader({
    client: fake.client,
    streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
    consumerName: 'app',
    consumerArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/app:1',
  });
  return {
    read: reader.read.bind(reader),
    listShards: async () => [{ shardId: SHARD, parentShardIds: [], hashKeyRange: undefined, isOpen: true }],
  };
}

describe('a fan-out consumer', () => {
  it('cancels the subscription before it releases the lease at stop(), after the final checkpoint', async () => {
    const fake = fakeFanOutClient([[{ records: [rawRecord(1), rawRecord(2)] }, 'hang']]);
    const leaseStore = new InMemoryLeaseStore();
    const consumer = createTestConsumer({ stream: fanOutStream(fake), leaseStore });
    const order: { what: string; atMs: number }[] = [];
    consumer.events$.subscribe((event) => {
      if (event.type === 'LEASE_RELEASED') order.push({ what: 'released', atMs: performance.now() });
    });
    const handled: string[] = [];
    await consumer.run({
      processBatch: async (batch) => {
        for (const record of batch.records) handled.push(record.sequenceNumber);
      },
    });
    while (handled.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await consumer.stop();
    const subscription = fake.subscriptions[0]!;
    expect(subscription.abortedAtMs).toBeDefined();
    expect(order).toHaveLength(1);
    expect(subscription.abortedAtMs!).toBeLessThanOrEqual(order[0]!.atMs);
    const lease = await leaseStore.getLease(SHARD);
    expect(lease?.checkpoint).toEqual({ sequenceNumber: '2', subSequenceNumber: 0 });
    expect(lease?.leaseOwner).toBeUndefined();
    expect(fake.subscriptions).toHaveLength(1);
  });
  it('cancels the subscription as soon as the lease is lost to another worker, and delivers nothing more', async () => {
    const fake = fakeFanOutClient([[{ records: [rawRecord(1)] }, 'hang']]);
    const leaseStore = new InMemoryLeaseStore();
    const consumer = createTestConsumer({
      stream: fanOutStream(fake),
      leaseStore,
      failoverTimeMs: 3_000,
      leaseTakeIntervalMs: 60_000,
    });
    let lostAtMs: number | undefined;
    consumer.events$.subscribe((event) => {
      if (event.type === 'LEASE_LOST') lostAtMs = performance.now();
    });
    const handled: string[] = [];
    await consumer.run({
      processBatch: async (batch) => {
        for (const record of batch.records) handled.push(record.sequenceNumber);
      },
    });
    try {
      while (handled.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const lease = await leaseStore.getLease(SHARD);
      expect(await leaseStore.takeLease(lease!, 'another-worker')).toBeDefined();
      while (lostAtMs === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      const subscription = fake.subscriptions[0]!;
      expect(subscription.abortedAtMs).toBeDefined();
      expect(subscription.abortedAtMs!).toBeLessThanOrEqual(lostAtMs + 50);
      expect(fake.subscriptions).toHaveLength(1);
      expect(handled).toEqual(['1']);
    } finally {
      await consumer.stop();
    }
  });
});
