import { seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { type Lease, type LeaseObservations, observeLeases } from '../../src/index.js';
import {
  liveWorkerIds,
  planLeaseAssignment,
  workerIdOfItem,
  workerItemKey,
} from '../../src/leases/leaseAssignment.js';
import { testLease } from '../helpers/leases.js';

const FAILOVER = 10_000;

function lease(leaseKey: string, leaseOwner: string | undefined, extra: Partial<Lease> = {}): Lease {
  return testLease(leaseKey, { leaseOwner, leaseCounter: 1, ...extra });
}

function plan(
  leases: Lease[],
  workers: string[],
  opts: { observations?: LeaseObservations; nowMs?: number; max?: number; cooldownMs?: number } = {},
) {
  const nowMs = opts.nowMs ?? 0;
  return planLeaseAssignment({
    leases,
    observations: opts.observations ?? observeLeases(new Map(), leases, nowMs),
    nowMs,
    failoverTimeMs: FAILOVER,
    workers,
    maxLeasesPerWorker: opts.max,
    stealCooldownMs: opts.cooldownMs,
  });
}

/** Leases per worker once the plan's writes land, computed from the leases and the writes only. */
function ownersAfter(leases: readonly Lease[], assignments: ReturnType<typeof plan>['assignments']) {
  const owner = new Map(leases.map((l) => [l.leaseKey, l.leaseOwner]));
  for (const a of assignments) owner.set(a.lease.leaseKey, a.to);
  const counts = new Map<string, number>();
  for (const o of owner.values()) if (o) counts.set(o, (counts.get(o) ?? 0) + 1);
  return counts;
}

const shards = (n: number, owner?: (i: number) => string | undefined) =>
  Array.from({ length: n }, (_, i) => lease(`shardId-${String(i).padStart(5, '0')}`, owner?.(i)));

describe('planLeaseAssignment (the leader’s decision)', () => {
  it('a cold start spreads every unowned lease over the live workers, none differing by more than one', () => {
    const leases = shards(10);
    const p = plan(leases, ['w1', 'w2', 'w3']);
    expect(p.assignments).toHaveLength(10);
    expect(p.assignments.every((a) => !a.move)).toBe(true);
    expect([...ownersAfter(leases, p.assignments).values()].sort()).toEqual([3, 3, 4]);
    expect(p.targetLeaseCount).toBe(4);
    expect(p.liveWorkerCount).toBe(3);
  });

  it('10,000 leases over 100 workers: exactly 100 each, in one round', () => {
    const leases = shards(10_000);
    const workers = Array.from({ length: 100 }, (_, i) => `w${i}`);
    const p = plan(leases, workers);
    const counts = ownersAfter(leases, p.assignments);
    expect(counts.size).toBe(100);
    expect(new Set(counts.values())).toEqual(new Set([100]));
  });

  it('leases of a worker whose counters stood still for the failover time go to the live workers; that worker gets nothing', () => {
    const leases = [
      ...shards(4, () => 'dead'),
      ...shards(4, () => 'alive').map((l, i) => ({ ...l, leaseKey: `b${i}` })),
    ];
    const seen = observeLeases(new Map(), leases, 0);
    // 'alive' renewed since; 'dead' did not. Its heartbeat item still looks live to the leader.
    const later = leases.map((l) => (l.leaseOwner === 'alive' ? { ...l, leaseCounter: 2 } : l));
    const observations = observeLeases(seen, later, FAILOVER + 1);
    const p = plan(later, ['dead', 'alive', 'new'], { observations, nowMs: FAILOVER + 1 });
    expect(p.assignments.map((a) => a.to)).not.toContain('dead');
    expect(p.assignments.filter((a) => !a.move).map((a) => a.lease.leaseOwner)).toEqual([
      'dead',
      'dead',
      'dead',
      'dead',
    ]);
    const counts = ownersAfter(later, p.assignments);
    expect(counts.get('dead')).toBeUndefined();
    expect([counts.get('alive'), counts.get('new')]).toEqual([4, 4]);
    expect(p.liveWorkerCount).toBe(2);
  });

  it('a joining worker gets live leases by hand-off (move), from the most loaded, until the spread is at most one', () => {
    const leases = shards(9, (i) => (i < 7 ? 'w1' : 'w2'));
    const p = plan(leases, ['w1', 'w2', 'w3']);
    expect(p.assignments.every((a) => a.move)).toBe(true);
    expect(p.assignments.every((a) => a.lease.leaseOwner === 'w1')).toBe(true);
    const counts = ownersAfter(leases, p.assignments);
    expect([counts.get('w1'), counts.get('w2'), counts.get('w3')]).toEqual([3, 3, 3]);
  });

  it('leases that moved within the cool-down stay; the plan says moves were blocked', () => {
    const leases = shards(6, () => 'w1');
    const first = observeLeases(
      new Map(),
      leases.map((l) => ({ ...l, leaseOwner: 'w0' })),
      0,
    );
    const observations = observeLeases(first, leases, 1_000); // every owner changed at 1,000
    const p = plan(leases, ['w1', 'w2'], { observations, nowMs: 2_000, cooldownMs: 5_000 });
    expect(p.assignments).toHaveLength(0);
    expect(p.blockedByCooldownCount).toBeGreaterThan(0);
    const later = plan(leases, ['w1', 'w2'], { observations, nowMs: 6_000, cooldownMs: 5_000 });
    expect(later.assignments.every((a) => a.move)).toBe(true);
    expect(later.assignments).toHaveLength(3);
  });

  it('a lease being handed over counts for its next owner and is not moved again', () => {
    const leases = [
      lease('a', 'w2', { checkpointOwner: 'w1' }),
      lease('b', 'w1'),
      lease('c', 'w1'),
      lease('d', 'w1'),
    ];
    const p = plan(leases, ['w1', 'w2']);
    expect(p.assignments.map((a) => a.lease.leaseKey)).not.toContain('a');
    expect(p.loads.get('w2')).toBe(2);
    expect(p.loads.get('w1')).toBe(2);
  });

  it('leases live with a worker without heartbeat (another mode, a KCL 2.x worker) are left alone and not counted', () => {
    const leases = [...shards(4, () => 'kcl-2x-worker'), lease('x', undefined), lease('y', undefined)];
    const p = plan(leases, ['w1', 'w2']);
    expect(p.assignments.map((a) => a.lease.leaseKey).sort()).toEqual(['x', 'y']);
    expect(p.targetLeaseCount).toBe(1);
  });

  it('maxLeasesPerWorker caps each worker and reports the leases left without one', () => {
    const p = plan(shards(10), ['w1', 'w2'], { max: 3 });
    expect(p.assignments).toHaveLength(6);
    expect(p.uncoveredLeaseCount).toBe(4);
  });

  it('no live worker: nothing is assigned', () => {
    expect(plan(shards(3), []).assignments).toHaveLength(0);
  });

  it('random fleets: every lease to spread ends on a live worker, loads within one, and the plan is the same twice', () => {
    const seed = testSeed('planLeaseAssignment random fleets');
    const random = seededRandom(seed);
    for (let round = 0; round < 200; round++) {
      const workerCount = 1 + Math.floor(random() * 12);
      const workers = Array.from({ length: workerCount }, (_, i) => `w${i}`);
      const owners = [...workers, 'gone', undefined];
      const leases = shards(Math.floor(random() * 60), () => owners[Math.floor(random() * owners.length)]);
      const seen = observeLeases(new Map(), leases, 0);
      // 'gone' stopped renewing; the others renewed.
      const later = leases.map((l) =>
        l.leaseOwner && l.leaseOwner !== 'gone' ? { ...l, leaseCounter: 2 } : l,
      );
      const observations = observeLeases(seen, later, FAILOVER + 1);
      const p = plan(later, workers, { observations, nowMs: FAILOVER + 1 });
      const counts = ownersAfter(later, p.assignments);
      expect(counts.get('gone'), `seed ${seed} round ${round}`).toBeUndefined();
      const loads = workers.map((w) => counts.get(w) ?? 0);
      expect(loads.reduce((a, b) => a + b, 0)).toBe(later.length);
      if (later.length > 0) expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
      expect(plan(later, workers, { observations, nowMs: FAILOVER + 1 })).toEqual(p);
    }
  });
});

describe('heartbeat items', () => {
  it('a worker is live while its heartbeat item is owned by it and its counter moves', () => {
    const items = [
      lease(workerItemKey('a'), 'a'),
      lease(workerItemKey('b'), 'b'),
      lease(workerItemKey('c'), undefined), // released at stop
      lease('leader', 'a'),
    ];
    const first = observeLeases(new Map(), items, 0);
    const moved = items.map((i) => (i.leaseKey === workerItemKey('a') ? { ...i, leaseCounter: 5 } : i));
    const observations = observeLeases(first, moved, FAILOVER + 1);
    expect(liveWorkerIds(moved, observations, FAILOVER + 1, FAILOVER)).toEqual(['a']);
    expect(liveWorkerIds(items, first, 0, FAILOVER)).toEqual(['a', 'b']);
    expect(workerIdOfItem('worker:x:y')).toBe('x:y');
    expect(workerIdOfItem('leader')).toBeUndefined();
  });
});
