import { type Lease, leaseFromNew } from '../../src/leases/Lease.js';

/** A lease at TRIM_HORIZON with counter 0, no owner and no parents, with `fields` set over it. */
export function testLease(leaseKey: string, fields: Partial<Lease> = {}): Lease {
  return {
    ...leaseFromNew({
      leaseKey,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      parentShardIds: [],
      hashKeyRange: undefined,
    }),
    ...fields,
  };
}
