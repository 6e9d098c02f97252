import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryLeaseStore } from '../../packages/consumer-core/src/leases/InMemoryLeaseStore.js';
import {
  itemSizeBytes,
  Meter,
  MeteredLeaseStore,
  OwnerIndex,
  partitionOf,
} from '../lease-scale/costModel.js';
import { HoldingCheck, runScenario } from '../lease-scale/model.js';
import { VirtualTime } from '../lease-scale/virtualTime.js';

// The lease-scale model's two foundations: virtual time (the lease code's timers run on it) and the
// DynamoDB cost model (every figure of the model is counted by it).

const newLease = (i: number) => ({
  leaseKey: `shardId-${String(i).padStart(12, '0')}`,
  checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
  parentShardIds: [],
  hashKeyRange: undefined,
});

describe('VirtualTime', () => {
  let time: VirtualTime | undefined;
  afterEach(() => time?.uninstall());

  it('runs timers in due order, lets the promises they start settle, and honours clearTimeout / clearInterval', async () => {
    time = new VirtualTime();
    time.install();
    const seen: string[] = [];
    setTimeout(() => seen.push(`b@${time!.nowMs()}`), 20);
    setTimeout(() => {
      seen.push(`a@${time!.nowMs()}`);
      // A chain of promises and a new timer started by a timer callback.
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => setTimeout(() => seen.push(`c@${time!.nowMs()}`), 5));
    }, 10);
    const cleared = setTimeout(() => seen.push('never'), 15);
    clearTimeout(cleared);
    let ticks = 0;
    const interval = setInterval(() => {
      ticks += 1;
      if (ticks === 3) clearInterval(interval);
    }, 7);
    await time.runUntil(100);
    expect(seen).toEqual(['a@10', 'c@15', 'b@20']);
    expect(ticks).toBe(3);
    expect(time.nowMs()).toBe(100);
  });

  it('puts the real timers back', async () => {
    const realSetTimeout = globalThis.setTimeout;
    time = new VirtualTime();
    time.install();
    expect(globalThis.setTimeout).not.toBe(realSetTimeout);
    time.uninstall();
    expect(globalThis.setTimeout).toBe(realSetTimeout);
    await new Promise((resolve) => setTimeout(resolve, 1));
  });
});

describe('the DynamoDB cost model', () => {
  let time: VirtualTime | undefined;
  afterEach(() => time?.uninstall());

  it('sizes an item as the adapter writes it: a few hundred bytes, one write unit', async () => {
    const table = new InMemoryLeaseStore();
    await table.createLeaseIfNotExists(newLease(1));
    const [lease] = table.snapshot();
    const size = itemSizeBytes(lease!);
    expect(size).toBeGreaterThan(150);
    expect(size).toBeLessThan(1024);
    // The counter's digits count: a bigger counter, a bigger item.
    expect(itemSizeBytes({ ...lease!, leaseCounter: 123_456_789 })).toBeGreaterThan(size);
  });

  it('charges consistent scans per 1 MiB page in 4 KiB units, writes in 1 KiB units, and counts by kind', async () => {
    time = new VirtualTime();
    time.install();
    const table = new InMemoryLeaseStore();
    for (let i = 0; i < 100; i++) await table.createLeaseIfNotExists(newLease(i));
    const meter = new Meter(
      { partitions: 4, latencyMs: 5, eventuallyConsistentScans: false, sdkMaxAttempts: 3, random: () => 0.5 },
      () => time!.nowMs(),
    );
    const store = new MeteredLeaseStore(table, meter);
    const listing = store.listLeases();
    await time.runUntil(1_000);
    const leases = await listing;
    expect(leases).toHaveLength(100);
    const totalBytes = leases.reduce((sum, l) => sum + itemSizeBytes(l), 0);
    const scan = meter.totals.byKind.scan;
    expect(scan.requests).toBe(1); // 100 small items: one page
    // Rounded up per partition's part of the page: at least the bytes / 4 KiB, at most 4 more.
    expect(scan.readUnits).toBeGreaterThanOrEqual(Math.ceil(totalBytes / 4096));
    expect(scan.readUnits).toBeLessThanOrEqual(Math.ceil(totalBytes / 4096) + 4);
    const renewal = store.renewLease(leases[0]!);
    await time.runUntil(2_000);
    expect(await renewal).toBeDefined();
    expect(meter.totals.byKind.renew).toEqual({ requests: 1, readUnits: 0, writeUnits: 1, throttled: 0 });
  });

  it('throttles a partition past 1,000 write units in a second, retries like the SDK, then fails retriably', async () => {
    time = new VirtualTime();
    time.install();
    const table = new InMemoryLeaseStore();
    const meter = new Meter(
      { partitions: 1, latencyMs: 1, eventuallyConsistentScans: false, sdkMaxAttempts: 3, random: () => 0 },
      () => time!.nowMs(),
    );
    const store = new MeteredLeaseStore(table, meter);
    // 1,200 creates sent at once into one partition: 1,000 fit in the first second.
    const outcomes = Array.from({ length: 1_200 }, (_, i) =>
      store.createLeaseIfNotExists(newLease(i)).then(
        () => 'created',
        (error: unknown) => (error as { retriable?: boolean }).retriable,
      ),
    );
    await time.runUntil(10_000);
    const results = await Promise.all(outcomes);
    expect(results.filter((r) => r === 'created').length).toBe(1_000);
    // With no backoff (random 0) every retry lands in the same second: all 200 fail, retriably.
    expect(results.filter((r) => r === true).length).toBe(200);
    expect(meter.totals.byKind.create.throttled).toBe(600);
    expect(meter.totals.failedCalls).toBe(200);
    expect(meter.peakPartitionWriteUnits).toBe(1_000);
    expect(partitionOf('shardId-000000000001', 1)).toBe(0);
  });
});

describe('the leaseOwner index of the cost model', () => {
  let time: VirtualTime | undefined;
  afterEach(() => time?.uninstall());
  const settings = {
    partitions: 4,
    latencyMs: 5,
    eventuallyConsistentScans: false,
    sdkMaxAttempts: 3,
    random: () => 0.5,
  };

  it('writes the index only when the owner changes (a delete and a put), and queries it eventually consistently', async () => {
    time = new VirtualTime();
    time.install();
    const now = () => time!.nowMs();
    const table = new InMemoryLeaseStore();
    const meter = new Meter(settings, now);
    const index = new OwnerIndex(new Meter(settings, now), 500);
    const store = new MeteredLeaseStore(table, meter, index);
    const run = async <T>(call: Promise<T>) => {
      await time!.runUntil(time!.nowMs() + 100);
      return call;
    };
    const indexWrites = () => {
      let units = 0;
      for (const kind of Object.values(index.meter.totals.byKind)) units += kind.writeUnits;
      return units;
    };
    await run(store.createLeaseIfNotExists(newLease(1)));
    expect(indexWrites()).toBe(0); // unowned: no entry
    let lease = table.snapshot()[0]!;
    lease = (await run(store.takeLease(lease, 'a')))!;
    expect(index.meter.totals.byKind.take.writeUnits).toBe(1); // a put
    lease = (await run(store.renewLease(lease)))!;
    lease = (await run(
      store.updateCheckpoint(lease, { checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } }),
    ))!;
    expect(indexWrites()).toBe(1); // renewals and checkpoints: nothing
    const handed = (await run(store.requestHandoff(lease, 'b')))!;
    expect(index.meter.totals.byKind.handoff.writeUnits).toBe(2); // a delete and a put
    expect(await run(store.completeHandoff(handed))).toBe(true);
    expect(index.meter.totals.byKind.handoff.writeUnits).toBe(2); // the owner did not change
    // A failed conditional write changes nothing.
    expect(await run(store.takeLease(lease, 'c'))).toBeUndefined();
    expect(indexWrites()).toBe(3);
    // Query: eventually consistent, half a unit at least, on the index's own ledger.
    await time.runUntil(time.nowMs() + 1_000);
    expect(await run(store.listLeaseKeysOwnedBy('b'))).toEqual([lease.leaseKey]);
    expect(index.meter.totals.byKind.query).toEqual({
      requests: 1,
      readUnits: 0.5,
      writeUnits: 0,
      throttled: 0,
    });
    expect(meter.totals.byKind.query.requests).toBe(0);
    const current = table.snapshot()[0]!;
    expect(await run(store.releaseLease(current))).toBe(true);
    expect(index.meter.totals.byKind.release.writeUnits).toBe(1); // a delete
    // The release reaches the index's queries 500 ms later.
    expect(await run(store.listLeaseKeysOwnedBy('b'))).toEqual([lease.leaseKey]);
    await time.runUntil(time.nowMs() + 1_000);
    expect(await run(store.listLeaseKeysOwnedBy('b'))).toEqual([]);
  });

  it('counts a lease held by two live workers, at an acquisition and at the periodic check', () => {
    const view = (keys: string[]) => ({ holds: (key: string) => keys.includes(key), heldKeys: () => keys });
    const check = new HoldingCheck();
    const a = view(['s1', 's2']);
    const b = view(['s3']);
    check.workers.push(a, b);
    check.onAcquired(b, 's3');
    check.checkAll();
    expect(check.doubleHolds).toBe(0);
    const c = view(['s2']);
    check.workers.push(c);
    check.onAcquired(c, 's2');
    check.checkAll();
    expect(check.doubleHolds).toBe(2);
  });

  it('runs leader-based assignment to fair share, through a crash of a worker and of the leader, with no lease held twice', async () => {
    time = new VirtualTime();
    time.install();
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const result = await runScenario(
      {
        shards: 40,
        workers: 4,
        consumer: { leaseAssignment: 'leader' },
        busy: true,
        startSpreadMs: 5_000,
        steadyWindowMs: 30_000,
        maxWaitMs: 300_000,
        crash: true,
        costModel: { partitions: 4, latencyMs: 5, eventuallyConsistentScans: false, sdkMaxAttempts: 3 },
        indexLagMs: 500,
      },
      time,
      random,
    );
    expect(result.coldFairShareS).not.toBeNull();
    expect(result.crashRebalanceS).not.toBeNull();
    expect(result.leaderCrashRebalanceS).not.toBeNull();
    expect(result.doubleHolds).toBe(0);
    expect(result.leadershipChanges).toBe(2);
    expect(result.throttledTotal).toBe(0);
    // Workers read their own keys through the index; only the leader scans.
    expect(result.steady.requestsPerLeaseMin.query).toBeGreaterThan(0);
    expect(result.steady.byTable.coordinator.writeUnitsPerLeaseMin).toBeGreaterThan(0);
  }, 60_000);
});
