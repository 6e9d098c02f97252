import { describe, expect, it } from 'vitest';
import { type Lease, leaseFromItem, leaseToItem, MalformedLeaseItemError } from '../../src/index.js';
import { testLease } from '../helpers/leases.js';

const base: Lease = testLease('shardId-000000000007', { leaseCounter: 3 });

describe('lease serializer (Java KCL 2.x format)', () => {
  it('writes numbers as N, sentinels verbatim, no owner and no empty sets when unowned', () => {
    expect(leaseToItem(base)).toEqual({
      leaseKey: { S: 'shardId-000000000007' },
      leaseCounter: { N: '3' },
      checkpoint: { S: 'TRIM_HORIZON' },
      checkpointSubSequenceNumber: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
    });
  });

  it('round-trips every attribute, with KCL 3.x attributes kept verbatim', () => {
    const lease: Lease = {
      ...base,
      leaseOwner: 'w1',
      checkpoint: {
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        subSequenceNumber: 4,
      },
      pendingCheckpoint: {
        sequenceNumber: '49590338271490256608559692538361571095921575989136588999',
        subSequenceNumber: 0,
      },
      pendingCheckpointState: new Uint8Array([1, 2, 3]),
      ownerSwitchesSinceCheckpoint: 2,
      parentShardIds: ['shardId-000000000001', 'shardId-000000000002'],
      childShardIds: ['shardId-000000000009'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: '99' },
      checkpointOwner: 'w0',
      unknownAttributes: { throughputKBps: { N: '1.5' }, entityType: { S: 'LEASE' } },
    };
    const item = leaseToItem(lease);
    expect(item.parentShardId).toEqual({ SS: ['shardId-000000000001', 'shardId-000000000002'] });
    expect(item.pendingCheckpointState).toEqual({ B: new Uint8Array([1, 2, 3]) });
    expect(leaseFromItem(item)).toEqual(lease);
  });

  it('skips KCL 3.5 items that are not leases', () => {
    expect(leaseFromItem({ leaseKey: { S: 'x' }, entityType: { S: 'WORKER_METRIC_STATS' } })).toBeUndefined();
    expect(leaseFromItem({ leaseKey: { S: 'x' }, entityType: { S: 'LEADER' } })).toBeUndefined();
  });

  it('reads a KCL item without optional attributes', () => {
    expect(
      leaseFromItem({ leaseKey: { S: 'k' }, leaseCounter: { N: '0' }, checkpoint: { S: 'LATEST' } }),
    ).toMatchObject({
      leaseOwner: undefined,
      checkpoint: { sequenceNumber: 'LATEST', subSequenceNumber: 0 },
      parentShardIds: [],
    });
  });

  it('reports a malformed item with its key', () => {
    expect(() =>
      leaseFromItem({ leaseKey: { S: 'k' }, leaseCounter: { S: 'one' }, checkpoint: { S: 'LATEST' } }),
    ).toThrow(MalformedLeaseItemError);
    expect(() => leaseFromItem({ leaseKey: { S: 'k' }, leaseCounter: { N: '1' } })).toThrow(
      /k is malformed: checkpoint/,
    );
  });
});
