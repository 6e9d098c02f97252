import { describe, expect, it } from 'vitest';
import { fanOutConsumerOf, summarizeRetrieval } from '../../src/cli/retrievalMode.js';
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

describe('shardline status retrieval', () => {
  const withRetrieval = (leaseKey: string, retrieval: string | undefined) =>
    lease(leaseKey, {
      unknownAttributes: retrieval === undefined ? {} : { shardlineRetrieval: { S: retrieval } },
    });

  it('reads each lease’s recorded mode into its row and the RETRIEVAL column', () => {
    const rows = shardStatusRows(
      [],
      [withRetrieval('s1', 'fanOut:orders'), withRetrieval('s2', undefined)],
      [],
      new Map(),
    );
    expect(rows.map((r) => r.retrieval)).toEqual(['fanOut:orders', undefined]);
    const table = formatStatusTable(rows).split('\n');
    expect(table[0]).toMatch(/FAILURES\s+RETRIEVAL/);
    expect(table[1]).toContain('fanOut:orders');
  });

  it('summarizes one mode, a mix, and leases that record none', () => {
    expect(summarizeRetrieval([withRetrieval('s1', 'polling'), withRetrieval('s2', 'polling')])).toEqual({
      modes: { polling: 2 },
      unrecorded: 0,
      text: 'Retrieval: polling',
    });
    expect(summarizeRetrieval([withRetrieval('s1', 'fanOut:orders')]).text).toBe(
      'Retrieval: enhanced fan-out (consumer orders)',
    );
    const mixed = summarizeRetrieval([
      withRetrieval('s1', 'fanOut:orders'),
      withRetrieval('s2', 'polling'),
      withRetrieval('s3', undefined),
    ]);
    expect(mixed.modes).toEqual({ 'fanOut:orders': 1, polling: 1 });
    expect(mixed.unrecorded).toBe(1);
    expect(mixed.text).toMatch(
      /^Retrieval: mixed — enhanced fan-out \(consumer orders\) on 1 leases, polling on 1 leases, not recorded on 1 leases/,
    );
    expect(summarizeRetrieval([withRetrieval('s1', undefined)]).text).toMatch(/^Retrieval: not recorded/);
    expect(summarizeRetrieval([]).text).toBe('Retrieval: unknown (no leases)');
  });

  it('takes the consumer name from a fan-out mode only', () => {
    expect(fanOutConsumerOf('fanOut:a:b')).toBe('a:b');
    expect(fanOutConsumerOf('polling')).toBeUndefined();
    expect(fanOutConsumerOf(undefined)).toBeUndefined();
  });
});
