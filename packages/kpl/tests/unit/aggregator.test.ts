import { createHash } from 'node:crypto';
import { seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  AggregationError,
  aggregate,
  ConfigurationError,
  deaggregate,
  effectiveHashKey,
  MAX_RECORD_BYTES,
  type OuterRecord,
  RecordAggregator,
  type UserRecord,
} from '../../src/index.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const keyBytes = (key: string): number => Buffer.byteLength(key, 'utf8');

/**
 * Reference encoder, written straight from messages.proto with plain arrays and no size accounting: the
 * independent ledger that aggregate() and RecordAggregator are checked against.
 */
function referenceAggregate(records: readonly UserRecord[]): Uint8Array {
  const varint = (n: number): Uint8Array => {
    const out: number[] = [];
    while (n >= 128) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Uint8Array.from(out);
  };
  const delimited = (tag: number, payload: Uint8Array): Buffer =>
    Buffer.concat([Uint8Array.of(tag), varint(payload.length), payload]);
  const pkTable: string[] = [];
  const ehkTable: string[] = [];
  const body: Uint8Array[] = [];
  for (const r of records) {
    if (!pkTable.includes(r.partitionKey)) pkTable.push(r.partitionKey);
    if (r.explicitHashKey !== undefined && !ehkTable.includes(r.explicitHashKey))
      ehkTable.push(r.explicitHashKey);
    const message = [Uint8Array.of(0x08), varint(pkTable.indexOf(r.partitionKey))];
    if (r.explicitHashKey !== undefined)
      message.push(Uint8Array.of(0x10), varint(ehkTable.indexOf(r.explicitHashKey)));
    message.push(delimited(0x1a, r.data));
    body.push(delimited(0x1a, Buffer.concat(message)));
  }
  const protobuf = Buffer.concat([
    ...pkTable.map((k) => delimited(0x0a, utf8(k))),
    ...ehkTable.map((k) => delimited(0x12, utf8(k))),
    ...body,
  ]);
  return Buffer.concat([
    Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2),
    protobuf,
    createHash('md5').update(protobuf).digest(),
  ]);
}

/** Whether two byte arrays hold the same bytes (fast, for large arrays). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

/** What Kinesis would count for `records` flushed as one outer record, by the reference encoder. */
function referenceSize(records: readonly UserRecord[]): number {
  const first = records[0]!;
  const startsWithMagic =
    first.data.length >= 20 && [...first.data.subarray(0, 4)].join() === '243,137,154,194';
  const data = records.length === 1 && !startsWithMagic ? first.data : referenceAggregate(records);
  return keyBytes(first.partitionKey) + data.length;
}

/** The user records an outer record carries, as a consumer sees them. */
function unpack(outer: OuterRecord): UserRecord[] {
  return (
    deaggregate(outer.data) ?? [
      { partitionKey: outer.partitionKey, explicitHashKey: outer.explicitHashKey, data: outer.data },
    ]
  ).map((r) => ({ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: r.data }));
}

describe('aggregate against the reference encoder', () => {
  it('writes the same bytes for random record sets (seeded)', () => {
    const seed = testSeed('kpl aggregate reference');
    const random = seededRandom(seed);
    for (let round = 0; round < 80; round++) {
      const records = Array.from({ length: 1 + Math.floor(random() * 200) }, () => randomRecord(random));
      expect(sameBytes(aggregate(records), referenceAggregate(records)), `round ${round}`).toBe(true);
    }
  }, 60_000); // seeded: thousands of records, CPU-bound (seconds on a loaded 2-core machine)
});

describe('aggregate with more than 127 distinct keys (two-byte table indexes)', () => {
  it('writes the same bytes as the reference encoder', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({
      partitionKey: `key-${i}`,
      explicitHashKey: String(i * 7),
      data: utf8(`value ${i}`),
    }));
    const encoded = aggregate(records);
    expect(sameBytes(encoded, referenceAggregate(records))).toBe(true);
    expect(deaggregate(encoded)?.[299]).toMatchObject({ partitionKey: 'key-299', explicitHashKey: '2093' });
  });
});

describe('RecordAggregator', () => {
  it('keeps sizeBytes equal to the flushed size and never exceeds the limit (seeded)', () => {
    const seed = testSeed('kpl aggregator');
    const random = seededRandom(seed);
    let flushes = 0;
    let refusals = 0;
    for (let round = 0; round < 30; round++) {
      const maxRecordBytes = 1_000 + Math.floor(random() * 20_000);
      const aggregator = new RecordAggregator({ maxRecordBytes });
      const sent: UserRecord[] = []; // ledger: every record handed to the aggregator
      const received: UserRecord[] = []; // every record a consumer gets back from the flushed records
      let pending: UserRecord[] = [];
      const flush = (): void => {
        const expectedSize = aggregator.sizeBytes;
        const outer = aggregator.flush()!;
        flushes++;
        expect(keyBytes(outer.partitionKey) + outer.data.length).toBe(expectedSize);
        expect(expectedSize).toBe(referenceSize(pending));
        expect(expectedSize).toBeLessThanOrEqual(maxRecordBytes);
        expect(outer.userRecordCount).toBe(pending.length);
        expect(outer.partitionKey).toBe(pending[0]!.partitionKey);
        expect(effectiveHashKey(outer)).toBe(effectiveHashKey(pending[0]!));
        received.push(...unpack(outer));
        pending = [];
        expect(aggregator.recordCount).toBe(0);
        expect(aggregator.sizeBytes).toBe(0);
      };
      for (let i = 0; i < 300; i++) {
        const record = randomRecord(random, maxRecordBytes);
        sent.push(record);
        if (!aggregator.tryAdd(record)) {
          refusals++;
          // Refused only when it really would not fit.
          expect(referenceSize([...pending, record])).toBeGreaterThan(maxRecordBytes);
          expect(aggregator.recordCount).toBe(pending.length);
          flush();
          expect(aggregator.tryAdd(record)).toBe(true);
        }
        pending.push(record);
        expect(aggregator.recordCount).toBe(pending.length);
        expect(aggregator.sizeBytes).toBe(referenceSize(pending));
      }
      flush();
      expect(aggregator.flush()).toBeUndefined();
      expect(received).toHaveLength(sent.length);
      received.forEach((r, i) => {
        const s = sent[i]!;
        expect([r.partitionKey, r.explicitHashKey], `record ${i}`).toEqual([
          s.partitionKey,
          s.explicitHashKey,
        ]);
        expect(sameBytes(r.data, s.data), `record ${i}`).toBe(true);
      });
    }
    expect(refusals).toBeGreaterThan(0);
    expect(flushes).toBeGreaterThan(30);
  }, 60_000); // seeded: thousands of records, CPU-bound (seconds on a loaded 2-core machine)

  it('fills records up to 1 MiB by default', () => {
    const aggregator = new RecordAggregator();
    expect(aggregator.maxRecordBytes).toBe(MAX_RECORD_BYTES);
    const data = new Uint8Array(1000).fill(1);
    let added = 0;
    while (aggregator.tryAdd({ partitionKey: `k${added % 7}`, data })) added++;
    const size = aggregator.sizeBytes;
    expect(size).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    expect(size).toBeGreaterThan(MAX_RECORD_BYTES - 1010); // one more 1000-byte record did not fit
    const outer = aggregator.flush()!;
    expect(outer.userRecordCount).toBe(added);
    expect(deaggregate(outer.data)).toHaveLength(added);
  });

  it('sends a lone record as it is, with its own keys', () => {
    const aggregator = new RecordAggregator();
    const record = { partitionKey: 'solo', explicitHashKey: '12345', data: utf8('{"x":1}') };
    expect(aggregator.tryAdd(record)).toBe(true);
    expect(aggregator.sizeBytes).toBe(4 + 7);
    const outer = aggregator.flush()!;
    expect(outer).toEqual({ ...record, userRecordCount: 1 });
    expect(outer.data).toBe(record.data);
    expect(deaggregate(outer.data)).toBeUndefined();
  });

  it('aggregates a lone record whose data looks like an aggregate, so that it reads back unchanged', () => {
    const inner = aggregate([{ partitionKey: 'x', data: utf8('nested') }]);
    const aggregator = new RecordAggregator();
    aggregator.tryAdd({ partitionKey: 'outer', data: inner });
    const outer = aggregator.flush()!;
    expect(outer.data).not.toBe(inner);
    expect(unpack(outer)).toEqual([{ partitionKey: 'outer', explicitHashKey: undefined, data: inner }]);
  });

  it('gives the aggregate the first record’s explicit hash key so it lands on that shard', () => {
    const aggregator = new RecordAggregator();
    aggregator.tryAdd({ partitionKey: 'a', explicitHashKey: '99', data: utf8('1') });
    aggregator.tryAdd({ partitionKey: 'b', explicitHashKey: '100', data: utf8('2') });
    const outer = aggregator.flush()!;
    expect(outer.partitionKey).toBe('a');
    expect(outer.explicitHashKey).toBe('99');
    const plain = new RecordAggregator();
    plain.tryAdd({ partitionKey: 'a', data: utf8('1') });
    plain.tryAdd({ partitionKey: 'b', data: utf8('2') });
    expect(plain.flush()!.explicitHashKey).toBeUndefined();
  });

  it('counts the outer partition key in UTF-8 bytes against the limit', () => {
    const key = '€'.repeat(100); // 300 UTF-8 bytes
    const data = new Uint8Array(700);
    const exact = new RecordAggregator({ maxRecordBytes: 1000 });
    expect(exact.tryAdd({ partitionKey: key, data })).toBe(true);
    expect(exact.sizeBytes).toBe(1000);
    expect(() => new RecordAggregator({ maxRecordBytes: 999 }).tryAdd({ partitionKey: key, data })).toThrow(
      AggregationError,
    );
  });

  it('refuses a record without changing anything, and accepts it after a flush', () => {
    const aggregator = new RecordAggregator({ maxRecordBytes: 200 });
    expect(aggregator.tryAdd({ partitionKey: 'a', data: new Uint8Array(100) })).toBe(true);
    const before = aggregator.sizeBytes;
    expect(aggregator.tryAdd({ partitionKey: 'new-key', data: new Uint8Array(80) })).toBe(false);
    expect(aggregator.sizeBytes).toBe(before);
    expect(aggregator.recordCount).toBe(1);
    expect(aggregator.flush()!.userRecordCount).toBe(1);
    expect(aggregator.tryAdd({ partitionKey: 'new-key', data: new Uint8Array(80) })).toBe(true);
  });

  it('rejects invalid records and options with clear errors', () => {
    const aggregator = new RecordAggregator();
    expect(() => aggregator.tryAdd({ partitionKey: '', data: new Uint8Array() })).toThrow(AggregationError);
    expect(() =>
      aggregator.tryAdd({ partitionKey: 'k', explicitHashKey: 'abc', data: new Uint8Array() }),
    ).toThrow(/explicitHashKey/);
    expect(() => aggregator.tryAdd({ partitionKey: 'k', data: new Uint8Array(MAX_RECORD_BYTES) })).toThrow(
      AggregationError,
    );
    expect(aggregator.recordCount).toBe(0);
    aggregator.tryAdd({ partitionKey: 'k', data: utf8('small') });
    const big = { partitionKey: 'k', data: new Uint8Array(MAX_RECORD_BYTES) };
    expect(() => aggregator.tryAdd(big)).toThrow(AggregationError); // not a mere "does not fit now"
    expect(aggregator.recordCount).toBe(1);
    for (const maxRecordBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new RecordAggregator({ maxRecordBytes }), String(maxRecordBytes)).toThrow(
        ConfigurationError,
      );
    }
  });
});

/** A record with a key from a small pool (so tables are shared) or a random unicode one, and random data. */
function randomRecord(random: () => number, maxRecordBytes = 40_000): UserRecord {
  const alphabet = ['a', 'Z', '9', 'é', '€', '😀', '\uFEFF', '-'];
  const partitionKey =
    random() < 0.6
      ? `pool-${Math.floor(random() * 5)}`
      : Array.from(
          { length: 1 + Math.floor(random() * (random() < 0.1 ? 120 : 12)) },
          () => alphabet[Math.floor(random() * alphabet.length)],
        ).join('');
  const roll = random();
  const explicitHashKey =
    roll < 0.2
      ? String(Math.floor(random() * 4))
      : roll < 0.3
        ? (BigInt(Math.floor(random() * 2 ** 52)) << 76n).toString()
        : undefined;
  const sizeRoll = random();
  const length =
    sizeRoll < 0.1
      ? 0
      : sizeRoll < 0.7
        ? Math.floor(random() * 130)
        : Math.floor(random() * Math.min(20_000, maxRecordBytes / 3));
  const data = Uint8Array.from({ length }, () => Math.floor(random() * 256));
  return explicitHashKey === undefined ? { partitionKey, data } : { partitionKey, explicitHashKey, data };
}
