import { until as waitUntil } from '@shardline/test-kit';
import { concatMap, mergeMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ConsumerEvent, KinesisRecord, RecordBatch, ShardSession } from '../../src/index.js';
import { isLeaseHalted, LeaseLostError, shardFailureOf } from '../../src/index.js';
import { createTestConsumer, InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';
import { collectSessions } from '../helpers/sessions.js';

const text = (r: KinesisRecord) => new TextDecoder().decode(r.data);

// In memory, so checked every 5 ms and given 5,000 ms at most unless a call says otherwise.
const until = (condition: () => boolean, timeoutMs = 5_000, what?: string) =>
  waitUntil(condition, timeoutMs, what, 5);

function putMany(stream: InMemoryStream, count: number, from = 0, keys = 10): string[] {
  const written: string[] = [];
  for (let i = from; i < from + count; i++) {
    const body = `k${i % keys}:${i}`;
    stream.putRecord(`k${i % keys}`, body);
    written.push(body);
  }
  return written;
}

/** An in-memory stream (`options`) holding `count` records written by {@link putMany}, and an empty lease table. */
function seeded(count: number, options: ConstructorParameters<typeof InMemoryStream>[0]) {
  const stream = new InMemoryStream(options);
  const written = putMany(stream, count);
  return { stream, written, store: new InMemoryLeaseStore() };
}

describe('consumer over the in-memory stream', () => {
  it('run() delivers every record of every shard and checkpoints each shard at its last record', async () => {
    const { stream, written, store } = seeded(200, { shardCount: 3, maxRecordsPerFetch: 7 });
    const seen: string[] = [];
    const consumer = createTestConsumer({ stream, leaseStore: store });
    await consumer.run({ processBatch: async (batch) => void seen.push(...batch.records.map(text)) });
    await until(() => seen.length >= 200, 5_000, 'all records');
    await consumer.stop();
    expect([...seen].sort()).toEqual([...written].sort());
    for (const lease of store.snapshot()) {
      const records = stream.recordsOf(lease.leaseKey);
      expect(lease.checkpoint.sequenceNumber).toBe(records.at(-1)?.sequenceNumber ?? 'TRIM_HORIZON');
      expect(lease.leaseOwner).toBeUndefined(); // released at stop
    }
  });

  it('a second worker started after stop takes the released leases at once and continues after the checkpoint', async () => {
    const { stream, store } = seeded(50, { shardCount: 2 });
    const first: string[] = [];
    const a = createTestConsumer({ stream, leaseStore: store, failoverTimeMs: 60_000 });
    await a.run({ processBatch: async (batch) => void first.push(...batch.records.map(text)) });
    await until(() => first.length === 50);
    await a.stop();
    putMany(stream, 30, 50);
    const second: string[] = [];
    const b = createTestConsumer({ stream, leaseStore: store, failoverTimeMs: 60_000 });
    const started = performance.now();
    await b.run({ processBatch: async (batch) => void second.push(...batch.records.map(text)) });
    await until(() => second.length >= 30);
    // Far less than the failover time: the leases were released, not left to expire.
    expect(performance.now() - started).toBeLessThan(5_000);
    await b.stop();
    expect(second).toHaveLength(30);
    expect(new Set([...first, ...second]).size).toBe(80);
  });

  it.each(['worker', 'leader'] as const)(
    'reads children only after every parent reached SHARD_END, keeping per-key order across split and merge (leaseAssignment %s)',
    async (leaseAssignment) => {
      const stream = new InMemoryStream({ shardCount: 2, maxRecordsPerFetch: 5 });
      const [s0, s1] = stream.openShardIds as [string, string];
      const store = new InMemoryLeaseStore();
      const consumer = createTestConsumer({ stream, leaseStore: store, leaseAssignment });
      const events: ConsumerEvent[] = [];
      consumer.events$.subscribe((e) => events.push(e));
      const order: string[] = [];
      const seen: string[] = [];
      await consumer.run({
        processBatch: async (batch) => {
          order.push(batch.shardId);
          seen.push(...batch.records.map(text));
        },
      });
      const written = putMany(stream, 60, 0);
      const [c0, c1] = stream.split(s0);
      written.push(...putMany(stream, 60, 60));
      const merged = stream.merge(c1, s1);
      written.push(...putMany(stream, 60, 120));
      await until(() => seen.length >= written.length, 10_000, 'all records across reshards');
      await consumer.stop();
      expect([...seen].sort()).toEqual([...written].sort());
      // Order per partition key is kept across parents and children.
      const byKey = new Map<string, number[]>();
      for (const body of seen) {
        const [key, n] = body.split(':') as [string, string];
        byKey.set(key, [...(byKey.get(key) ?? []), Number(n)]);
      }
      for (const numbers of byKey.values()) expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
      // No child started before all its parents ended.
      const indexOf = (type: string, shardId: string) =>
        events.findIndex((e) => e.type === type && 'shardId' in e && e.shardId === shardId);
      expect(indexOf('SHARD_ENDED', s0)).toBeLessThan(indexOf('SHARD_STARTED', c0));
      expect(indexOf('SHARD_ENDED', s0)).toBeLessThan(indexOf('SHARD_STARTED', c1));
      expect(indexOf('SHARD_ENDED', c1)).toBeLessThan(indexOf('SHARD_STARTED', merged));
      expect(indexOf('SHARD_ENDED', s1)).toBeLessThan(indexOf('SHARD_STARTED', merged));
      const mergedLease = store.snapshot().find((l) => l.leaseKey === merged);
      expect(mergedLease?.parentShardIds).toEqual([c1, s1].sort());
      expect(store.snapshot().find((l) => l.leaseKey === s0)?.childShardIds).toEqual([c0, c1].sort());
    },
  );

  it('hands a poison batch to the dead-letter handler and checkpoints past it', async () => {
    const { stream, store } = seeded(3, { shardCount: 1, maxRecordsPerFetch: 1 });
    const consumer = createTestConsumer({ stream, leaseStore: store });
    const attempts = new Map<string, number>();
    const deadLetters: string[] = [];
    const done: string[] = [];
    await consumer.run({
      maxAttempts: 3,
      retryInitialDelayMs: 1,
      retryMaxDelayMs: 2,
      processBatch: async (batch) => {
        const body = text(batch.records[0]!);
        attempts.set(body, (attempts.get(body) ?? 0) + 1);
        if (body === 'k1:1') throw new Error('cannot handle');
        done.push(body);
      },
      onPoisonBatch: async (batch, error) => {
        expect(error.attempts).toBe(3);
        deadLetters.push(...batch.records.map(text));
      },
    });
    await until(() => done.length === 2);
    await consumer.stop();
    expect(attempts.get('k1:1')).toBe(3);
    expect(deadLetters).toEqual(['k1:1']);
    expect(done).toEqual(['k0:0', 'k2:2']);
    expect(store.snapshot()[0]?.checkpoint.sequenceNumber).toBe(
      stream.recordsOf('shardId-000000000000')[2]?.sequenceNumber,
    );
  });

  it('without a dead-letter handler, fails the session of only the poisoned shard, then halts it after maxShardFailures', async () => {
    const stream = new InMemoryStream({ shardCount: 2, maxRecordsPerFetch: 100 });
    const [s0, s1] = stream.openShardIds as [string, string];
    stream.putRecordToShard(s0, 'a', 'poison');
    stream.putRecordToShard(s1, 'b', 'fine-1');
    const store = new InMemoryLeaseStore();
    const consumer = createTestConsumer({
      stream,
      leaseStore: store,
      maxShardFailures: 3,
      shardFailureBackoffMs: 0,
      leaseTakeIntervalMs: 100,
    });
    const events: ConsumerEvent[] = [];
    consumer.events$.subscribe((e) => events.push(e));
    const done: string[] = [];
    let poisonTries = 0;
    await consumer.run({
      maxAttempts: 2,
      retryInitialDelayMs: 1,
      retryMaxDelayMs: 2,
      processBatch: async (batch) => {
        if (batch.records.some((r) => text(r) === 'poison')) {
          poisonTries += 1;
          throw new Error('bad record');
        }
        done.push(...batch.records.map(text));
      },
    });
    await until(() => events.some((e) => e.type === 'SHARD_HALTED'));
    stream.putRecordToShard(s1, 'b', 'fine-2');
    await until(() => done.length === 2);
    // Each failed session released the lease with the failure counted in the lease item; the third
    // halted the shard: unowned, marked halted, checkpoint unchanged, and never taken again.
    const failures = events.filter((e) => e.type === 'SHARD_FAILED');
    expect(failures.map((e) => e.failureCount)).toEqual([1, 2, 3]);
    expect(failures.map((e) => e.halted)).toEqual([false, false, true]);
    const halted = store.snapshot().find((l) => l.leaseKey === s0)!;
    expect(halted.leaseOwner).toBeUndefined();
    expect(isLeaseHalted(halted)).toBe(true);
    expect(shardFailureOf(halted)).toMatchObject({ failureCount: 3, failedAt: 'TRIM_HORIZON' });
    expect(halted.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
    await new Promise((resolve) => setTimeout(resolve, 400)); // several take rounds
    expect(store.snapshot().find((l) => l.leaseKey === s0)!.leaseOwner).toBeUndefined();
    expect(poisonTries).toBe(6); // maxAttempts × maxShardFailures
    await consumer.stop();
    expect(done).toEqual(['fine-1', 'fine-2']);
  });

  it('bounds the batches fetched but not handled (backpressure), whatever the backlog', async () => {
    const stream = new InMemoryStream({ shardCount: 1, maxRecordsPerFetch: 10 });
    putMany(stream, 1_000);
    const consumer = createTestConsumer({ stream, maxBufferedBatches: 3, shutdownTimeoutMs: 200 });
    const received: RecordBatch[] = [];
    consumer.shards$
      .pipe(mergeMap((shard: ShardSession) => shard.records$))
      .subscribe((batch) => received.push(batch));
    await consumer.start();
    await until(() => received.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(3); // nothing handled yet: the reader waits
    await received[0]!.checkpoint();
    await until(() => received.length === 4);
    received[1]!.release();
    await until(() => received.length === 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toHaveLength(5);
    for (const batch of received.slice(1)) batch.release();
    await consumer.stop();
  });

  it('ends a session with LEASE_LOST when another worker takes the lease, and fences its checkpoints', async () => {
    const { stream, store } = seeded(5, { shardCount: 1 });
    const consumer = createTestConsumer({ stream, leaseStore: store, failoverTimeMs: 3_000 });
    const { sessions, batches } = collectSessions(consumer);
    await consumer.start();
    await until(() => batches.length === 1);
    const lease = store.snapshot()[0]!;
    await store.takeLease(lease, 'thief');
    // The next renewal fails its condition: the session completes and nothing more is written.
    expect(await sessions[0]!.completion).toBe('LEASE_LOST');
    await expect(batches[0]!.checkpoint()).rejects.toBeInstanceOf(LeaseLostError);
    expect(store.snapshot()[0]).toMatchObject({
      leaseOwner: 'thief',
      checkpoint: { sequenceNumber: 'TRIM_HORIZON' },
    });
    await consumer.stop();
  });

  it('with RxJS: completion is SHARD_END once the application checkpointed the last record', async () => {
    const stream = new InMemoryStream({ shardCount: 1 });
    const [s0] = stream.openShardIds as [string];
    putMany(stream, 4);
    stream.split(s0);
    const consumer = createTestConsumer({ stream });
    const completions: Record<string, string> = {};
    consumer.shards$.subscribe((session) => {
      void session.completion.then((reason) => {
        completions[session.shardId] = reason;
      });
      session.records$.subscribe((batch) => void batch.checkpoint());
    });
    await consumer.start();
    await until(() => completions[s0] !== undefined);
    expect(completions[s0]).toBe('SHARD_END');
    await consumer.stop();
    expect(Object.values(completions).filter((r) => r === 'SHUTDOWN')).toHaveLength(2);
  });
});

describe('consumer robustness', () => {
  it('restarts a reader that failed, right after the last record it handed over', async () => {
    const stream = new InMemoryStream({ shardCount: 1, maxRecordsPerFetch: 2 });
    putMany(stream, 10);
    let failures = 0;
    // A reader that throws once after its second batch (a named fault point).
    const flaky = {
      listShards: () => stream.listShards(),
      read: async function* (request: Parameters<typeof stream.read>[0]) {
        let batches = 0;
        for await (const result of stream.read(request)) {
          yield result;
          if (++batches === 2 && failures === 0) {
            failures += 1;
            throw new Error('reader fault (injected)');
          }
        }
      },
    };
    const consumer = createTestConsumer({ stream: flaky });
    const seen: string[] = [];
    await consumer.run({ processBatch: async (batch) => void seen.push(...batch.records.map(text)) });
    await until(() => seen.length >= 10);
    await consumer.stop();
    expect(failures).toBe(1);
    expect(seen).toEqual(stream.recordsOf('shardId-000000000000').map(text));
  });

  it('unsubscribing from records$ releases the shard, which is taken again and read from the checkpoint', async () => {
    const { stream, store } = seeded(9, { shardCount: 1, maxRecordsPerFetch: 3 });
    const consumer = createTestConsumer({ stream, leaseStore: store });
    const sessions: ShardSession[] = [];
    const firstBodies: string[] = [];
    consumer.shards$.subscribe((session) => {
      sessions.push(session);
      if (sessions.length === 1) {
        const subscription = session.records$.subscribe((batch) => {
          firstBodies.push(...batch.records.map(text));
          void batch.checkpoint();
          subscription.unsubscribe();
        });
      } else {
        session.records$.subscribe((batch) => void batch.checkpoint());
      }
    });
    await consumer.start();
    expect(await until(() => sessions.length === 1).then(() => sessions[0]!.completion)).toBe('SHUTDOWN');
    await until(() => sessions.length === 2, 3_000, 'the shard taken again');
    await until(
      () =>
        store.snapshot()[0]?.checkpoint.sequenceNumber ===
        stream.recordsOf('shardId-000000000000')[8]?.sequenceNumber,
    );
    await consumer.stop();
    expect(firstBodies).toHaveLength(3);
  });

  it('a session is consumed once: records$ after run() took it fails clearly', async () => {
    const stream = new InMemoryStream({ shardCount: 1 });
    const consumer = createTestConsumer({ stream });
    const errors: unknown[] = [];
    await consumer.run({ processBatch: async () => {} });
    consumer.shards$.subscribe((session) => session.records$.subscribe({ error: (e) => errors.push(e) }));
    await until(() => errors.length === 1);
    expect(String(errors[0])).toMatch(/can be consumed only once/);
    await consumer.stop();
  });
});

describe('zombie protection', () => {
  it('a worker whose renewals hang stops delivering the shard within the failover time', async () => {
    const stream = new InMemoryStream({ shardCount: 1, maxRecordsPerFetch: 1 });
    putMany(stream, 5);
    let isHanging = false;
    const store = new InMemoryLeaseStore({
      beforeOperation: ({ operation }) =>
        isHanging && operation === 'renew' ? new Promise<void>(() => {}) : undefined, // a request that never returns
    });
    const consumer = createTestConsumer({
      stream,
      leaseStore: store,
      failoverTimeMs: 1_000,
      shutdownTimeoutMs: 100,
    });
    const sessions: ShardSession[] = [];
    const deliveredAt: number[] = [];
    const batches: RecordBatch[] = [];
    consumer.shards$.subscribe((session) => {
      sessions.push(session);
      // Only the first session matters: once its lease is lost locally, the worker may take the lease
      // again (the take does not hang) and a new session starts from the checkpoint.
      if (sessions.length > 1) return;
      session.records$.subscribe((batch) => {
        deliveredAt.push(performance.now());
        batches.push(batch);
      });
    });
    await consumer.start();
    await until(() => batches.length >= 1);
    isHanging = true;
    const hungAt = performance.now();
    await until(() => sessions.length >= 1);
    expect(await sessions[0]!.completion).toBe('LEASE_LOST');
    const lostAfterMs = performance.now() - hungAt;
    expect(lostAfterMs).toBeLessThan(1_000); // before another worker could take it
    // Nothing handed out after the loss, even though batches are waiting.
    const countAtLoss = batches.length;
    batches[0]!.release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(batches).toHaveLength(countAtLoss);
    await consumer.stop();
  });
});

describe('operator visibility', () => {
  it('logs and emits a trimmed-checkpoint gap reported by the reader', async () => {
    const stream = new InMemoryStream({ shardCount: 1 });
    putMany(stream, 2);
    const reader = {
      listShards: () => stream.listShards(),
      read: async function* (request: Parameters<typeof stream.read>[0]) {
        request.onEvent({
          type: 'RECORDS_TRIMMED',
          shardId: request.shardId,
          checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 },
          resumedAt: 'TRIM_HORIZON',
        });
        yield* stream.read({ ...request, start: { kind: 'TRIM_HORIZON' } });
      },
    };
    const warnings: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (message: string) => void warnings.push(message),
    };
    const consumer = createTestConsumer({ stream: reader, logger });
    const events: ConsumerEvent[] = [];
    consumer.events$.subscribe((e) => events.push(e));
    let seen = 0;
    await consumer.run({
      processBatch: async (batch) => {
        seen += batch.records.length;
      },
    });
    await until(() => seen === 2);
    await consumer.stop();
    expect(events.filter((e) => e.type === 'RECORDS_TRIMMED')).toHaveLength(1);
    expect(warnings.some((w) => w.includes('trimmed'))).toBe(true);
  });
});

describe('graceful stop', () => {
  it('lets the batch in flight finish, checkpoints it, releases; the next worker continues exactly after it', async () => {
    const { stream, store } = seeded(20, { shardCount: 1, maxRecordsPerFetch: 5 });
    const processed: string[] = [];
    let inFlight = false;
    const a = createTestConsumer({ stream, leaseStore: store, checkpointIntervalMs: 60_000 });
    await a.run({
      processBatch: async (batch) => {
        inFlight = true;
        await new Promise((resolve) => setTimeout(resolve, 150));
        processed.push(...batch.records.map(text));
        inFlight = false;
      },
    });
    await until(() => inFlight && processed.length >= 5);
    await a.stop(); // called while a batch is being processed
    expect(inFlight).toBe(false);
    const lease = store.snapshot()[0]!;
    expect(lease.leaseOwner).toBeUndefined();
    const records = stream.recordsOf('shardId-000000000000');
    expect(lease.checkpoint.sequenceNumber).toBe(records[processed.length - 1]!.sequenceNumber);
    const second: string[] = [];
    const b = createTestConsumer({ stream, leaseStore: store });
    await b.run({ processBatch: async (batch) => void second.push(...batch.records.map(text)) });
    await until(() => processed.length + second.length >= 20);
    await b.stop();
    expect([...processed, ...second]).toEqual(records.map(text)); // no gap, no duplicate
  });

  it('bounds the wait for a batch that never finishes, and keeps the checkpoint at the last handled record', async () => {
    const { stream, store } = seeded(6, { shardCount: 1, maxRecordsPerFetch: 2 });
    let calls = 0;
    const consumer = createTestConsumer({ stream, leaseStore: store, shutdownTimeoutMs: 200 });
    await consumer.run({
      processBatch: async () => {
        calls += 1;
        if (calls === 2) await new Promise(() => {}); // hangs forever
      },
    });
    await until(() => calls === 2);
    const stopping = performance.now();
    await consumer.stop();
    expect(performance.now() - stopping).toBeLessThan(2_000);
    const lease = store.snapshot()[0]!;
    expect(lease.leaseOwner).toBeUndefined();
    expect(lease.checkpoint.sequenceNumber).toBe(stream.recordsOf('shardId-000000000000')[1]!.sequenceNumber);
  });
});

describe('two-phase checkpoint', () => {
  it('a prepared checkpoint and its state reach the next owner; the next checkpoint clears them', async () => {
    const { stream, store } = seeded(6, { shardCount: 1, maxRecordsPerFetch: 3 });
    const first = createTestConsumer({ stream, leaseStore: store, shutdownTimeoutMs: 100 });
    let prepared = false;
    await first.run({
      processBatch: async (batch) => {
        await batch.prepareCheckpoint(undefined, new TextEncoder().encode('object-key-1'));
        prepared = true;
        return new Promise(() => {}); // the side effect never completes: no checkpoint
      },
    });
    await until(() => prepared);
    const lease = store.snapshot()[0]!;
    expect(lease.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
    expect(lease.pendingCheckpoint?.sequenceNumber).toBe(
      stream.recordsOf('shardId-000000000000')[2]!.sequenceNumber,
    );
    await first.stop();

    const infos: { pending?: string; state?: string; starting: string }[] = [];
    const next = createTestConsumer({ stream, leaseStore: store });
    await next.run({
      processBatch: async (_batch, shard) => {
        infos.push({
          pending: shard.pendingCheckpoint?.sequenceNumber,
          state: shard.pendingCheckpointState && new TextDecoder().decode(shard.pendingCheckpointState),
          starting: shard.startingCheckpoint.sequenceNumber,
        });
      },
    });
    await until(() => infos.length >= 2, 3_000, 'the next owner');
    await next.stop();
    expect(infos[0]).toEqual({
      pending: stream.recordsOf('shardId-000000000000')[2]!.sequenceNumber,
      state: 'object-key-1',
      starting: 'TRIM_HORIZON',
    });
    const after = store.snapshot()[0]!;
    expect(after.pendingCheckpoint).toBeUndefined();
    expect(after.pendingCheckpointState).toBeUndefined();
    expect(after.checkpoint.sequenceNumber).toBe(stream.recordsOf('shardId-000000000000')[5]!.sequenceNumber);
  });
});

describe('buffering sink pattern (RxJS)', () => {
  it('a sink that checkpoints only after its buffered writes are durable loses nothing and duplicates nothing across a graceful stop', async () => {
    const { stream, store } = seeded(80, { shardCount: 2, maxRecordsPerFetch: 4 });
    const durable: string[] = [];

    const runSink = (consumer: ReturnType<typeof createTestConsumer>) =>
      consumer.shards$.subscribe((session) => {
        let buffer: RecordBatch[] = [];
        const flush = async () => {
          const batches = buffer;
          buffer = [];
          if (batches.length === 0) return;
          durable.push(...batches.flatMap((b) => b.records.map(text))); // the "object" is durable now
          await batches.at(-1)!.checkpoint(); // then checkpoint its last record
        };
        session.records$
          .pipe(
            concatMap(async (batch) => {
              buffer.push(batch);
              if (buffer.length >= 3) await flush();
            }),
          )
          .subscribe({ complete: () => void flush() }); // the session ends (stop, shard end): flush
      });

    const a = createTestConsumer({
      stream,
      leaseStore: store,
      maxBufferedBatches: 8,
      checkpointIntervalMs: 60_000,
    });
    runSink(a);
    await a.start();
    await until(() => durable.length >= 30);
    await a.stop();
    const afterFirst = durable.length;
    expect(store.snapshot().every((l) => l.leaseOwner === undefined)).toBe(true);

    const b = createTestConsumer({ stream, leaseStore: store, maxBufferedBatches: 8 });
    runSink(b);
    await b.start();
    await until(() => durable.length >= 80, 5_000, 'the second worker');
    await b.stop();
    expect(afterFirst).toBeGreaterThanOrEqual(30);
    expect(durable).toHaveLength(80); // no duplicate
    expect(new Set(durable).size).toBe(80); // no gap
  });
});

describe('lifecycle', () => {
  it('aborting the signal stops the consumer like stop(): leases released, state stopped, start refused', async () => {
    const { stream, store } = seeded(10, { shardCount: 2 });
    const controller = new AbortController();
    const consumer = createTestConsumer({ stream, leaseStore: store, signal: controller.signal });
    const states: string[] = [];
    consumer.events$.subscribe((e) => e.type === 'STATE_CHANGED' && states.push(e.state));
    let seen = 0;
    await consumer.run({
      processBatch: async (batch) => {
        seen += batch.records.length;
      },
    });
    await until(() => seen === 10);
    controller.abort();
    await until(() => consumer.state === 'stopped');
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(store.snapshot().every((l) => l.leaseOwner === undefined)).toBe(true);
    await expect(consumer.start()).rejects.toThrow(/stopped|aborted/);
  });
});
