import { describe, expect, it } from 'vitest';
import { StreamIdentityMismatchError, streamIdentityOf } from '../../src/index.js';
import { silentLogger } from '../../src/internal/logger.js';
import { InMemoryLeaseStore } from '../../src/leases/InMemoryLeaseStore.js';
import {
  checkStreamIdentity,
  type StreamIdentity,
  streamIdentityAttributes,
} from '../../src/leases/streamIdentity.js';
import { guardStreamIdentity } from '../../src/shard-sync/guardStreamIdentity.js';
import type { ShardLister } from '../../src/shard-sync/ShardLister.js';
import { testLease } from '../helpers/leases.js';

const streamA: StreamIdentity = {
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders',
  createdAt: new Date('2026-03-01T10:00:00.000Z'),
};
// Deleted and recreated under the same name: same ARN, another creation time.
const streamA2: StreamIdentity = { ...streamA, createdAt: new Date('2026-03-02T09:00:00.000Z') };

const stamped = (key: string, identity: StreamIdentity) =>
  testLease(key, { unknownAttributes: streamIdentityAttributes(identity) });
const lister = (identity: StreamIdentity): ShardLister => ({
  listShards: async () => [],
  describeStream: async () => identity,
});

describe('stream identity guard', () => {
  it('sorts leases into same stream, other stream, and unstamped', () => {
    const leases = [stamped('a', streamA), stamped('b', streamA2), testLease('c')];
    const check = checkStreamIdentity(leases, streamA);
    expect(check.mismatched.map((l) => l.leaseKey)).toEqual(['b']);
    expect(check.unstamped.map((l) => l.leaseKey)).toEqual(['c']);
    // Sub-second differences are not a new stream (some services keep seconds only).
    const sameSecond = { ...streamA, createdAt: new Date(streamA.createdAt.getTime() + 400) };
    expect(checkStreamIdentity([stamped('a', streamA)], sameSecond).mismatched).toEqual([]);
  });

  it('refuses a table of another stream with an error naming shardline reset, and writes nothing', async () => {
    const store = new InMemoryLeaseStore({
      leases: [stamped('shardId-000000000000', streamA), testLease('x')],
    });
    const guard = guardStreamIdentity({
      lister: lister(streamA2),
      store,
      tableName: 'orders-app',
      acceptStreamIdentityChange: false,
      logger: silentLogger,
    });
    await expect(guard).rejects.toBeInstanceOf(StreamIdentityMismatchError);
    const error = (await guard.catch((e: unknown) => e)) as StreamIdentityMismatchError;
    expect(error.message).toContain('shardline reset');
    expect(error.leaseKeys).toEqual(['shardId-000000000000']);
    expect(error.retriable).toBe(false);
    expect(streamIdentityOf((await store.getLease('x'))!)).toBeUndefined();
  });

  it('adopts and stamps unstamped leases (older Shardline, Java KCL); with the opt-in, restamps another stream’s', async () => {
    const store = new InMemoryLeaseStore({ leases: [testLease('kcl-0'), stamped('old', streamA)] });
    expect(
      await guardStreamIdentity({
        lister: lister(streamA2),
        store,
        tableName: 't',
        acceptStreamIdentityChange: true,
        logger: silentLogger,
      }),
    ).toEqual(streamA2);
    for (const lease of await store.listLeases()) expect(streamIdentityOf(lease)).toEqual(streamA2);
    // A lister that cannot describe the stream: nothing checked, nothing written.
    const plain = new InMemoryLeaseStore({ leases: [stamped('old', streamA)] });
    expect(
      await guardStreamIdentity({
        lister: { listShards: async () => [] },
        store: plain,
        tableName: 't',
        acceptStreamIdentityChange: false,
        logger: silentLogger,
      }),
    ).toBeUndefined();
  });
});
