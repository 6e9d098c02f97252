import { seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { ShardSyncer } from '../../src/shard-sync/ShardSyncer.js';
import { InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';

describe('ShardSyncer', () => {
  it('writes leases a few at a time, but never a child before every parent lease is written', async () => {
    const seed = testSeed('ShardSyncer waves');
    const random = seededRandom(seed);
    const stream = new InMemoryStream({ shardCount: 40 });
    const [a, b] = stream.openShardIds as [string, string];
    const [a0, a1] = stream.split(a);
    const merged = stream.merge(a1, b);
    stream.split(merged);
    expect(a0).toBeDefined();
    const written = new Set<string>();
    const order: string[] = [];
    /** Each create, with what was written when it started. */
    const starts: { leaseKey: string; writtenBefore: ReadonlySet<string> }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const store = new InMemoryLeaseStore({
      beforeOperation: async ({ operation, leaseKey }) => {
        if (operation !== 'create' || leaseKey === undefined) return;
        starts.push({ leaseKey, writtenBefore: new Set(written) });
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Parents are slow to write: a child started too early would start while they are in flight.
        const isParent = leaseKey === a || leaseKey === b || leaseKey === a1 || leaseKey === merged;
        await new Promise((resolve) => setTimeout(resolve, isParent ? 40 : random() * 5));
        inFlight -= 1;
        order.push(leaseKey);
        written.add(leaseKey);
      },
    });
    const parentsOf = new Map<string, readonly string[]>();
    const syncer = new ShardSyncer({
      lister: stream,
      store,
      initialPosition: 'TRIM_HORIZON',
      onEvent: () => {},
    });
    const created = await syncer.sync();
    for (const lease of store.snapshot()) parentsOf.set(lease.leaseKey, lease.parentShardIds);
    expect(created).toBe(store.snapshot().length);
    expect(created).toBe(40 + 2 + 1 + 2); // 40 shards, a's children, the merge, its children
    for (const key of order) {
      for (const parent of parentsOf.get(key) ?? []) {
        if (parentsOf.has(parent))
          expect(written.has(parent), `${key} written before its parent ${parent} (seed ${seed})`).toBe(true);
      }
      written.add(key);
    }
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(16);
    expect(order.indexOf(a0)).toBeGreaterThan(order.indexOf(a));
  });
});
