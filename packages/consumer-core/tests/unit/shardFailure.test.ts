import { until as waitUntil } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerEvent,
  isLeaseHalted,
  type KinesisRecord,
  LeaseLostError,
  type RecordBatch,
  type ShardSession,
  shardFailureOf,
} from '../../src/index.js';
import { leaseFromNew } from '../../src/leases/Lease.js';
import { nextShardFailure, withShardFailure } from '../../src/leases/shardFailure.js';
import { createTestConsumer, InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';
import { collectSessions } from '../helpers/sessions.js';

const text = (r: KinesisRecord) => new TextDecoder().decode(r.data);
const until = (condition: () => boolean, timeoutMs = 5_000, what?: string) =>
  waitUntil(condition, timeoutMs, what, 5);

describe('nextShardFailure (pure)', () => {
  const lease = leaseFromNew({
    leaseKey: 's',
    checkpoint: { sequenceNumber: '100', subSequenceNumber: 0 },
    parentShardIds: [],
    hashKeyRange: undefined,
  });
  const now = new Date('2026-01-01T00:00:00Z');

  it('counts failures in a row at the same checkpoint and halts at the bound', () => {
    let current = lease;
    const counts: number[] = [];
    let last = nextShardFailure(current, new Error('x'), 3, now);
    for (let i = 0; i < 3; i++) {
      last = nextShardFailure(current, new Error('x'), 3, now);
      counts.push(last.failureCount);
      current = { ...current, unknownAttributes: withShardFailure(current.unknownAttributes, last) };
    }
    expect(counts).toEqual([1, 2, 3]);
    expect(last.haltedAt).toBe(now.toISOString());
    expect(isLeaseHalted(current)).toBe(true);
  });

  it('starts again at 1 when the checkpoint moved since the previous failures', () => {
    const failed = nextShardFailure(lease, new Error('x'), 5, now);
    const moved = {
      ...lease,
      checkpoint: { sequenceNumber: '200', subSequenceNumber: 0 },
      unknownAttributes: withShardFailure({}, { ...failed, failureCount: 4 }),
    };
    expect(nextShardFailure(moved, new Error('y'), 5, now)).toMatchObject({
      failureCount: 1,
      haltedAt: undefined,
      error: 'Error: y',
    });
  });

  it('keeps the stored error short', () => {
    const failure = nextShardFailure(lease, new Error('e'.repeat(5_000)), 5, now);
    expect(failure.error.length).toBeLessThanOrEqual(1_000);
  });
});

describe('ShardSession.fail', () => {
  it('ends the session without checkpointing, releases the lease with the failure counted; another worker redoes it at once, this one only after its backoff', async () => {
    const stream = new InMemoryStream({ shardCount: 1, maxRecordsPerFetch: 2 });
    for (let i = 0; i < 6; i++) stream.putRecord('k', `r${i}`);
    const store = new InMemoryLeaseStore();
    const settings = { leaseStore: store, leaseTakeIntervalMs: 100, shardFailureBackoffMs: 60_000 };
    const first = createTestConsumer({ stream, ...settings, workerId: 'first' });
    const events: ConsumerEvent[] = [];
    first.events$.subscribe((e) => events.push(e));
    const sessions: ShardSession[] = [];
    const batches: RecordBatch[] = [];
    let isComplete = false;
    first.shards$.subscribe((session) => {
      sessions.push(session);
      session.records$.subscribe({
        next: (batch) => batches.push(batch),
        complete: () => {
          isComplete = true;
        },
      });
    });
    await first.start();
    await until(() => batches.length >= 2);
    await batches[0]!.checkpoint(); // r0, r1 durable
    const error = new Error('destination refused r2');
    sessions[0]!.fail(error);
    sessions[0]!.fail(new Error('a second call does nothing'));
    // A batch handed out before fail() is not checkpointed after it.
    await expect(batches[1]!.checkpoint()).rejects.toBeInstanceOf(LeaseLostError);
    await expect(batches[1]!.prepareCheckpoint()).rejects.toBeInstanceOf(LeaseLostError);
    expect(await sessions[0]!.completion).toBe('FAILED');
    expect(isComplete).toBe(true);
    const failed = events.filter((e) => e.type === 'SHARD_FAILED');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ error, failureCount: 1, halted: false });
    const lease = store.snapshot()[0]!;
    expect(lease.leaseOwner).toBeUndefined();
    expect(lease.checkpoint.sequenceNumber).toBe(batches[0]!.records.at(-1)!.sequenceNumber);
    expect(shardFailureOf(lease)).toMatchObject({
      failureCount: 1,
      failedAt: batches[0]!.records.at(-1)!.sequenceNumber,
      lastFailure: 'Error: destination refused r2',
      haltedAt: undefined,
    });

    // This worker waits out its backoff: several take rounds pass without it taking the shard.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(store.snapshot()[0]!.leaseOwner).toBeUndefined();
    expect(sessions).toHaveLength(1);

    // Another worker takes it at once and redoes it from the last written checkpoint.
    const second = createTestConsumer({ stream, ...settings, workerId: 'second' });
    const redone: string[] = [];
    await second.run({ processBatch: async (batch) => void redone.push(...batch.records.map(text)) });
    await until(() => redone.length === 4);
    expect(redone).toEqual(['r2', 'r3', 'r4', 'r5']);
    // Its checkpoint past the failure position cleared the count.
    await until(() => store.snapshot()[0]!.checkpoint.sequenceNumber !== lease.checkpoint.sequenceNumber);
    expect(shardFailureOf(store.snapshot()[0]!).failureCount).toBe(0);
    await Promise.all([first.stop(), second.stop()]);
  });

  it('a fail() while the consumer stops still releases without writing the requested checkpoint', async () => {
    const stream = new InMemoryStream({ shardCount: 1, maxRecordsPerFetch: 2 });
    for (let i = 0; i < 4; i++) stream.putRecord('k', `r${i}`);
    const store = new InMemoryLeaseStore();
    const consumer = createTestConsumer({ stream, leaseStore: store, checkpointIntervalMs: 60_000 });
    const { sessions, batches } = collectSessions(consumer);
    await consumer.start();
    await until(() => batches.length >= 1);
    await batches[0]!.checkpoint(); // recorded, not yet written (interval)
    sessions[0]!.fail(new Error('boom'));
    await consumer.stop();
    expect(await sessions[0]!.completion).toBe('FAILED');
    const lease = store.snapshot()[0]!;
    expect(lease.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
    expect(lease.leaseOwner).toBeUndefined();
    expect(shardFailureOf(lease).failureCount).toBe(1);
  });
});
