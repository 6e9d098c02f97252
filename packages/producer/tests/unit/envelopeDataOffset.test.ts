import { Buffer } from 'node:buffer';
import { encodeEnvelope } from '@shardline/ingest';
import { describe, expect, it } from 'vitest';
import { envelopeDataOffset } from '../../src/internal/envelopeDataOffset.js';

describe('envelopeDataOffset', () => {
  it.each([
    ['a short id, now', 'e', Date.now()],
    ['a 128-character id', 'x'.repeat(128), Date.parse('2026-11-25T16:38:00.123Z')],
    ['a time past year 9999 (a 27-character receivedAt)', 'evt-1', Date.parse('+010000-01-01T00:00:00.000Z')],
  ])('finds where data starts: %s', (_name, eventId, receivedAt) => {
    const data = { a: 1, s: '","data":' };
    const envelope = encodeEnvelope({ eventId, receivedAt, data });
    const offset = envelopeDataOffset(envelope, eventId.length);
    expect(Buffer.from(envelope).toString('utf8', offset, envelope.byteLength - 1)).toBe(
      JSON.stringify(data),
    );
  });
});
