import { beforeEach, describe, expect, it } from 'vitest';
import {
  isLeaseHalted,
  type Lease,
  type LeaseStore,
  type NewLease,
  shardFailureOf,
  streamIdentityOf,
} from '../../src/index.js';

/**
 * The LeaseStore contract: every implementation (in-memory, DynamoDB) must pass it, so the fakes stay
 * honest. `makeStore` returns a fresh, initialized, empty store.
 */
export function leaseStoreContract(name: string, makeStore: () => Promise<LeaseStore>): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let store: LeaseStore;
    const shard0: NewLease = {
      leaseKey: 'shardId-000000000000',
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      parentShardIds: [],
      hashKeyRange: { startingHashKey: '0', endingHashKey: '340282366920938463463374607431768211455' },
    };

    beforeEach(async () => {
      store = await makeStore();
    });

    it('creates a lease once, unowned with counter 0', async () => {
      expect(await store.createLeaseIfNotExists(shard0)).toBe(true);
      expect(
        await store.createLeaseIfNotExists({
          ...shard0,
          checkpoint: { sequenceNumber: 'LATEST', subSequenceNumber: 0 },
        }),
      ).toBe(false);
      const lease = await store.getLease(shard0.leaseKey);
      expect(lease).toMatchObject({
        leaseKey: shard0.leaseKey,
        leaseOwner: undefined,
        leaseCounter: 0,
        checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
        ownerSwitchesSinceCheckpoint: 0,
        parentShardIds: [],
        childShardIds: [],
        hashKeyRange: shard0.hashKeyRange,
        checkpointOwner: undefined,
      });
      expect(await store.listLeases()).toHaveLength(1);
      expect(await store.getLease('shardId-missing')).toBeUndefined();
    });

    it('keeps both parents of a merge child', async () => {
      await store.createLeaseIfNotExists({ ...shard0, leaseKey: 'child', parentShardIds: ['p1', 'p2'] });
      expect((await store.getLease('child'))?.parentShardIds).toEqual(['p1', 'p2']);
    });

    it('takes with the counter as compare-and-set token', async () => {
      await store.createLeaseIfNotExists(shard0);
      const lease = (await store.getLease(shard0.leaseKey))!;
      const taken = await store.takeLease(lease, 'worker-a');
      expect(taken).toMatchObject({
        leaseOwner: 'worker-a',
        leaseCounter: 1,
        ownerSwitchesSinceCheckpoint: 0,
      });
      // A second taker with the stale counter loses.
      expect(await store.takeLease(lease, 'worker-b')).toBeUndefined();
      const stored = (await store.getLease(shard0.leaseKey))!;
      expect(stored).toMatchObject({ leaseOwner: 'worker-a', leaseCounter: 1 });
      // Taking from another owner counts an owner switch.
      const stolen = await store.takeLease(stored, 'worker-b');
      expect(stolen).toMatchObject({
        leaseOwner: 'worker-b',
        leaseCounter: 2,
        ownerSwitchesSinceCheckpoint: 1,
      });
      expect(await store.getLease(shard0.leaseKey)).toMatchObject({
        leaseOwner: 'worker-b',
        ownerSwitchesSinceCheckpoint: 1,
      });
    });

    it('renews only with the current counter', async () => {
      await store.createLeaseIfNotExists(shard0);
      const taken = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      const renewed = await store.renewLease(taken);
      expect(renewed?.leaseCounter).toBe(2);
      expect(await store.renewLease(taken)).toBeUndefined();
      expect((await store.getLease(shard0.leaseKey))?.leaseCounter).toBe(2);
    });

    it('fences checkpoints by counter and owner, and resets owner switches', async () => {
      await store.createLeaseIfNotExists(shard0);
      const a = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      const b = (await store.takeLease(a, 'worker-b'))!;
      // worker-a still thinks it holds the lease with counter 1: its late checkpoint must not land.
      expect(
        await store.updateCheckpoint(a, { checkpoint: { sequenceNumber: '100', subSequenceNumber: 0 } }),
      ).toBeUndefined();
      const written = await store.updateCheckpoint(b, {
        checkpoint: { sequenceNumber: '200', subSequenceNumber: 3 },
      });
      expect(written).toMatchObject({
        leaseCounter: 3,
        checkpoint: { sequenceNumber: '200', subSequenceNumber: 3 },
      });
      expect(await store.getLease(shard0.leaseKey)).toMatchObject({
        leaseOwner: 'worker-b',
        leaseCounter: 3,
        checkpoint: { sequenceNumber: '200', subSequenceNumber: 3 },
        ownerSwitchesSinceCheckpoint: 0,
        pendingCheckpoint: undefined,
      });
    });

    it('writes SHARD_END with the children, never an empty set', async () => {
      await store.createLeaseIfNotExists(shard0);
      const a = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      const noChildren = (await store.updateCheckpoint(a, {
        checkpoint: { sequenceNumber: '5', subSequenceNumber: 0 },
        childShardIds: [],
      }))!;
      expect((await store.getLease(shard0.leaseKey))?.childShardIds).toEqual([]);
      await store.updateCheckpoint(noChildren, {
        checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 },
        childShardIds: ['shardId-000000000002', 'shardId-000000000001'],
      });
      const ended = await store.getLease(shard0.leaseKey);
      expect(ended?.checkpoint.sequenceNumber).toBe('SHARD_END');
      expect([...(ended?.childShardIds ?? [])].sort()).toEqual([
        'shardId-000000000001',
        'shardId-000000000002',
      ]);
    });

    it('releases: owner removed, counter bumped, only by the owner', async () => {
      await store.createLeaseIfNotExists(shard0);
      const a = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      expect(await store.releaseLease({ ...a, leaseOwner: 'worker-b' })).toBe(false);
      expect(await store.releaseLease(a)).toBe(true);
      const released = (await store.getLease(shard0.leaseKey))!;
      expect(released.leaseOwner).toBeUndefined();
      expect(released.leaseCounter).toBe(2);
      // Renewing or checkpointing a released lease fails.
      expect(await store.renewLease(a)).toBeUndefined();
      expect(
        await store.updateCheckpoint(a, { checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } }),
      ).toBeUndefined();
      // Anyone can take it at once.
      expect(await store.takeLease(released, 'worker-b')).toMatchObject({
        leaseOwner: 'worker-b',
        ownerSwitchesSinceCheckpoint: 0,
      });
    });

    it('resets a checkpoint for an operator only while the counter is unchanged: owner, hand-off and pending checkpoint removed', async () => {
      expect(store.resetCheckpoint).toBeDefined();
      const reset = store.resetCheckpoint!.bind(store);
      const latest = { sequenceNumber: 'LATEST', subSequenceNumber: 0 };
      await store.createLeaseIfNotExists(shard0);
      const a = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      const b = (await store.takeLease(a, 'worker-b'))!;
      const handing = (await store.requestHandoff!(b, 'worker-c'))!;
      const prepared = (await store.prepareCheckpoint(handing, {
        pendingCheckpoint: { sequenceNumber: '5', subSequenceNumber: 0 },
        pendingCheckpointState: new Uint8Array([1, 2]),
      }))!;
      expect(prepared).toBeDefined();
      // A worker wrote since this counter was watched: nothing is reset.
      expect(await reset(handing, latest)).toBe(false);
      expect((await store.getLease(shard0.leaseKey))!.leaseCounter).toBe(prepared.leaseCounter);
      expect(await reset(prepared, latest)).toBe(true);
      const stored = (await store.getLease(shard0.leaseKey))!;
      expect(stored.leaseCounter).toBe(prepared.leaseCounter + 1);
      expect(stored.checkpoint).toEqual(latest);
      expect(stored.ownerSwitchesSinceCheckpoint).toBe(0);
      expect(stored.leaseOwner).toBeUndefined();
      expect(stored.checkpointOwner).toBeUndefined();
      expect(stored.pendingCheckpoint).toBeUndefined();
      expect(stored.pendingCheckpointState).toBeUndefined();
      // No worker's fence holds any more; anyone may take it at once.
      expect(await store.renewLease(prepared)).toBeUndefined();
      expect(await store.takeLease(stored, 'worker-d')).toMatchObject({ leaseOwner: 'worker-d' });
    });

    it('records a failed session fenced like a checkpoint: released, counted, halted; a checkpoint or a reset clears it', async () => {
      await store.createLeaseIfNotExists(shard0);
      const taken = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      const at = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 };
      const failure = { failureCount: 2, failedAt: at, error: 'Error: boom', haltedAt: undefined };
      // A stale counter is refused and writes nothing.
      expect(await store.recordShardFailure!({ ...taken, leaseCounter: 0 }, failure)).toBe(false);
      expect(await store.recordShardFailure!(taken, failure)).toBe(true);
      const failed = (await store.getLease(shard0.leaseKey))!;
      expect(failed).toMatchObject({ leaseOwner: undefined, leaseCounter: taken.leaseCounter + 1 });
      expect(failed.checkpoint).toEqual(at);
      expect(shardFailureOf(failed)).toEqual({
        failureCount: 2,
        failedAt: 'TRIM_HORIZON',
        lastFailure: 'Error: boom',
        haltedAt: undefined,
      });
      // Taking keeps the record (the next owner counts on it); a checkpoint clears it.
      const again = (await store.takeLease(failed, 'worker-b'))!;
      expect(shardFailureOf((await store.getLease(shard0.leaseKey))!).failureCount).toBe(2);
      const checkpointed = (await store.updateCheckpoint(again, {
        checkpoint: {
          sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
          subSequenceNumber: 0,
        },
      }))!;
      expect(shardFailureOf(checkpointed).failureCount).toBe(0);
      expect(shardFailureOf((await store.getLease(shard0.leaseKey))!).failureCount).toBe(0);
      // A halt is visible to every reader of the table; an operator's reset clears it.
      const halting = { ...failure, failureCount: 5, haltedAt: '2026-01-01T00:00:00.000Z' };
      expect(await store.recordShardFailure!(checkpointed, halting)).toBe(true);
      const halted = (await store.listLeases())[0]!;
      expect(isLeaseHalted(halted)).toBe(true);
      expect(await store.resetCheckpoint!(halted, at)).toBe(true);
      const reset = (await store.getLease(shard0.leaseKey))!;
      expect(isLeaseHalted(reset)).toBe(false);
      expect(shardFailureOf(reset).failureCount).toBe(0);
    });

    it('adds metadata only to existing leases, without touching the counter', async () => {
      expect(await store.updateLeaseMeta('missing', { childShardIds: ['x'] })).toBe(false);
      await store.createLeaseIfNotExists({ ...shard0, hashKeyRange: undefined });
      expect(
        await store.updateLeaseMeta(shard0.leaseKey, {
          childShardIds: ['c1'],
          hashKeyRange: { startingHashKey: '1', endingHashKey: '2' },
        }),
      ).toBe(true);
      expect(await store.getLease(shard0.leaseKey)).toMatchObject({
        leaseCounter: 0,
        childShardIds: ['c1'],
        hashKeyRange: { startingHashKey: '1', endingHashKey: '2' },
      });
    });

    it('prepares a checkpoint fenced like a checkpoint; the next checkpoint clears it', async () => {
      await store.createLeaseIfNotExists(shard0);
      const a = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      const prepared = await store.prepareCheckpoint(a, {
        pendingCheckpoint: { sequenceNumber: '300', subSequenceNumber: 1 },
        pendingCheckpointState: new Uint8Array([1, 2, 3]),
      });
      expect(prepared?.leaseCounter).toBe(2);
      expect(
        await store.prepareCheckpoint(a, {
          pendingCheckpoint: { sequenceNumber: '301', subSequenceNumber: 0 },
        }),
      ).toBeUndefined();
      const stored = (await store.getLease(shard0.leaseKey))!;
      expect(stored.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
      expect(stored.pendingCheckpoint).toEqual({ sequenceNumber: '300', subSequenceNumber: 1 });
      expect(stored.pendingCheckpointState).toEqual(new Uint8Array([1, 2, 3]));
      await store.updateCheckpoint(prepared!, {
        checkpoint: { sequenceNumber: '300', subSequenceNumber: 1 },
      });
      const committed = (await store.getLease(shard0.leaseKey))!;
      expect(committed.pendingCheckpoint).toBeUndefined();
      expect(committed.pendingCheckpointState).toBeUndefined();
      expect(committed.checkpoint).toEqual({ sequenceNumber: '300', subSequenceNumber: 1 });
    });
    it('hands a lease off (KCL 3.x): the giver renews and checkpoints until it completes, then the taker owns it', async () => {
      await store.createLeaseIfNotExists(shard0);
      const a = (await store.takeLease((await store.getLease(shard0.leaseKey))!, 'worker-a'))!;
      const requested = await store.requestHandoff!(a, 'worker-b');
      expect(requested).toMatchObject({
        leaseOwner: 'worker-b',
        checkpointOwner: 'worker-a',
        leaseCounter: 1,
      });
      // A second request, or the giver's plain renewal, fails.
      expect(await store.requestHandoff!(a, 'worker-c')).toBeUndefined();
      expect(await store.renewLease(a)).toBeUndefined();
      // The giver, knowing it hands off, renews and checkpoints under the checkpointOwner fence.
      const stored = (await store.getLease(shard0.leaseKey))!;
      expect(stored).toMatchObject({ leaseOwner: 'worker-b', checkpointOwner: 'worker-a', leaseCounter: 1 });
      const renewed = (await store.renewLease(stored))!;
      const checkpointed = (await store.updateCheckpoint(renewed, {
        checkpoint: { sequenceNumber: '42', subSequenceNumber: 0 },
      }))!;
      expect(checkpointed.leaseCounter).toBe(3);
      expect(await store.completeHandoff!(renewed)).toBe(false); // stale counter
      expect(await store.completeHandoff!(checkpointed)).toBe(true);
      const done = (await store.getLease(shard0.leaseKey))!;
      expect(done).toMatchObject({
        leaseOwner: 'worker-b',
        checkpointOwner: undefined,
        leaseCounter: 4,
        checkpoint: { sequenceNumber: '42', subSequenceNumber: 0 },
        ownerSwitchesSinceCheckpoint: 1,
      });
      // The giver's late checkpoint is fenced; the taker renews normally.
      expect(
        await store.updateCheckpoint(checkpointed, {
          checkpoint: { sequenceNumber: '43', subSequenceNumber: 0 },
        }),
      ).toBeUndefined();
      expect((await store.renewLease(done))?.leaseCounter).toBe(5);
    });

    it('lists the keys each owner holds (the leaseOwner index): none, one, many; released and moved leases follow', async () => {
      const owned = async (owner: string) => (await store.listLeaseKeysOwnedBy!(owner)).sort();
      expect(store.listLeaseKeysOwnedBy).toBeTypeOf('function');
      const keys = Array.from({ length: 7 }, (_, i) => `shardId-00000000000${i}`);
      for (const leaseKey of keys) await store.createLeaseIfNotExists({ ...shard0, leaseKey });
      expect(await owned('worker-a')).toEqual([]);
      const held = new Map<string, Lease>();
      for (const [i, leaseKey] of keys.entries()) {
        if (i === 6) continue; // stays unowned
        const owner = i === 0 ? 'worker-b' : 'worker-a';
        held.set(leaseKey, (await store.takeLease((await store.getLease(leaseKey))!, owner))!);
      }
      expect(await owned('worker-a')).toEqual(keys.slice(1, 6));
      expect(await owned('worker-b')).toEqual([keys[0]]);
      expect(await owned('worker-c')).toEqual([]);
      // Released: no owner, listed under nobody.
      expect(await store.releaseLease(held.get(keys[1]!)!)).toBe(true);
      // Taken by another owner: moves.
      expect(await store.takeLease(held.get(keys[2]!)!, 'worker-b')).toBeDefined();
      // Handed off (KCL 3.x): leaseOwner is the next owner at once.
      expect(await store.requestHandoff!(held.get(keys[3]!)!, 'worker-c')).toBeDefined();
      expect(await owned('worker-a')).toEqual(keys.slice(4, 6));
      expect(await owned('worker-b')).toEqual([keys[0], keys[2]]);
      expect(await owned('worker-c')).toEqual([keys[3]]);
      expect(
        (await store.listLeases())
          .filter((l) => l.leaseOwner === undefined)
          .map((l) => l.leaseKey)
          .sort(),
      ).toEqual([keys[1], keys[6]]);
    });

    it('deletes a lease only while its counter is the one seen (lease cleanup)', async () => {
      await store.createLeaseIfNotExists(shard0);
      const seen = (await store.getLease(shard0.leaseKey))!;
      const taken = (await store.takeLease(seen, 'worker-a'))!;
      expect(await store.deleteLease!(seen)).toBe(false); // written since it was seen
      expect(await store.getLease(shard0.leaseKey)).toBeDefined();
      expect(await store.deleteLease!(taken)).toBe(true);
      expect(await store.getLease(shard0.leaseKey)).toBeUndefined();
      expect(await store.deleteLease!(taken)).toBe(false); // gone already
    });

    it('stamps the stream identity at creation and as metadata, kept by every later write', async () => {
      const identity = {
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders',
        createdAt: new Date('2026-01-02T03:04:05.000Z'),
      };
      await store.createLeaseIfNotExists({ ...shard0, streamIdentity: identity });
      const created = (await store.getLease(shard0.leaseKey))!;
      expect(streamIdentityOf(created)).toEqual(identity);
      const other = { ...shard0, leaseKey: 'shardId-000000000001' };
      await store.createLeaseIfNotExists(other);
      expect(streamIdentityOf((await store.getLease(other.leaseKey))!)).toBeUndefined();
      expect(await store.updateLeaseMeta(other.leaseKey, { streamIdentity: identity })).toBe(true);
      const taken = (await store.takeLease((await store.getLease(other.leaseKey))!, 'worker-a'))!;
      await store.updateCheckpoint(taken, { checkpoint: { sequenceNumber: '7', subSequenceNumber: 0 } });
      const stored = (await store.getLease(other.leaseKey))!;
      expect(stored.leaseCounter).toBe(2);
      expect(streamIdentityOf(stored)).toEqual(identity);
    });
  });
}
