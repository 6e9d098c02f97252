import type { KinesisRecord } from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { describe, expect, it } from 'vitest';
import { parseEnvelopeQuery, parseKeyTemplate } from '../../src/index.js';
import { jsonLinesFormat } from '../../src/objects/formats/RecordFormat.js';
import {
  decodePendingRange,
  encodePendingRange,
  keysDigest,
  type ObjectLayout,
  planObjects,
  type SealedRange,
} from '../../src/objects/planObjects.js';
import { createRecordRouter } from '../../src/routing/RecordRouter.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 25, 15, 59, 0);

function records(count: number, types: readonly string[]): KinesisRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    data: encodeEnvelope({
      eventId: `ev-${i}`,
      receivedAt: new Date(T0 + i * 30_000),
      data: i % 7 === 6 ? { no_type: true } : { event_type: types[i % types.length], i },
    }),
    partitionKey: `pk-${i}`,
    explicitHashKey: undefined,
    sequenceNumber: String(1000n + BigInt(i) * 10n),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(T0 + i * 30_000),
    isAggregated: false,
  }));
}

function layout(partitioned: boolean): ObjectLayout {
  const names = partitioned ? ['type'] : [];
  return {
    streamLabel: 'orders',
    prefix: parseKeyTemplate(
      partitioned
        ? 'type=!{partitionKeyFromQuery:type}/!{timestamp:yyyy/MM/dd/HH}/'
        : '!{timestamp:yyyy/MM/dd/HH}/',
      { path: 'prefix', partitionKeyNames: names, isErrorPrefix: false },
    ).template,
    errorPrefix: parseKeyTemplate('errors/!{firehose:error-output-type}/', {
      path: 'errorPrefix',
      partitionKeyNames: [],
      isErrorPrefix: true,
    }).template,
    extension: '.gz',
    contentType: 'application/gzip',
    format: jsonLinesFormat(true),
  };
}

function range(recs: KinesisRecord[], partitioned: boolean): SealedRange {
  const q = parseEnvelopeQuery('data.event_type');
  if (typeof q === 'string') throw new Error(q);
  const route = createRecordRouter({
    recordContent: 'envelope',
    invalidRecordPolicy: 'error-output',
    partitionQueries: partitioned ? new Map([['type', q]]) : new Map(),
  });
  return {
    shardId: 'shardId-000000000003',
    first: recs[0]!,
    last: recs[recs.length - 1]!,
    records: recs,
    routes: recs.map((record) => route(record)),
    inputBytes: recs.reduce((n, r) => n + r.data.byteLength, 0),
  };
}

describe('planObjects', () => {
  it('makes one object keyed by the first record, under the hour of the oldest arrival', () => {
    const recs = records(10, ['view']);
    const plans = planObjects(range(recs, false), layout(false));
    expect(plans).toHaveLength(1);
    // The oldest record arrived at 15:59, the others after 16:00: the object is under hour 15.
    expect(plans[0]!.key).toBe('2026/11/25/15/orders-shardId-000000000003-1000.gz');
    expect(plans[0]!.recordCount).toBe(10);
    const text = Buffer.concat(plans[0]!.chunks.map((c) => Buffer.from(c))).toString();
    expect(text.split('\n')).toHaveLength(11);
    expect(T0 + 9 * 30_000 - T0).toBeLessThan(HOUR);
  });

  it('splits by partition and error type, each keyed by its own first record, in shard order', () => {
    const recs = records(20, ['view', 'cart']);
    const plans = planObjects(range(recs, true), layout(true));
    expect(plans.map((p) => p.key)).toEqual([
      'type=view/2026/11/25/15/orders-shardId-000000000003-1000.gz',
      'type=cart/2026/11/25/15/orders-shardId-000000000003-1010.gz',
      'errors/partitioning-failed/orders-shardId-000000000003-1060.gz',
    ]);
    expect(plans.reduce((n, p) => n + p.recordCount, 0)).toBe(20);
    expect(plans[2]!.recordCount).toBe(2);
  });

  it('is deterministic: the same range gives the same keys and bytes', () => {
    const a = planObjects(range(records(30, ['a', 'b', 'c']), true), layout(true));
    const b = planObjects(range(records(30, ['a', 'b', 'c']), true), layout(true));
    expect(keysDigest(a)).toBe(keysDigest(b));
    expect(a.map((p) => Buffer.concat(p.chunks.map((c) => Buffer.from(c))).toString('hex'))).toEqual(
      b.map((p) => Buffer.concat(p.chunks.map((c) => Buffer.from(c))).toString('hex')),
    );
  });

  it('round-trips the pending range state and refuses foreign state', () => {
    const pending = {
      first: { sequenceNumber: '1000', subSequenceNumber: 0 },
      last: { sequenceNumber: '1190', subSequenceNumber: 2 },
      recordCount: 20,
      objectCount: 3,
      keysSha256: 'ab'.repeat(32),
      multipartUploads: [{ key: 'a/b', uploadId: 'u-1' }],
    };
    expect(decodePendingRange(encodePendingRange(pending))).toEqual(pending);
    expect(() => decodePendingRange(new TextEncoder().encode('{"v":9}'))).toThrow(/version/);
    expect(() => decodePendingRange(new TextEncoder().encode('nope'))).toThrow();
  });
});
