import { until as waitUntil } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerEvent,
  DependencyError,
  eligibleLeases,
  type LeaseStore,
  type NewLease,
  silentLogger,
} from '../../src/index.js';
import { monotonicClock } from '../../src/internal/clock.js';
import { LeaseCoordinator } from '../../src/leases/LeaseCoordinator.js';
import { InMemoryLeaseStore } from '../../src/testing/index.js';

const newLease = (leaseKey: string): NewLease => ({
  leaseKey,
  checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
  parentShardIds: [],
  hashKeyRange: undefined,
});

// In memory, so checked every 5 ms and given 5,000 ms at most unless a call says otherwise.
const until = (condition: () => boolean, timeoutMs = 5_000) => waitUntil(condition, timeoutMs, undefined, 5);

function coordinator(store: LeaseStore, events: ConsumerEvent[], lost: string[], failoverTimeMs = 1_000) {
  return new LeaseCoordinator({
    store,
    workerId: 'me',
    failoverTimeMs,
    renewIntervalMs: Math.floor(failoverTimeMs / 3) - 25,
    leaseTakeIntervalMs: 100,
    maxLeasesPerWorker: Number.POSITIVE_INFINITY,
    maxLeasesToStealAtOnce: 1,
    stealCooldownMs: failoverTimeMs,
    clock: monotonicClock,
    logger: silentLogger,
    onEvent: (e) => events.push(e),
    eligibility: eligibleLeases,
    onLeaseAcquired: () => {},
    onLeaseLost: (key) => lost.push(key),
  });
}

describe('LeaseCoordinator', () => {
  it('stops treating a lease as held before another worker could take it when renewals cannot reach the table', async () => {
    let isCutOff = false;
    const renewsTried: number[] = [];
    const store = new InMemoryLeaseStore({
      beforeOperation: async ({ operation }) => {
        if (operation === 'renew') renewsTried.push(performance.now());
        if (isCutOff && operation !== 'list') {
          throw new DependencyError('dynamodb', operation, new Error('connection refused (injected)'), true);
        }
      },
    });
    await store.createLeaseIfNotExists(newLease('s1'));
    const events: ConsumerEvent[] = [];
    const lost: string[] = [];
    const c = coordinator(store, events, lost);
    c.start();
    await until(() => c.isHeld('s1'));
    isCutOff = true;
    const cutAt = performance.now();
    await until(() => lost.length === 1, 3_000);
    const lostAfterMs = performance.now() - cutAt;
    await c.stop();
    expect(lost).toEqual(['s1']);
    expect(events).toContainEqual({ type: 'LEASE_LOST', leaseKey: 's1', reason: 'EXPIRED_LOCALLY' });
    // Another worker needs a full failover time (1000 ms) after the last renewal landed; this one gave up sooner.
    expect(lostAfterMs).toBeLessThan(1_000);
    expect(renewsTried.length).toBeGreaterThan(2); // it kept retrying until then
  });

  it('keeps its leases through a throttled table shorter than the failover time', async () => {
    let throttledUntil = 0;
    let throttled = 0;
    const store = new InMemoryLeaseStore({
      beforeOperation: ({ operation }) => {
        if (operation === 'renew' && performance.now() < throttledUntil) {
          throttled += 1;
          throw new DependencyError(
            'dynamodb',
            'UpdateItem',
            new Error('ThrottlingException (injected)'),
            true,
          );
        }
      },
    });
    await store.createLeaseIfNotExists(newLease('s1'));
    await store.createLeaseIfNotExists(newLease('s2'));
    const events: ConsumerEvent[] = [];
    const lost: string[] = [];
    const c = coordinator(store, events, lost, 3_000);
    c.start();
    await until(() => c.heldLeaseKeys().length === 2);
    throttledUntil = performance.now() + 1_200;
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await c.stop();
    expect(throttled).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(c.heldLeaseKeys().sort()).toEqual(['s1', 's2']);
  });

  it('fences checkpoints after a lease was taken by another worker', async () => {
    const store = new InMemoryLeaseStore();
    await store.createLeaseIfNotExists(newLease('s1'));
    const events: ConsumerEvent[] = [];
    const lost: string[] = [];
    const c = coordinator(store, events, lost, 3_000);
    c.start();
    await until(() => c.isHeld('s1'));
    expect(
      await c.leaseHandle('s1').checkpoint({ checkpoint: { sequenceNumber: '10', subSequenceNumber: 0 } }),
    ).toBe('WRITTEN');
    await store.takeLease(store.snapshot()[0]!, 'other');
    expect(
      await c.leaseHandle('s1').checkpoint({ checkpoint: { sequenceNumber: '20', subSequenceNumber: 0 } }),
    ).toBe('LEASE_LOST');
    await c.stop();
    expect(store.snapshot()[0]).toMatchObject({ leaseOwner: 'other', checkpoint: { sequenceNumber: '10' } });
    expect(lost).toEqual(['s1']);
    expect(events).toContainEqual({ type: 'LEASE_LOST', leaseKey: 's1', reason: 'CHECKPOINT_FENCED' });
  });

  it('keeps a lease when its own write landed but the answer was lost (timeout), adopting the counter', async () => {
    const inner = new InMemoryLeaseStore();
    await inner.createLeaseIfNotExists(newLease('s1'));
    let landedButFailed = 0;
    let isArmed = false;
    const store: LeaseStore = Object.assign(Object.create(null), {
      initialize: () => inner.initialize(),
      listLeases: () => inner.listLeases(),
      getLease: (key: string) => inner.getLease(key),
      createLeaseIfNotExists: (l: NewLease) => inner.createLeaseIfNotExists(l),
      takeLease: (l: Parameters<LeaseStore['takeLease']>[0], owner: string) => inner.takeLease(l, owner),
      releaseLease: (l: Parameters<LeaseStore['releaseLease']>[0]) => inner.releaseLease(l),
      updateCheckpoint: (
        l: Parameters<LeaseStore['updateCheckpoint']>[0],
        u: Parameters<LeaseStore['updateCheckpoint']>[1],
      ) => inner.updateCheckpoint(l, u),
      updateLeaseMeta: (k: string, u: Parameters<LeaseStore['updateLeaseMeta']>[1]) =>
        inner.updateLeaseMeta(k, u),
      renewLease: async (l: Parameters<LeaseStore['renewLease']>[0]) => {
        const renewed = await inner.renewLease(l);
        if (isArmed && landedButFailed === 0) {
          landedButFailed += 1; // the named point: written, answer lost
          throw new DependencyError(
            'dynamodb',
            'UpdateItem',
            new Error('timeout after the write (injected)'),
            true,
          );
        }
        return renewed;
      },
    });
    const events: ConsumerEvent[] = [];
    const lost: string[] = [];
    const c = coordinator(store, events, lost, 3_000);
    c.start();
    await until(() => c.isHeld('s1'));
    isArmed = true;
    await until(() => landedButFailed === 1);
    const counterAfterFault = (await inner.getLease('s1'))!.leaseCounter;
    await until(() => inner.snapshot()[0]!.leaseCounter >= counterAfterFault + 2, 3_000);
    await c.stop();
    expect(lost).toEqual([]);
    expect(c.heldLeaseKeys()).toEqual(['s1']);
  });
});
