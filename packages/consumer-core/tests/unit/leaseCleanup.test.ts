import { describe, expect, it } from 'vitest';
import {
  formatPendingDeletion,
  formatPendingDeletionSummary,
  formatStatusTable,
  shardStatusRows,
} from '../../src/cli/shardStatus.js';
import {
  type Lease,
  type LeaseCleanupObservations,
  type LeaseCleanupSettings,
  type ListedShard,
  planLeaseCleanup,
  planNewLeases,
} from '../../src/index.js';
import { InMemoryLeaseStore } from '../../src/leases/InMemoryLeaseStore.js';
import { ShardSyncer } from '../../src/shard-sync/ShardSyncer.js';
import { isLeaseReady } from '../../src/shard-sync/shardLineage.js';
import { InMemoryStream } from '../../src/testing/InMemoryStream.js';
import { testLease } from '../helpers/leases.js';

const ON: LeaseCleanupSettings = {
  cleanupLeasesUponShardCompletion: true,
  cleanupGarbageLeases: true,
  garbageLeaseGracePeriodMs: 1_000,
};

function lease(
  leaseKey: string,
  checkpoint: string,
  fields: { parents?: string[]; children?: string[]; counter?: number } = {},
): Lease {
  return testLease(leaseKey, {
    checkpoint: { sequenceNumber: checkpoint, subSequenceNumber: 0 },
    parentShardIds: fields.parents ?? [],
    childShardIds: fields.children ?? [],
    leaseCounter: fields.counter ?? 0,
  });
}
const listed = (shardId: string, parentShardIds: string[] = []): ListedShard => ({ shardId, parentShardIds });

function plan(
  leases: Lease[],
  options: {
    shards?: ListedShard[];
    listedAtMs?: number;
    nowMs?: number;
    observations?: LeaseCleanupObservations;
    settings?: LeaseCleanupSettings;
  } = {},
) {
  return planLeaseCleanup({
    leases,
    listing: options.shards ? { shards: options.shards, listedAtMs: options.listedAtMs ?? 1 } : undefined,
    nowMs: options.nowMs ?? 0,
    observations: options.observations ?? new Map(),
    settings: options.settings ?? ON,
  });
}
const deleted = (p: ReturnType<typeof plan>) => p.deletions.map((d) => `${d.lease.leaseKey}:${d.reason}`);

describe('planLeaseCleanup: finished leases (cleanupLeasesUponShardCompletion)', () => {
  it('deletes a SHARD_END lease once every child has started, conditional on the counter seen', () => {
    const parent = lease('p', 'SHARD_END', { children: ['a', 'b'], counter: 7 });
    const p = plan([
      parent,
      lease('a', '49590', { parents: ['p'] }),
      lease('b', 'SHARD_END', { parents: ['p'] }),
    ]);
    expect(deleted(p)).toEqual(['p:SHARD_COMPLETED']);
    expect(p.deletions[0]!.lease.leaseCounter).toBe(7);
  });

  it('waits while a child is still at TRIM_HORIZON or AT_TIMESTAMP, or has no lease', () => {
    const parent = lease('p', 'SHARD_END', { children: ['a', 'b'] });
    expect(plan([parent, lease('a', '1', { parents: ['p'] }), lease('b', 'TRIM_HORIZON')]).pending).toEqual([
      { leaseKey: 'p', reason: 'SHARD_COMPLETED', waitingFor: 'children-not-started', shardIds: ['b'] },
    ]);
    expect(deleted(plan([parent, lease('a', '1'), lease('b', 'AT_TIMESTAMP')]))).toEqual([]);
    expect(plan([parent, lease('a', '1')]).pending[0]).toMatchObject({
      waitingFor: 'child-lease-missing',
      shardIds: ['b'],
    });
  });

  it('takes the children from the listing when the lease does not name them, and waits when nobody does', () => {
    const parent = lease('p', 'SHARD_END');
    const child = lease('c', '5', { parents: ['p'] });
    expect(deleted(plan([parent, child], { shards: [listed('p'), listed('c', ['p'])] }))).toEqual([
      'p:SHARD_COMPLETED',
    ]);
    expect(plan([parent, child]).pending[0]).toMatchObject({ waitingFor: 'children-unknown' });
  });

  it('deletes ancestors first: a finished child waits while its parent lease is in the table', () => {
    const leases = [
      lease('g', 'SHARD_END', { children: ['p'] }),
      lease('p', 'SHARD_END', { parents: ['g'], children: ['c'] }),
      lease('c', '9', { parents: ['p'] }),
    ];
    const p = plan(leases);
    expect(deleted(p)).toEqual(['g:SHARD_COMPLETED']);
    expect(p.pending).toEqual([
      { leaseKey: 'p', reason: 'SHARD_COMPLETED', waitingFor: 'parent-lease-present', shardIds: ['g'] },
    ]);
    expect(deleted(plan(leases.slice(1)))).toEqual(['p:SHARD_COMPLETED']);
  });

  it('never deletes an unfinished lease, nor anything when switched off', () => {
    expect(deleted(plan([lease('a', '1', { children: ['b'] }), lease('b', '2')]))).toEqual([]);
    const off = { ...ON, cleanupLeasesUponShardCompletion: false };
    const leases = [lease('p', 'SHARD_END', { children: ['c'] }), lease('c', '9', { parents: ['p'] })];
    expect(plan(leases, { settings: off })).toMatchObject({ deletions: [], pending: [] });
  });
});

describe('planLeaseCleanup: leases of shards the stream no longer lists', () => {
  const gone = lease('old', '42', { counter: 3 });
  const shards = [listed('s1')];

  it('deletes after the grace period, counted from the first listing that missed it', () => {
    const first = plan([gone], { shards, listedAtMs: 100, nowMs: 50 });
    // The listing (t=100) was taken after the lease was first seen (t=50): it counts.
    expect(first.pending).toEqual([
      { leaseKey: 'old', reason: 'SHARD_GONE', waitingFor: 'gone-grace-period' },
    ]);
    const early = plan([gone], { shards, listedAtMs: 100, nowMs: 1_099, observations: first.observations });
    expect(deleted(early)).toEqual([]);
    const due = plan([gone], { shards, listedAtMs: 900, nowMs: 1_100, observations: early.observations });
    expect(deleted(due)).toEqual(['old:SHARD_GONE']);
  });

  it('restarts the wait when the lease is written, and ignores listings older than what was seen', () => {
    const first = plan([gone], { shards, listedAtMs: 100, nowMs: 50 });
    const written = { ...gone, leaseCounter: 4 };
    const after = plan([written], {
      shards,
      listedAtMs: 100,
      nowMs: 2_000,
      observations: first.observations,
    });
    // Counter moved at t=2000; the listing of t=100 is older: no evidence yet.
    expect(after.observations.get('old')).toEqual({
      leaseCounter: 4,
      observedAtMs: 2_000,
      unlistedSinceMs: undefined,
    });
    expect(deleted(after)).toEqual([]);
  });

  it('restarts the wait when the shard is listed again, and never trusts an empty listing', () => {
    const first = plan([gone], { shards, listedAtMs: 100, nowMs: 50 });
    const back = plan([gone], {
      shards: [...shards, listed('old')],
      listedAtMs: 500,
      nowMs: 500,
      observations: first.observations,
    });
    expect(back.observations.get('old')?.unlistedSinceMs).toBeUndefined();
    expect(plan([gone], { shards: [], listedAtMs: 5_000, nowMs: 9_000 }).pending).toEqual([]);
  });

  it('deletes a finished lease whose shard is gone even when its children are unknown; nothing when switched off', () => {
    const finished = lease('old', 'SHARD_END', { counter: 3 });
    const first = plan([finished], { shards, listedAtMs: 100, nowMs: 50 });
    expect(
      deleted(plan([finished], { shards, listedAtMs: 100, nowMs: 1_200, observations: first.observations })),
    ).toEqual(['old:SHARD_GONE']);
    const off = { ...ON, cleanupGarbageLeases: false };
    const firstOff = plan([gone], { shards, listedAtMs: 100, nowMs: 50, settings: off });
    expect(
      plan([gone], {
        shards,
        listedAtMs: 100,
        nowMs: 5_000,
        observations: firstOff.observations,
        settings: off,
      }),
    ).toMatchObject({ deletions: [], pending: [] });
  });
});

describe('planNewLeases after lease cleanup', () => {
  it('never makes a closed parent whose lease was deleted a new root (its child holds the lineage)', () => {
    const shards = [
      { shardId: 'p', parentShardIds: [], hashKeyRange: undefined, isOpen: false },
      { shardId: 'c1', parentShardIds: ['p'], hashKeyRange: undefined, isOpen: true },
      { shardId: 'c2', parentShardIds: ['p'], hashKeyRange: undefined, isOpen: true },
    ];
    for (const initialPosition of ['TRIM_HORIZON', { atTimestamp: new Date(0) }] as const) {
      expect(planNewLeases({ shards, existingLeaseKeys: new Set(['c1', 'c2']), initialPosition })).toEqual(
        [],
      );
    }
    // A closed shard whose parent still has a lease is a real descendant: created (it was never processed).
    const grand = [
      ...shards,
      { shardId: 'g', parentShardIds: ['c1'], hashKeyRange: undefined, isOpen: true },
    ];
    const midway = grand.map((s) => (s.shardId === 'c1' ? { ...s, isOpen: false } : s));
    expect(
      planNewLeases({
        shards: midway,
        existingLeaseKeys: new Set(['p', 'g']),
        initialPosition: 'TRIM_HORIZON',
      }).map((l) => l.leaseKey),
    ).toEqual(['c1', 'c2']);
  });

  it('three rounds of split and merge: a shard sync after each deletion creates nothing, and the table ends with the open shards only', async () => {
    const stream = new InMemoryStream({ shardCount: 2 });
    const store = new InMemoryLeaseStore();
    const created: string[] = [];
    const syncer = new ShardSyncer({
      lister: stream,
      store,
      initialPosition: 'TRIM_HORIZON',
      onEvent: (event) => {
        if (event.type === 'LEASE_CREATED') created.push(event.leaseKey);
      },
    });
    await syncer.sync();
    // Processing as a worker does it: a ready lease reads to its end (SHARD_END, children named) or,
    // when open, checkpoints a record.
    const process = async () => {
      for (let changed = true; changed; ) {
        changed = false;
        const leases = await store.listLeases();
        const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
        const shards = await stream.listShards();
        for (const l of leases) {
          if (!isLeaseReady(l, byKey) || l.checkpoint.sequenceNumber === 'SHARD_END') continue;
          const shard = shards.find((s) => s.shardId === l.leaseKey)!;
          const children = shards.filter((s) => s.parentShardIds.includes(l.leaseKey)).map((s) => s.shardId);
          const next = shard.isOpen ? '1000' : 'SHARD_END';
          if (l.checkpoint.sequenceNumber === next) continue;
          store.put({
            ...l,
            leaseCounter: l.leaseCounter + 1,
            checkpoint: { sequenceNumber: next, subSequenceNumber: 0 },
            childShardIds: shard.isOpen ? [] : children,
          });
          changed = true;
        }
        await syncer.sync();
      }
    };
    let observations: LeaseCleanupObservations = new Map();
    const deletedKeys: string[] = [];
    const cleanup = async () => {
      for (let round = 0; round < 20; round++) {
        const listing = { shards: await stream.listShards(), listedAtMs: round };
        const p = planLeaseCleanup({
          leases: await store.listLeases(),
          listing,
          nowMs: round,
          observations,
          settings: ON,
        });
        observations = p.observations;
        if (p.deletions.length === 0) return;
        for (const d of p.deletions) {
          expect(await store.deleteLease(d.lease)).toBe(true);
          deletedKeys.push(d.lease.leaseKey);
          const before = created.length;
          expect(await syncer.sync()).toBe(0);
          expect(created.length).toBe(before);
        }
      }
    };
    const [s0, s1] = stream.openShardIds as [string, string];
    await process();
    const [a, b] = stream.split(s0);
    await process();
    await cleanup();
    const m = stream.merge(a, b);
    await process();
    await cleanup();
    const [c, d] = stream.split(s1);
    await process();
    await cleanup();
    stream.merge(c, d);
    const [e] = stream.split(m);
    await process();
    await cleanup();
    expect(e).toBeDefined();
    expect(new Set(deletedKeys).size).toBe(deletedKeys.length);
    expect(deletedKeys.length).toBeGreaterThanOrEqual(6);
    expect((await store.listLeases()).map((l) => l.leaseKey).sort()).toEqual([...stream.openShardIds].sort());
    // Nothing deleted ever came back.
    expect(
      created.filter((key) => deletedKeys.includes(key) && created.lastIndexOf(key) > created.indexOf(key)),
    ).toEqual([]);
  });
});

describe('shardline status: pending deletions', () => {
  it('shows which leases cleanup deletes at its next round and what the others wait for', () => {
    const leases = [
      lease('p', 'SHARD_END', { children: ['a', 'b'] }),
      lease('a', '77', { parents: ['p'] }),
      lease('b', 'TRIM_HORIZON', { parents: ['p'] }),
      lease('q', 'SHARD_END', { children: ['m'] }),
      lease('m', '5', { parents: ['q'] }),
      lease('trimmed', '12'),
    ];
    const shards = [
      { shardId: 'p', parentShardIds: [], hashKeyRange: undefined, isOpen: false },
      { shardId: 'a', parentShardIds: ['p'], hashKeyRange: undefined, isOpen: true },
      { shardId: 'b', parentShardIds: ['p'], hashKeyRange: undefined, isOpen: true },
      { shardId: 'q', parentShardIds: [], hashKeyRange: undefined, isOpen: false },
      { shardId: 'm', parentShardIds: ['q'], hashKeyRange: undefined, isOpen: true },
    ];
    const rows = shardStatusRows(leases, leases, shards, new Map());
    const cell = (id: string) => formatPendingDeletion(rows.find((r) => r.shardId === id)!.pendingDeletion);
    expect(cell('p')).toBe('wait children-not-started b (completed)');
    expect(cell('q')).toBe('delete (completed)');
    expect(cell('trimmed')).toBe('wait gone-grace-period (gone)');
    expect(cell('a')).toBe('-');
    expect(formatPendingDeletionSummary(rows)).toBe(
      'Pending lease deletions: 3 (1 at the next cleanup round: q)',
    );
    expect(formatStatusTable(rows).split('\n')[0]).toContain('CLEANUP');
  });
});
