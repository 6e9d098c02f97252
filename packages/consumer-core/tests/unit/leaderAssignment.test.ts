import { until as waitUntil } from '@shardline/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer, KinesisRecord, LeaseStore } from '../../src/index.js';
import { LEADER_ITEM_KEY } from '../../src/leases/leaseAssignment.js';
import { createTestConsumer, InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';

const text = (r: KinesisRecord) => new TextDecoder().decode(r.data);
const until = (condition: () => boolean, timeoutMs = 10_000, what?: string) =>
  waitUntil(condition, timeoutMs, what, 5);

/** One worker's view of a shared table: counts its calls by method, and can be cut off (a crash). */
function workerView(inner: InMemoryLeaseStore) {
  const calls = new Map<string, number>();
  let isCutOff = false;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (isCutOff) return Promise.reject(new Error('This worker can no longer reach the table.'));
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  }) as LeaseStore;
  return {
    store,
    calls,
    cutOff: () => {
      isCutOff = true;
    },
  };
}

interface FleetWorker {
  readonly consumer: Consumer;
  readonly leases: ReturnType<typeof workerView>;
  readonly coordinator: ReturnType<typeof workerView>;
  /** Record bodies this worker handed to the application (the ledger is the stream, not the worker). */
  readonly seen: string[];
  /** Batches waiting at the worker's gate (see `start`). */
  waiting: number;
}

const running: Consumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((consumer) => consumer.stop()));
});

function fleet(shardCount: number, failoverTimeMs: number) {
  const stream = new InMemoryStream({ shardCount });
  const leaseTable = new InMemoryLeaseStore();
  const coordinatorTable = new InMemoryLeaseStore();
  const workers: FleetWorker[] = [];
  const start = async (
    workerId: string,
    extra: { leaseTakeIntervalMs?: number } = {},
    gate?: Promise<void>,
  ): Promise<FleetWorker> => {
    const leases = workerView(leaseTable);
    const coordinator = workerView(coordinatorTable);
    const consumer = createTestConsumer({
      stream,
      workerId,
      leaseStore: leases.store,
      coordinatorStore: coordinator.store,
      leaseAssignment: 'leader',
      failoverTimeMs,
      ...extra,
    });
    running.push(consumer);
    const worker = { consumer, leases, coordinator, seen: [] as string[], waiting: 0 };
    workers.push(worker);
    await consumer.run({
      processBatch: async (batch) => {
        if (gate) {
          worker.waiting += 1;
          await gate;
          worker.waiting -= 1;
        }
        worker.seen.push(...batch.records.map(text));
      },
    });
    return worker;
  };
  const owners = () => {
    const counts = new Map<string, number>();
    for (const lease of leaseTable.snapshot()) {
      if (lease.leaseOwner && lease.checkpointOwner === undefined) {
        counts.set(lease.leaseOwner, (counts.get(lease.leaseOwner) ?? 0) + 1);
      }
    }
    return counts;
  };
  const leader = () =>
    coordinatorTable.snapshot().find((item) => item.leaseKey === LEADER_ITEM_KEY)?.leaseOwner;
  const put = (from: number, count: number) => {
    const written: string[] = [];
    for (let i = from; i < from + count; i++) {
      stream.putRecord(`k${i % 17}`, `r${i}`);
      written.push(`r${i}`);
    }
    return written;
  };
  return { stream, leaseTable, coordinatorTable, workers, start, owners, leader, put };
}

const spreadIs = (counts: Map<string, number>, ids: string[], each: number) =>
  ids.every((id) => counts.get(id) === each) && [...counts.keys()].every((id) => ids.includes(id));

describe("leaseAssignment: 'leader' (in memory)", { timeout: 40_000 }, () => {
  it('one leader lists the table; the others only query their own leases; shards spread evenly; every record delivered', async () => {
    const f = fleet(6, 2_000);
    const written = f.put(0, 300);
    await f.start('a');
    await f.start('b');
    await f.start('c');
    await until(() => spreadIs(f.owners(), ['a', 'b', 'c'], 2), 10_000, 'two shards each');
    await until(() => f.workers.reduce((n, w) => n + w.seen.length, 0) >= 300, 10_000, 'all records');
    const leader = f.leader();
    expect(['a', 'b', 'c']).toContain(leader);
    // Steady state: from now on only the leader lists the lease table.
    for (const w of f.workers) w.leases.calls.clear();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const w of f.workers) {
      const lists = w.leases.calls.get('listLeases') ?? 0;
      if (w.consumer.workerId === leader) expect(lists).toBeGreaterThan(0);
      else {
        expect(lists, `${w.consumer.workerId} listed the table`).toBe(0);
        expect(w.leases.calls.get('listLeaseKeysOwnedBy') ?? 0).toBeGreaterThan(0);
      }
    }
    // Ledger: the stream's records, each delivered; no shard held by two workers (owners are single-valued).
    const seen = f.workers.flatMap((w) => w.seen);
    expect(new Set(seen)).toEqual(new Set(written));
  });

  it('the leader cut off from the tables: another worker is elected and takes its shards over; records written after are delivered', async () => {
    const failoverTimeMs = 1_500;
    const f = fleet(6, failoverTimeMs);
    f.put(0, 60);
    await f.start('a');
    await f.start('b');
    await f.start('c');
    await until(() => spreadIs(f.owners(), ['a', 'b', 'c'], 2), 10_000, 'two shards each');
    const oldLeader = f.leader()!;
    const victim = f.workers.find((w) => w.consumer.workerId === oldLeader)!;
    victim.leases.cutOff();
    victim.coordinator.cutOff();
    const cutAt = performance.now();
    const survivors = ['a', 'b', 'c'].filter((id) => id !== oldLeader);
    await until(() => f.leader() !== undefined && f.leader() !== oldLeader, 20_000, 'a new leader');
    await until(() => spreadIs(f.owners(), survivors, 3), 20_000, 'three shards each on the survivors');
    const tookMs = performance.now() - cutAt;
    console.log(
      `leader ${oldLeader} cut off; new leader ${f.leader()}; shards moved after ${Math.round(tookMs)} ms`,
    );
    // Expiry of the leader item and of the leases (failover time), an election round, an assignment round.
    expect(tookMs).toBeGreaterThan(failoverTimeMs);
    const written = f.put(1_000, 90);
    const survivorsSeen = () => new Set(f.workers.filter((w) => w !== victim).flatMap((w) => w.seen));
    await until(() => written.every((body) => survivorsSeen().has(body)), 10_000, 'records after the cut');
  });

  it('a leader that stops gracefully releases its shards and the leadership: both move at once, not after the failover time', async () => {
    const failoverTimeMs = 60_000;
    const f = fleet(4, failoverTimeMs);
    f.put(0, 40);
    await f.start('a');
    await f.start('b');
    await until(() => spreadIs(f.owners(), ['a', 'b'], 2), 10_000, 'two shards each');
    const leader = f.leader()!;
    const stopping = f.workers.find((w) => w.consumer.workerId === leader)!;
    const other = leader === 'a' ? 'b' : 'a';
    const stoppedAt = performance.now();
    await stopping.consumer.stop();
    await until(() => f.leader() === other, 10_000, 'the other worker leads');
    await until(() => spreadIs(f.owners(), [other], 4), 10_000, 'every shard on the other worker').catch(
      (e) => {
        console.log(
          f.leaseTable
            .snapshot()
            .map((l) => `${l.leaseKey}:${l.leaseOwner}/${l.checkpointOwner}/${l.leaseCounter}`),
          f.coordinatorTable.snapshot().map((l) => `${l.leaseKey}:${l.leaseOwner}/${l.leaseCounter}`),
        );
        throw e;
      },
    );
    expect(performance.now() - stoppedAt).toBeLessThan(10_000);
  });

  it('a worker joining a running fleet receives its share by hand-off (after the cool-down of one failover time), each shard continuing after the last checkpoint', async () => {
    const f = fleet(4, 3_000);
    const first = f.put(0, 100);
    const a = await f.start('a');
    await until(() => spreadIs(f.owners(), ['a'], 4), 10_000, 'every shard on a');
    await until(() => a.seen.length >= 100, 10_000, 'a read everything');
    const b = await f.start('b');
    await until(() => spreadIs(f.owners(), ['a', 'b'], 2), 20_000, 'two shards each');
    const more = f.put(100, 100);
    await until(
      () => [...a.seen, ...b.seen].filter((r) => more.includes(r)).length >= 100,
      10_000,
      'new records',
    );
    // Hand-off after the checkpoint: nothing of the first hundred is read again by the joining worker.
    expect(b.seen.filter((r) => first.includes(r))).toEqual([]);
  });

  it('a split on a worker that is not the leader: its hint makes the leader assign the children at once, not at the next round', async () => {
    const f = fleet(2, 3_000);
    // Rounds every 60 s: only hints (read at each renewal, about every second here) can move things sooner.
    const slow = { leaseTakeIntervalMs: 60_000 };
    await f.start('a', slow);
    await f.start('b', slow);
    await until(() => spreadIs(f.owners(), ['a', 'b'], 1), 15_000, 'one shard each');
    const leader = f.leader()!;
    const other = leader === 'a' ? 'b' : 'a';
    const parent = f.leaseTable.snapshot().find((l) => l.leaseOwner === other)!.leaseKey;
    // Let the leader's quick rounds (every renewal while leases move) run out first.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const before = f.put(0, 40);
    const splitAt = performance.now();
    const children = f.stream.split(parent);
    const after = f.put(40, 40);
    const seen = () => new Set(f.workers.flatMap((w) => w.seen));
    await until(
      () => [...before, ...after].every((r) => seen().has(r)),
      20_000,
      'records of parents and children',
    );
    const tookMs = performance.now() - splitAt;
    console.log(`split on ${other} (leader ${leader}); children delivered after ${Math.round(tookMs)} ms`);
    expect(tookMs).toBeLessThan(15_000);
    const owners = f.leaseTable
      .snapshot()
      .filter((l) => children.includes(l.leaseKey))
      .map((l) => l.leaseOwner);
    expect(owners.every((o) => o === 'a' || o === 'b')).toBe(true);
  });

  it('a leader that is stopping never takes the leadership back while its shards drain', async () => {
    const f = fleet(2, 2_000);
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const a = await f.start('a', {}, gate);
    await until(() => f.leader() === 'a', 10_000, 'a leads');
    // b looks at the leader item every second, a every 200 ms: a free leader item is a's to grab first.
    await f.start('b', { leaseTakeIntervalMs: 60_000 });
    await until(() => spreadIs(f.owners(), ['a', 'b'], 1), 15_000, 'one shard each');
    f.put(0, 40); // a's batch now waits at the gate: its stop() waits for it
    await until(() => a.waiting > 0, 10_000, 'a batch of a in flight');
    const stopping = a.consumer.stop();
    await until(() => f.leader() === 'b', 10_000, 'b leads while a drains');
    // For a second (five of a's election rounds), a — still draining — never leads again.
    const leaders = new Set<string | undefined>();
    const deadline = Date.now() + 1_000;
    while (Date.now() < deadline) {
      leaders.add(f.leader());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(a.consumer.state).toBe('stopping');
    expect([...leaders]).toEqual(['b']);
    openGate();
    await stopping;
  });
});
