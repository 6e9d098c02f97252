import { until as waitUntil } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerEvent,
  DependencyError,
  type KinesisRecord,
  LeaseLostError,
  type RecordBatch,
  RetriesExhaustedError,
  type ShardSession,
} from '../../src/index.js';
import { createTestConsumer, InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';
import { collectEvents } from '../helpers/sessions.js';

const text = (r: KinesisRecord) => new TextDecoder().decode(r.data);
const until = (condition: () => boolean, timeoutMs = 10_000, what?: string) =>
  waitUntil(condition, timeoutMs, what, 5);

/** A consumer of a one-shard stream holding `r0`, on its own in-memory table; its events recorded. */
function oneRecordConsumer() {
  const stream = new InMemoryStream({ shardCount: 1 });
  stream.putRecord('k', 'r0');
  const store = new InMemoryLeaseStore();
  const consumer = createTestConsumer({ stream, leaseStore: store, failoverTimeMs: 3_000 });
  return { store, consumer, events: collectEvents(consumer) };
}

/** An in-memory table whose checkpoint writes fail (retriable, like a throttled table) while `failing`. */
function flakyTable() {
  const state = { isFailing: false, checkpointAttemptsAtMs: [] as number[], renewals: 0 };
  const store = new InMemoryLeaseStore({
    beforeOperation: ({ operation }) => {
      if (operation === 'renew') state.renewals += 1;
      if (operation !== 'checkpoint' && operation !== 'prepare') return;
      state.checkpointAttemptsAtMs.push(performance.now());
      if (state.isFailing) {
        throw new DependencyError('dynamodb', 'UpdateItem', new Error('injected: table failing'), true);
      }
    },
  });
  return { store, state };
}

describe('checkpoints against a failing table', () => {
  it('run(): a failing table sees at most 10 write attempts per second per shard, renewals go on, and nothing is reported written that is not', async () => {
    const stream = new InMemoryStream({ shardCount: 1, maxRecordsPerFetch: 1 });
    const { store, state } = flakyTable();
    const consumer = createTestConsumer({
      stream,
      leaseStore: store,
      failoverTimeMs: 2_000, // a checkpoint write gives up after 2 s
      checkpointIntervalMs: 0,
    });
    const events: ConsumerEvent[] = [];
    consumer.events$.subscribe((e) => events.push(e));
    const handled: string[] = [];
    await consumer.run({ processBatch: async (batch) => void handled.push(...batch.records.map(text)) });
    stream.putRecord('k', 'r0');
    await until(() => events.some((e) => e.type === 'CHECKPOINT_WRITTEN'));
    const renewalsBefore = state.renewals;
    state.isFailing = true;
    const failingFromMs = performance.now();
    for (let i = 1; i <= 30; i++) stream.putRecord('k', `r${i}`);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const attempts = state.checkpointAttemptsAtMs.filter((t) => t >= failingFromMs).length;
    const seconds = (performance.now() - failingFromMs) / 1_000;
    console.info(
      `failing table: ${attempts} checkpoint write attempts in ${seconds.toFixed(1)} s for one shard (${(attempts / seconds).toFixed(1)}/s); renewals meanwhile: ${state.renewals - renewalsBefore}`,
    );
    expect(attempts / seconds).toBeLessThanOrEqual(10);
    expect(attempts).toBeGreaterThan(0);
    // The lease's mutex is free between attempts: renewals went on and the lease was never lost.
    expect(state.renewals - renewalsBefore).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === 'LEASE_LOST')).toEqual([]);
    // What failed is reported as not written, never as CHECKPOINT_WRITTEN.
    const failed = events.filter((e) => e.type === 'CHECKPOINT_FAILED');
    expect(failed.length).toBeGreaterThan(0);
    for (const e of failed) expect(e.error).toBeInstanceOf(RetriesExhaustedError);
    const written = events.filter((e) => e.type === 'CHECKPOINT_WRITTEN');
    expect(written.map((e) => e.checkpoint.sequenceNumber)).toEqual([
      store.snapshot()[0]!.checkpoint.sequenceNumber,
    ]);
    // Once the table answers, the recorded position is written.
    state.isFailing = false;
    await until(() => handled.length === 31);
    const last = stream.recordsOf(stream.openShardIds[0]!).at(-1)!;
    await until(() => store.snapshot()[0]!.checkpoint.sequenceNumber === last.sequenceNumber);
    await consumer.stop();
  }, 30_000);

  it('interval 0: checkpoint() resolves only once the position is in the table', async () => {
    const stream = new InMemoryStream({ shardCount: 1 });
    stream.putRecord('k', 'r0');
    const { store, state } = flakyTable();
    const consumer = createTestConsumer({ stream, leaseStore: store, checkpointIntervalMs: 0 });
    const batches: RecordBatch[] = [];
    consumer.shards$.subscribe((s: ShardSession) => s.records$.subscribe((b) => batches.push(b)));
    await consumer.start();
    await until(() => batches.length === 1);
    state.isFailing = true;
    let isResolved = false;
    const pending = batches[0]!.checkpoint().then(() => {
      isResolved = true;
    });
    await until(() => state.checkpointAttemptsAtMs.length >= 2);
    expect(isResolved).toBe(false);
    expect(store.snapshot()[0]!.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
    state.isFailing = false;
    await pending;
    expect(store.snapshot()[0]!.checkpoint.sequenceNumber).toBe(batches[0]!.records[0]!.sequenceNumber);
    await consumer.stop();
  });

  it('after the lease was lost, checkpoint() rejects with LeaseLostError and run() ends the session without counting a failure', async () => {
    const { store, consumer, events } = oneRecordConsumer();
    let calls = 0;
    await consumer.run({
      maxAttempts: 1,
      processBatch: async () => {
        calls += 1;
        // Another worker takes the lease while the batch is being processed.
        await store.takeLease(store.snapshot()[0]!, 'thief');
      },
    });
    await until(() => events.some((e) => e.type === 'LEASE_LOST'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toBe(1);
    expect(events.filter((e) => e.type === 'SHARD_FAILED')).toEqual([]);
    expect(store.snapshot()[0]).toMatchObject({
      leaseOwner: 'thief',
      checkpoint: { sequenceNumber: 'TRIM_HORIZON' },
    });
    await consumer.stop();
  });

  it('a processor whose own checkpoint finds the lease gone ends the session (not a poison batch)', async () => {
    const { store, consumer, events } = oneRecordConsumer();
    const rejections: unknown[] = [];
    await consumer.run({
      maxAttempts: 3,
      retryInitialDelayMs: 1,
      processBatch: async (batch) => {
        await store.takeLease(store.snapshot()[0]!, 'thief');
        await batch.checkpoint().catch((error: unknown) => {
          rejections.push(error);
          throw error;
        });
      },
    });
    await until(() => rejections.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toBeInstanceOf(LeaseLostError);
    expect(events.filter((e) => e.type === 'SHARD_FAILED' || e.type === 'RETRY')).toEqual([]);
    await consumer.stop();
  });
});
