import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryLeaseStore } from '../../packages/consumer-core/src/leases/InMemoryLeaseStore.js';
import { itemSizeBytes, Meter, MeteredLeaseStore, partitionOf } from '../lease-scale/costModel.js';
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
