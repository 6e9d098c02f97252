import { seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  isLeaseExpired,
  type Lease,
  type LeaseObservations,
  observeLeases,
  planLeaseTaking,
} from '../../src/index.js';
import { testLease } from '../helpers/leases.js';

function lease(
  leaseKey: string,
  leaseOwner: string | undefined,
  leaseCounter = 1,
  extra: Partial<Lease> = {},
): Lease {
  return testLease(leaseKey, { leaseOwner, leaseCounter, ...extra });
}

const FAILOVER = 10_000;
function plan(
  leases: Lease[],
  opts: {
    me?: string;
    held?: string[];
    observations?: LeaseObservations;
    nowMs?: number;
    maxSteal?: number;
    max?: number;
    cooldownMs?: number;
    foreignLeaseKeys?: ReadonlySet<string>;
  } = {},
) {
  const nowMs = opts.nowMs ?? 0;
  const observations = opts.observations ?? observeLeases(new Map(), leases, nowMs);
  return planLeaseTaking({
    leases,
    observations,
    nowMs,
    workerId: opts.me ?? 'me',
    heldLeaseKeys: new Set(opts.held ?? []),
    failoverTimeMs: FAILOVER,
    maxLeasesPerWorker: opts.max,
    maxLeasesToStealAtOnce: opts.maxSteal ?? 10,
    stealCooldownMs: opts.cooldownMs,
    foreignLeaseKeys: opts.foreignLeaseKeys,
  });
}
const keys = (leases: readonly Lease[]) => leases.map((l) => l.leaseKey);

describe('lease expiry on the observer’s monotonic clock', () => {
  it('expires a lease only when its counter stood still for the failover time since first seen', () => {
    const l1 = lease('a', 'other', 5);
    let observations = observeLeases(new Map(), [l1], 1_000);
    expect(isLeaseExpired(observations.get('a'), 1_000 + FAILOVER, FAILOVER)).toBe(false);
    expect(isLeaseExpired(observations.get('a'), 1_001 + FAILOVER, FAILOVER)).toBe(true);
    // The counter moved: the clock restarts at the observation of the new value.
    observations = observeLeases(observations, [lease('a', 'other', 6)], 9_000);
    expect(isLeaseExpired(observations.get('a'), 1_001 + FAILOVER, FAILOVER)).toBe(false);
    expect(isLeaseExpired(observations.get('a'), 9_001 + FAILOVER, FAILOVER)).toBe(true);
  });

  it('remembers when the owner changed (for the steal cool-down), not at first sight', () => {
    let observations = observeLeases(new Map(), [lease('a', 'x')], 0);
    expect(observations.get('a')?.ownerChangedAtMs).toBeUndefined();
    observations = observeLeases(observations, [lease('a', 'y', 2)], 500);
    expect(observations.get('a')?.ownerChangedAtMs).toBe(500);
  });
});

describe('planLeaseTaking', () => {
  it('a single worker takes every unowned lease', () => {
    const result = plan([lease('a', undefined), lease('b', undefined), lease('c', undefined)]);
    expect(keys(result.take)).toEqual(['a', 'b', 'c']);
    expect(result.targetLeaseCount).toBe(3);
  });

  it('does not take live leases of another worker that holds its fair share', () => {
    const leases = [lease('a', 'other'), lease('b', 'other'), lease('c', undefined), lease('d', undefined)];
    const result = plan(leases);
    expect(result.liveWorkerCount).toBe(2);
    expect(keys(result.take)).toEqual(['c', 'd']);
    expect(result.steal).toEqual([]);
  });

  it('takes expired leases, and unowned ones before expired ones', () => {
    const leases = [lease('a', 'dead', 3), lease('b', undefined)];
    const observations = observeLeases(new Map(), leases, 0);
    const result = plan(leases, { observations, nowMs: FAILOVER + 1 });
    expect(keys(result.take)).toEqual(['b', 'a']);
    expect(result.liveWorkerCount).toBe(1);
    expect(plan(leases, { observations, nowMs: FAILOVER }).take.map((l) => l.leaseKey)).toEqual(['b']);
  });

  it('treats leases left by an earlier life of the same worker id as its own', () => {
    const result = plan([lease('a', 'me', 9)]);
    expect(keys(result.take)).toEqual(['a']);
  });

  it('steals from an overloaded worker until the spread is at most one, and stops there', () => {
    const leases = ['a', 'b', 'c', 'd', 'e'].map((k) => lease(k, 'busy'));
    const first = plan(leases);
    expect(first.targetLeaseCount).toBe(3);
    expect(first.steal).toHaveLength(2);
    // Each taker prefers its own pseudo-random order, so workers joining together rarely collide.
    const orders = new Set(['w1', 'w2', 'w3', 'w4'].map((me) => keys(plan(leases, { me }).steal).join()));
    expect(orders.size).toBeGreaterThan(1);
    const moved = keys(first.steal);
    // After the moves: busy 3, me 2 — nobody moves again (no oscillation), from either side.
    const after = leases.map((l) => (moved.includes(l.leaseKey) ? lease(l.leaseKey, 'me', 2) : l));
    expect(plan(after, { held: moved }).steal).toEqual([]);
    const rest = keys(leases).filter((k) => !moved.includes(k));
    expect(plan(after, { me: 'busy', held: rest }).steal).toEqual([]);
  });

  it('counts a lease being handed to this worker as its own, and one another id-twin renews as foreign', () => {
    const handing = { ...lease('a', 'me', 4), checkpointOwner: 'busy' };
    const leases = [handing, ...['b', 'c', 'd'].map((k) => lease(k, 'busy'))];
    const result = plan(leases);
    expect(result.heldCount).toBe(1);
    expect(result.steal).toHaveLength(1); // 4 leases, 2 workers: one more, not two
    const twin = plan([lease('x', 'me', 3), lease('y', 'me', 3)], { foreignLeaseKeys: new Set(['x']) });
    expect(keys(twin.take)).toEqual(['y']);
  });

  it('evens 3,3,1 to 3,2,2 (fair share is ceil, yet the spread ends at one)', () => {
    const leases = [
      ...['a1', 'a2', 'a3'].map((k) => lease(k, 'A')),
      ...['b1', 'b2', 'b3'].map((k) => lease(k, 'B')),
      lease('c1', 'me'),
    ];
    const result = plan(leases, { held: ['c1'] });
    expect(result.steal).toHaveLength(1);
    expect(result.steal[0]!.leaseOwner).toBe('A');
  });

  it('limits steals per round and respects the cool-down after a move', () => {
    const leases = ['a', 'b', 'c', 'd'].map((k) => lease(k, 'busy'));
    expect(plan(leases, { maxSteal: 1 }).steal).toHaveLength(1);
    let observations = observeLeases(
      new Map(),
      leases.map((l) => lease(l.leaseKey, 'old')),
      0,
    );
    observations = observeLeases(observations, leases, 1_000);
    expect(plan(leases, { observations, nowMs: 2_000, cooldownMs: 5_000 }).steal).toEqual([]);
    expect(plan(leases, { observations, nowMs: 6_000, cooldownMs: 5_000 }).steal).toHaveLength(2);
  });

  it('honours maxLeasesPerWorker and reports uncovered leases', () => {
    const leases = ['a', 'b', 'c'].map((k) => lease(k, undefined));
    const result = plan(leases, { max: 2 });
    expect(result.take).toHaveLength(2);
    expect(result.uncoveredLeaseCount).toBe(1);
  });

  it('leaves a KCL 3.x lease in hand-off alone until it expires', () => {
    const handoff = lease('a', undefined, 4, { checkpointOwner: 'java-old' });
    const leases = [handoff];
    const observations = observeLeases(new Map(), leases, 0);
    expect(plan(leases, { observations, nowMs: 1_000 }).take).toEqual([]);
    expect(keys(plan(leases, { observations, nowMs: FAILOVER + 1 }).take)).toEqual(['a']);
  });

  it('ignores finished leases when counting work', () => {
    const done = lease('p', undefined, 1, {
      checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 },
    });
    expect(keys(plan([done, lease('c', undefined)]).take)).toEqual(['c']);
  });

  it('steals each victim’s leases in this taker’s own order, once each, skipping the cool-down (as ranking at every comparison did)', () => {
    // The reference: the order by FNV-1a of (taker, lease key), then key, recomputed for every steal.
    const rank = (workerId: string, leaseKey: string) => {
      let hash = 0x811c9dc5;
      const text = `${workerId}\u0000${leaseKey}`;
      for (let i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
      }
      return hash;
    };
    const seed = testSeed('steal order');
    const random = seededRandom(seed);
    for (let round = 0; round < 20; round++) {
      const owners = ['busy-a', 'busy-b', 'busy-c'];
      const leases = Array.from({ length: 60 + Math.floor(random() * 60) }, (_, i) =>
        lease(`shard-${String(i).padStart(3, '0')}`, owners[Math.floor(random() * random() * 3)]),
      );
      // Some leases changed owner recently (within the cool-down).
      const before = leases.map((l) => (random() < 0.3 ? lease(l.leaseKey, 'someone-else') : l));
      let observations = observeLeases(new Map(), before, 0);
      observations = observeLeases(observations, leases, 1_000);
      const result = plan(leases, { observations, nowMs: 2_000, cooldownMs: 5_000, maxSteal: 1_000 });
      const eligible = (owner: string) =>
        leases
          .filter(
            (l) => l.leaseOwner === owner && observations.get(l.leaseKey)?.ownerChangedAtMs === undefined,
          )
          .sort(
            (a, b) => rank('me', a.leaseKey) - rank('me', b.leaseKey) || (a.leaseKey < b.leaseKey ? -1 : 1),
          );
      for (const owner of owners) {
        const stolen = result.steal.filter((l) => l.leaseOwner === owner);
        expect(keys(stolen)).toEqual(keys(eligible(owner).slice(0, stolen.length)));
      }
      expect(new Set(keys(result.steal)).size).toBe(result.steal.length);
    }
  });
});
