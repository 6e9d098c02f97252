import { describe, expect, it } from 'vitest';
import { formatStatusTable, shardStatusRows } from '../../src/cli/shardStatus.js';
import { type Lease, leaseFromNew } from '../../src/leases/Lease.js';
import { withShardFailure } from '../../src/leases/shardFailure.js';

const lease = (leaseKey: string, extra: Partial<Lease> = {}): Lease => ({
  ...leaseFromNew({
    leaseKey,
    checkpoint: { sequenceNumber: '100', subSequenceNumber: 0 },
    parentShardIds: [],
    hashKeyRange: undefined,
  }),
  ...extra,
});

describe('shardline status rows', () => {
  it('shows failure counts and halted shards, with the command to move on', () => {
    const failing = lease('s1', {
      unknownAttributes: withShardFailure(
        {},
        {
          failureCount: 2,
          failedAt: { sequenceNumber: '100', subSequenceNumber: 0 },
          error: 'Error: boom',
          haltedAt: undefined,
        },
      ),
    });
    const halted = lease('s2', {
      unknownAttributes: withShardFailure(
        {},
        {
          failureCount: 5,
          failedAt: { sequenceNumber: '100', subSequenceNumber: 0 },
          error: 'Error: poison',
          haltedAt: '2026-01-01T00:00:00.000Z',
        },
      ),
    });
    const rows = shardStatusRows([failing, halted], [failing, halted], [], new Map());
    expect(rows.map((r) => [r.shardId, r.lineage, r.failureCount])).toEqual([
      ['s1', 'ready', 2],
      ['s2', 'halted', 5],
    ]);
    const table = formatStatusTable(rows);
    expect(table).toMatch(/FAILURES/);
    expect(table).toContain('2 at 100');
    expect(table).toContain(
      'HALTED s2 since 2026-01-01T00:00:00.000Z at 100: Error: poison — fix the cause, or move past the record with: shardline skip --shard s2 --next',
    );
    expect(table).not.toContain('HALTED s1');
  });
});
