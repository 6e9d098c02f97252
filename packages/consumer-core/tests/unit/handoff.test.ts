import { until as waitUntil } from '@shardline/test-kit';
import { concatMap, mergeMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ConsumerEvent, KinesisRecord, ShardCompletionReason } from '../../src/index.js';
import { createTestConsumer, InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';

const text = (r: KinesisRecord) => new TextDecoder().decode(r.data);

// In memory, so checked every 5 ms and given 10,000 ms at most unless a call says otherwise.
const until = (condition: () => boolean, timeoutMs = 10_000, what?: string) =>
  waitUntil(condition, timeoutMs, what, 5);

function putMany(stream: InMemoryStream, count: number, from = 0): string[] {
  const written: string[] = [];
  for (let i = from; i < from + count; i++) {
    stream.putRecord(`k${i % 40}`, `r${i}`);
    written.push(`r${i}`);
  }
  return written;
}

// Long failover: every move below is a cooperative hand-off, never an expiry.
const settings = { failoverTimeMs: 4_000, leaseTakeIntervalMs: 100, maxRecordsPerFetch: 5 } as const;

describe('cooperative hand-off between workers', () => {
  it('with run(): a joining worker gets its fair share and no record is processed by two workers', async () => {
    const stream = new InMemoryStream({ shardCount: 6, maxRecordsPerFetch: 5 });
    const written = putMany(stream, 300);
    const store = new InMemoryLeaseStore();
    const seenBy = new Map<string, string[]>();
    const processor = (name: string) => async (batch: { records: readonly KinesisRecord[] }) => {
      for (const record of batch.records)
        seenBy.set(text(record), [...(seenBy.get(text(record)) ?? []), name]);
      await new Promise((resolve) => setTimeout(resolve, 2));
    };
    const a = createTestConsumer({ stream, leaseStore: store, workerId: 'a', ...settings });
    const aEvents: ConsumerEvent[] = [];
    a.events$.subscribe((e) => aEvents.push(e));
    await a.run({ processBatch: processor('a') });
    await until(() => seenBy.size >= 60, 10_000, 'a started');
    const b = createTestConsumer({ stream, leaseStore: store, workerId: 'b', ...settings });
    const bEvents: ConsumerEvent[] = [];
    b.events$.subscribe((e) => bEvents.push(e));
    await b.run({ processBatch: processor('b') });
    const producing = (async () => {
      for (let i = 0; i < 10; i++) {
        written.push(...putMany(stream, 30, 300 + i * 30));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const owners = () => store.snapshot().map((l) => l.leaseOwner);
    await until(() => owners().filter((o) => o === 'b').length === 3, 10_000, 'b holds 3 of 6');
    await producing;
    await until(() => written.every((w) => seenBy.has(w)), 10_000, 'every record');
    await Promise.all([a.stop(), b.stop()]);
    const twice = [...seenBy].filter(([, workers]) => workers.length > 1);
    expect(twice).toEqual([]);
    expect(aEvents.filter((e) => e.type === 'LEASE_HANDED_OFF')).toHaveLength(3);
    expect(aEvents.some((e) => e.type === 'LEASE_LOST')).toBe(false);
    expect(bEvents.filter((e) => e.type === 'LEASE_HANDOFF_REQUESTED')).toHaveLength(3);
  });

  it('with RxJS: records$ completes HANDED_OFF after the application checkpointed what it was given', async () => {
    const stream = new InMemoryStream({ shardCount: 2, maxRecordsPerFetch: 5 });
    const written = putMany(stream, 100);
    const store = new InMemoryLeaseStore();
    const seen: string[] = [];
    const completions: ShardCompletionReason[] = [];
    const a = createTestConsumer({ stream, leaseStore: store, workerId: 'a', ...settings });
    a.shards$
      .pipe(
        mergeMap((session) => {
          void session.completion.then((reason) => completions.push(reason));
          return session.records$.pipe(
            concatMap(async (batch) => {
              seen.push(...batch.records.map(text));
              await new Promise((resolve) => setTimeout(resolve, 5));
              await batch.checkpoint();
            }),
          );
        }),
      )
      .subscribe();
    await a.start();
    await until(() => seen.length >= 20);
    const b = createTestConsumer({ stream, leaseStore: store, workerId: 'b', ...settings });
    await b.run({ processBatch: async (batch) => void seen.push(...batch.records.map(text)) });
    await until(() => completions.includes('HANDED_OFF'), 10_000, 'a hand-off');
    await until(() => written.every((w) => seen.includes(w)), 10_000, 'every record');
    await Promise.all([a.stop(), b.stop()]);
    expect(seen).toHaveLength(written.length); // nothing twice
  });

  it('a stopping worker’s take hint makes a peer take the released leases at its next renewal, not its next scan', async () => {
    const stream = new InMemoryStream({ shardCount: 4 });
    const written = putMany(stream, 40);
    const store = new InMemoryLeaseStore();
    const seen: string[] = [];
    // Scans every 60 s: without the hint the released leases would wait up to a minute.
    const slow = { failoverTimeMs: 3_000, leaseTakeIntervalMs: 60_000 } as const;
    const a = createTestConsumer({ stream, leaseStore: store, workerId: 'a', ...slow });
    await a.run({ processBatch: async (batch) => void seen.push(...batch.records.map(text)) });
    await until(() => store.snapshot().every((l) => l.leaseOwner === 'a'));
    const b = createTestConsumer({ stream, leaseStore: store, workerId: 'b', ...slow });
    await b.run({ processBatch: async (batch) => void seen.push(...batch.records.map(text)) });
    await until(() => store.snapshot().filter((l) => l.leaseOwner === 'b').length === 2, 10_000, '2/2');
    await until(() => written.every((w) => seen.includes(w)));
    const stoppedAt = performance.now();
    await a.stop();
    await until(() => store.snapshot().every((l) => l.leaseOwner === 'b'), 5_000, 'b to take all 4');
    // One renew interval (975 ms) plus a scan, far below the 60 s scan interval.
    expect(performance.now() - stoppedAt).toBeLessThan(2_500);
    written.push(...putMany(stream, 40, 40));
    await until(() => written.every((w) => seen.includes(w)));
    expect(seen).toHaveLength(written.length);
    await b.stop();
  });

  it('a restart with the same worker id takes its old leases back well before they would expire', async () => {
    const stream = new InMemoryStream({ shardCount: 2 });
    const store = new InMemoryLeaseStore();
    for (const { shardId } of await stream.listShards()) {
      await store.createLeaseIfNotExists({
        leaseKey: shardId,
        checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
        parentShardIds: [],
        hashKeyRange: undefined,
      });
      await store.takeLease((await store.getLease(shardId))!, 'stable'); // left by a crashed life
    }
    const consumer = createTestConsumer({
      stream,
      leaseStore: store,
      workerId: 'stable',
      failoverTimeMs: 6_000,
    });
    const taken: string[] = [];
    consumer.events$.subscribe((e) => e.type === 'LEASE_TAKEN' && taken.push(e.leaseKey));
    const started = performance.now();
    await consumer.run({ processBatch: async () => {} });
    await until(() => taken.length === 2, 10_000, 'both leases back');
    // Not at once (a live twin could be renewing them), but sooner than one failover time.
    expect(performance.now() - started).toBeLessThan(6_000);
    await consumer.stop();
  }, 15_000);

  it('reports two live processes using one worker id and leaves the other one’s leases alone', async () => {
    const stream = new InMemoryStream({ shardCount: 2 });
    const store = new InMemoryLeaseStore();
    const first = createTestConsumer({ stream, leaseStore: store, workerId: 'same', ...settings });
    await first.run({ processBatch: async () => {} });
    await until(() => store.snapshot().filter((l) => l.leaseOwner === 'same').length === 2);
    const events: ConsumerEvent[] = [];
    const second = createTestConsumer({ stream, leaseStore: store, workerId: 'same', ...settings });
    second.events$.subscribe((e) => events.push(e));
    await second.run({ processBatch: async () => {} });
    await until(() => events.some((e) => e.type === 'DUPLICATE_WORKER_ID'), 10_000, 'the duplicate report');
    // The twin never takes (or asks for) the leases the first process renews.
    expect(events.filter((e) => e.type === 'LEASE_TAKEN' || e.type === 'LEASE_HANDOFF_REQUESTED')).toEqual(
      [],
    );
    await second.stop();
    await first.stop();
  });
});
