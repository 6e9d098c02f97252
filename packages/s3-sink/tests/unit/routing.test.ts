import type { KinesisRecord } from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { describe, expect, it } from 'vitest';
import { type EnvelopeQuery, evaluateEnvelopeQuery, parseEnvelopeQuery } from '../../src/index.js';
import { createRecordRouter } from '../../src/routing/RecordRouter.js';

function record(data: Uint8Array | string, sequenceNumber = '100'): KinesisRecord {
  return {
    data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
    partitionKey: 'pk-1',
    explicitHashKey: undefined,
    sequenceNumber,
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(Date.UTC(2026, 10, 25, 16, 0, 0)),
    isAggregated: false,
  };
}

function query(source: string): EnvelopeQuery {
  const q = parseEnvelopeQuery(source);
  if (typeof q === 'string') throw new Error(q);
  return q;
}

describe('envelope queries', () => {
  it('parses the documented syntax', () => {
    expect(query('data.event_type')).toMatchObject({ root: 'data', path: ['event_type'] });
    expect(query('.data.items[2]["content-type"]')).toMatchObject({
      root: 'data',
      path: ['items', 2, 'content-type'],
    });
    expect(query('partitionKey')).toMatchObject({ root: 'partitionKey', path: [] });
    expect(parseEnvelopeQuery('payload.x')).toContain('must start with one of');
    expect(parseEnvelopeQuery('data..x')).toContain('expected a field name');
    expect(parseEnvelopeQuery('eventId.x')).toContain('has no fields');
  });

  it('selects scalars and explains what it cannot select', () => {
    const input = {
      eventId: 'e1',
      receivedAt: '2026-11-25T16:00:00.000Z',
      partitionKey: 'pk',
      data: () => ({ a: { b: [1, 'x', null, { c: true }] }, big: '12345678901234567890' }),
    };
    expect(evaluateEnvelopeQuery(query('data.a.b[0]'), input)).toBe('1');
    expect(evaluateEnvelopeQuery(query('data.a.b[3].c'), input)).toBe('true');
    expect(evaluateEnvelopeQuery(query('data.big'), input)).toBe('12345678901234567890');
    expect(evaluateEnvelopeQuery(query('eventId'), input)).toBe('e1');
    expect(evaluateEnvelopeQuery(query('data.a.b[2]'), input)).toEqual({ error: 'data.a.b[2] is null' });
    expect(evaluateEnvelopeQuery(query('data.a'), input)).toEqual({
      error: 'data.a is an object, not a scalar',
    });
    expect(evaluateEnvelopeQuery(query('data.missing'), input)).toEqual({ error: 'data.missing: no value' });
  });
});

describe('record router', () => {
  const envelope = (data: unknown) =>
    encodeEnvelope({ eventId: 'ev-1', receivedAt: '2026-11-25T16:00:00.000Z', data });

  it('keeps the envelope bytes as they arrived', () => {
    const route = createRecordRouter({
      recordContent: 'envelope',
      invalidRecordPolicy: 'error-output',
      partitionQueries: new Map(),
    });
    const bytes = envelope({ n: 12345678901234567890n });
    const routed = route(record(bytes));
    expect(routed.kind).toBe('data');
    expect(Buffer.from(routed.bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  it('writes only the exact data when asked', () => {
    const route = createRecordRouter({
      recordContent: 'data',
      invalidRecordPolicy: 'error-output',
      partitionQueries: new Map(),
    });
    const routed = route(record(envelope({ n: 12345678901234567890n })));
    expect(new TextDecoder().decode(routed.bytes)).toBe('{"n":12345678901234567890}');
  });

  it('routes by partition keys, and failures to the error output with the reason and the raw data', () => {
    const route = createRecordRouter({
      recordContent: 'envelope',
      invalidRecordPolicy: 'error-output',
      partitionQueries: new Map([['type', query('data.event_type')]]),
    });
    const ok = route(record(envelope({ event_type: 'view' })));
    expect(ok).toMatchObject({ kind: 'data', partitionValues: { type: 'view' } });
    const missing = route(record(envelope({ other: 1 }), '101'));
    expect(missing).toMatchObject({ kind: 'error', errorOutputType: 'partitioning-failed' });
    const unsafe = route(record(envelope({ event_type: '../x' }), '102'));
    expect(unsafe).toMatchObject({ kind: 'error', errorOutputType: 'partitioning-failed' });
    const notJson = route(record('not json {', '103'));
    expect(notJson).toMatchObject({ kind: 'error', errorOutputType: 'processing-failed' });
    const line = JSON.parse(new TextDecoder().decode(notJson.bytes));
    expect(line).toMatchObject({
      errorCode: 'EnvelopeDecodeError',
      sequenceNumber: '103',
      partitionKey: 'pk-1',
    });
    expect(Buffer.from(line.rawData, 'base64').toString()).toBe('not json {');
    expect(line.errorMessage).toContain('Not an event envelope');
  });

  it('archives invalid records as they are with the archive policy', () => {
    const route = createRecordRouter({
      recordContent: 'envelope',
      invalidRecordPolicy: 'archive',
      partitionQueries: new Map(),
    });
    const routed = route(record('plain text'));
    expect(routed.kind).toBe('data');
    expect(new TextDecoder().decode(routed.bytes)).toBe('plain text');
  });
});
