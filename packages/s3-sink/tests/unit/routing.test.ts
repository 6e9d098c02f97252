import type { KinesisRecord } from '@shardline/consumer-core';
import { decodeEnvelope, encodeEnvelope } from '@shardline/ingest';
import { describe, expect, it } from 'vitest';
import { type EnvelopeQuery, evaluateEnvelopeQuery, parseEnvelopeQuery } from '../../src/index.js';
import { createRecordRouter, routedBytes } from '../../src/routing/RecordRouter.js';

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
    const input = record(bytes);
    const routed = route(input);
    expect(routed.kind).toBe('data');
    expect(Buffer.from(routedBytes(input, routed)).equals(Buffer.from(bytes))).toBe(true);
    // Every record written as it arrived shares one route object.
    expect(route(record(envelope({ n: 1 })))).toBe(routed);
  });

  it('writes only the exact data when asked', () => {
    const route = createRecordRouter({
      recordContent: 'data',
      invalidRecordPolicy: 'error-output',
      partitionQueries: new Map(),
    });
    const input = record(envelope({ n: 12345678901234567890n }));
    const routed = route(input);
    expect(new TextDecoder().decode(routedBytes(input, routed))).toBe('{"n":12345678901234567890}');
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
    expect(line.errorMessage).toMatch(/^Not an event envelope: /);
    expect(line.errorMessage).not.toMatch(/Not an event envelope.*Not an event envelope/);
  });

  it('writes the same error line for an invalid record whether it checks or decodes envelopes', () => {
    // `envelope` content without partitioning only checks each record (checkEnvelope); `data` content
    // decodes it. The error output must not depend on which: same reason, same bytes.
    const checking = createRecordRouter({
      recordContent: 'envelope',
      invalidRecordPolicy: 'error-output',
      partitionQueries: new Map(),
    });
    const decoding = createRecordRouter({
      recordContent: 'data',
      invalidRecordPolicy: 'error-output',
      partitionQueries: new Map(),
    });
    const at = '2026-11-25T16:00:00.000Z';
    const invalid = [
      'not json {',
      '{"id":1}',
      `{"eventId":"a b","receivedAt":"${at}","data":1}`,
      `{"eventId":"e","receivedAt":"2026-13-25T16:00:00.000Z","data":1}`,
      `{"eventId":"e","receivedAt":"2026-11-25T16:60:00.000Z","data":1}`,
      `{"eventId":"e","receivedAt":"${at}","data":{"a":}}`,
      `{"eventId":"e","receivedAt":"${at}","data":"\\ud800"}`,
      `{"eventId":"e","receivedAt":"${at}","data":1}x`,
      `{"eventId":"e","receivedAt":"${at}"}`,
    ];
    for (const text of invalid) {
      const input = record(text, '300');
      const checked = checking(input);
      expect(checked).toMatchObject({ kind: 'error', errorOutputType: 'processing-failed' });
      expect(Buffer.from(routedBytes(input, checked)).toString()).toBe(
        Buffer.from(routedBytes(input, decoding(input))).toString(),
      );
      const line = JSON.parse(Buffer.from(routedBytes(input, checked)).toString());
      expect(line.errorMessage).toBe(
        (() => {
          try {
            decodeEnvelope(input.data);
          } catch (error) {
            return (error as Error).message;
          }
          throw new Error(`${text} decoded`);
        })(),
      );
    }
  });

  it('archives invalid records as they are with the archive policy', () => {
    const route = createRecordRouter({
      recordContent: 'envelope',
      invalidRecordPolicy: 'archive',
      partitionQueries: new Map(),
    });
    const input = record('plain text');
    const routed = route(input);
    expect(routed.kind).toBe('data');
    expect(new TextDecoder().decode(routedBytes(input, routed))).toBe('plain text');
  });

  describe('each kind of bad record goes to the error output, never throws', () => {
    const deep = (depth: number) =>
      `{"eventId":"ev-1","receivedAt":"2026-11-25T16:00:00.000Z","data":${'{"a":'.repeat(depth)}123456789012345678901${'}'.repeat(depth)}}`;
    const partitioned = (invalidRecordPolicy: 'error-output' | 'archive') =>
      createRecordRouter({
        recordContent: 'envelope',
        invalidRecordPolicy,
        partitionQueries: new Map([['type', query('data.event_type')]]),
      });
    const cases = [
      {
        kind: 'not JSON',
        data: 'not json {',
        policy: 'error-output',
        type: 'processing-failed',
        code: 'EnvelopeDecodeError',
      },
      {
        kind: 'JSON, not an envelope (another writer)',
        data: '{"id":1,"payload":"x"}',
        policy: 'error-output',
        type: 'processing-failed',
        code: 'EnvelopeDecodeError',
      },
      {
        kind: 'envelope with unparsable data',
        data: '{"eventId":"ev-1","receivedAt":"2026-11-25T16:00:00.000Z","data":{"a":}}',
        policy: 'error-output',
        type: 'processing-failed',
        code: 'EnvelopeDecodeError',
      },
      {
        kind: 'not an envelope, archive policy, partitioned',
        data: 'plain text',
        policy: 'archive',
        type: 'partitioning-failed',
        code: 'PartitioningFailed',
      },
      {
        kind: 'data nested 20,000 deep (RangeError in the parser)',
        data: deep(20_000),
        policy: 'error-output',
        type: 'partitioning-failed',
        code: 'PartitioningFailed',
      },
      {
        kind: 'query finds no value',
        data: '{"eventId":"ev-1","receivedAt":"2026-11-25T16:00:00.000Z","data":{"x":1}}',
        policy: 'error-output',
        type: 'partitioning-failed',
        code: 'PartitioningFailed',
      },
      {
        kind: 'query selects an object',
        data: '{"eventId":"ev-1","receivedAt":"2026-11-25T16:00:00.000Z","data":{"event_type":{"a":1}}}',
        policy: 'error-output',
        type: 'partitioning-failed',
        code: 'PartitioningFailed',
      },
    ] as const;
    it.each(cases)('$kind → $type', ({ data, policy, type, code }) => {
      const routed = partitioned(policy)(record(data, '200'));
      expect(routed).toMatchObject({ kind: 'error', errorOutputType: type });
      const line = JSON.parse(new TextDecoder().decode(routed.bytes));
      expect(line.errorCode).toBe(code);
      expect(line.sequenceNumber).toBe('200');
      expect(Buffer.from(line.rawData, 'base64').toString()).toBe(data);
      // The same record always gets the same bytes: a redone range gives the same error object.
      expect(partitioned(policy)(record(data, '200')).bytes).toEqual(routed.bytes);
    });

    it('names the parser failure of too-deep data', () => {
      const routed = partitioned('error-output')(record(deep(20_000)));
      expect(routed.kind === 'error' && routed.reason).toContain('RangeError');
    });
  });
});
