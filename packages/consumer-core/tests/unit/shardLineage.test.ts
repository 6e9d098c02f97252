import { describe, expect, it } from 'vitest';
import {
  eligibleLeases,
  isLeaseReady,
  type Lease,
  planNewLeases,
  type ShardDescription,
} from '../../src/index.js';
import { testLease } from '../helpers/leases.js';

const shard = (shardId: string, parentShardIds: string[] = [], isOpen = true): ShardDescription => ({
  shardId,
  parentShardIds,
  hashKeyRange: undefined,
  isOpen,
});
function lease(leaseKey: string, checkpoint: string, parentShardIds: string[] = []): Lease {
  return testLease(leaseKey, {
    checkpoint: { sequenceNumber: checkpoint, subSequenceNumber: 0 },
    parentShardIds,
  });
}
const summary = (plan: ReturnType<typeof planNewLeases>) =>
  plan.map((l) => `${l.leaseKey}@${l.checkpoint.sequenceNumber}<${l.parentShardIds.join('+')}`);

// p0 split into c1, c2; c2 merged with p3 into m4.
const stream = [
  shard('p0', [], false),
  shard('c1', ['p0']),
  shard('c2', ['p0'], false),
  shard('p3', [], false),
  shard('m4', ['c2', 'p3']),
];

describe('planNewLeases', () => {
  it('TRIM_HORIZON: every shard, parents first, both parents of a merge', () => {
    const plan = planNewLeases({
      shards: [...stream].reverse(),
      existingLeaseKeys: new Set(),
      initialPosition: 'TRIM_HORIZON',
    });
    expect(summary(plan).sort()).toEqual([
      'c1@TRIM_HORIZON<p0',
      'c2@TRIM_HORIZON<p0',
      'm4@TRIM_HORIZON<c2+p3',
      'p0@TRIM_HORIZON<',
      'p3@TRIM_HORIZON<',
    ]);
    const order = plan.map((l) => l.leaseKey);
    for (const l of plan)
      for (const parent of l.parentShardIds)
        expect(order.indexOf(parent)).toBeLessThan(order.indexOf(l.leaseKey));
  });

  it('LATEST: closed shards skipped, open ones at LATEST', () => {
    expect(
      summary(planNewLeases({ shards: stream, existingLeaseKeys: new Set(), initialPosition: 'LATEST' })),
    ).toEqual(['c1@LATEST<p0', 'm4@LATEST<c2+p3']);
  });

  it('AT_TIMESTAMP: every lineage at the timestamp', () => {
    const plan = planNewLeases({
      shards: [shard('a')],
      existingLeaseKeys: new Set(),
      initialPosition: { atTimestamp: new Date(0) },
    });
    expect(summary(plan)).toEqual(['a@AT_TIMESTAMP<']);
  });

  it('children of leased shards start at TRIM_HORIZON, whatever the initial position', () => {
    const plan = planNewLeases({
      shards: stream,
      existingLeaseKeys: new Set(['p0', 'p3']),
      initialPosition: 'LATEST',
    });
    expect(summary(plan)).toEqual(['c1@TRIM_HORIZON<p0', 'c2@TRIM_HORIZON<p0', 'm4@TRIM_HORIZON<c2+p3']);
  });

  it('creates nothing when every shard has a lease', () => {
    const all = new Set(stream.map((s) => s.shardId));
    expect(
      planNewLeases({ shards: stream, existingLeaseKeys: all, initialPosition: 'TRIM_HORIZON' }),
    ).toEqual([]);
  });
});

describe('isLeaseReady', () => {
  it('a child waits for every parent to reach SHARD_END; a missing parent does not block', () => {
    const leases = [lease('c2', 'SHARD_END'), lease('p3', '123'), lease('m4', 'TRIM_HORIZON', ['c2', 'p3'])];
    const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
    expect(isLeaseReady(leases[2]!, byKey)).toBe(false);
    byKey.set('p3', lease('p3', 'SHARD_END'));
    expect(isLeaseReady(leases[2]!, byKey)).toBe(true);
    expect(isLeaseReady(lease('x', 'LATEST', ['trimmed']), byKey)).toBe(true);
  });

  it('eligibleLeases excludes finished and waiting leases', () => {
    const leases = [lease('p', '5'), lease('c', 'TRIM_HORIZON', ['p']), lease('done', 'SHARD_END')];
    const eligible = eligibleLeases(leases);
    expect(leases.filter(eligible).map((l) => l.leaseKey)).toEqual(['p']);
  });
});
